// Searches a served site in headless Chromium and prints what each search found.
//
// Usage: node search.mjs <base-url> <cases-json>
//   base-url    e.g. http://127.0.0.1:PORT/ (the site's root, ending in '/')
//   cases-json  [{"query": "morketid", "params": "tier=Impala+Gold"}...]; params optional
// Prints one JSON object on stdout:
//   {"cases": [{"query", "params", "status", "results": [{"title", "href"}]}],
//    "requests": [every URL the pages asked for], "errors": [page errors and console errors]}
// The browser is CHROMIUM, else /usr/bin/chromium.

import { launchChromium } from "./lib.mjs";

const [base, casesJson] = process.argv.slice(2);
if (!base || !casesJson) {
  console.error("usage: node search.mjs <base-url> <cases-json>");
  process.exit(2);
}
const cases = JSON.parse(casesJson);

const browser = await launchChromium();
const requests = [];
const errors = [];
const out = [];
try {
  const context = await browser.newContext();
  context.on("request", (r) => requests.push(r.url()));
  for (const c of cases) {
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(`${c.query}: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${c.query}: console: ${m.text()}`);
    });
    await page.goto(`${base}search/${c.params ? "?" + c.params : ""}`);
    // The form is shown once pagefind.js has loaded.
    await page.locator("#search-q").waitFor({ state: "visible", timeout: 15000 });
    if (c.query) {
      await page.fill("#search-q", c.query);
      await page.press("#search-q", "Enter");
    }
    // Settled: a count (or "No result.") for the current query, and every shown item rendered.
    await page.waitForFunction(
      (q) => document.getElementById("search-results").dataset.query === q,
      c.query || "",
      { timeout: 15000 },
    );
    const status = await page.textContent("#search-status");
    const results = await page.$$eval("#search-results .search-result h2 a", (as) =>
      as.map((a) => ({ title: a.textContent, href: a.getAttribute("href") })),
    );
    out.push({ query: c.query || "", params: c.params || "", status, results });
    await page.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ cases: out, requests, errors }) + "\n");
