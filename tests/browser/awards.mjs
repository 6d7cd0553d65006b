// Drives the /awards/ table of a served site in headless Chromium: opens a
// shared (filtered, sorted) URL, clicks sort buttons, changes filters and
// resets them, and prints what the page showed after each step.
//
// Usage: node awards.mjs <base-url>
//   base-url  e.g. http://127.0.0.1:PORT/ (the site's root, ending in '/')
// Prints one JSON object on stdout:
//   {"steps": [{"name", "search", "status", "visible": [row ids], "sort": [key, aria-sort],
//               "selects": {tier, year, label, country}}],
//    "requests": [every URL the page asked for], "errors": [page and console errors]}
// The browser is CHROMIUM, else /usr/bin/chromium.

import { launchChromium } from "./lib.mjs";

const [base] = process.argv.slice(2);
if (!base) {
  console.error("usage: node awards.mjs <base-url>");
  process.exit(2);
}
const browser = await launchChromium();
const requests = [];
const errors = [];
const steps = [];
try {
  const context = await browser.newContext();
  context.on("request", (r) => requests.push(r.url()));
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  const snap = async (name) => {
    steps.push({
      name,
      ...(await page.evaluate(() => {
        const sorted = document.querySelector("#awards-table th[aria-sort]");
        const select = (n) => document.querySelector(`#awards-filters [name=${n}]`).value;
        return {
          search: window.location.search,
          status: document.getElementById("awards-status").textContent,
          visible: Array.from(document.querySelectorAll("#awards-table tbody tr"))
            .filter((r) => !r.hidden && r.offsetParent !== null)
            .map((r) => r.id),
          sort: sorted ? [sorted.dataset.key, sorted.getAttribute("aria-sort")] : null,
          selects: { tier: select("tier"), year: select("year"), label: select("label"), country: select("country") },
        };
      })),
    });
  };
  const header = (key) => page.locator(`#awards-table th[data-key=${key}] button`);

  await page.goto(`${base}awards/?tier=silver&country=DE&sort=units&order=asc`);
  await page.locator("#awards-filters").waitFor({ state: "visible", timeout: 15000 });
  await snap("shared url");
  await header("units").click();
  await snap("units clicked");
  await page.selectOption("#filter-tier", "");
  await page.selectOption("#filter-year", "2021");
  await snap("year 2021");
  await page.click("#awards-filters button[type=reset]");
  await page.waitForFunction(() => !window.location.search.includes("year="));
  await snap("reset");
  await header("release").focus();
  await page.keyboard.press("Enter");
  await snap("release by keyboard");
  await header("date").click();
  await snap("date clicked");
  await page.selectOption("#filter-label", "disques-eclat");
  await snap("label");
} finally {
  await browser.close();
}
console.log(JSON.stringify({ steps, requests, errors }));
