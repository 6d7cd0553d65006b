// Runs axe-core in headless Chromium on pages of a served site, at desktop and
// phone widths, and prints what it found.
//
// Usage: node axe.mjs <base-url> <cases-json>
//   base-url    e.g. http://127.0.0.1:PORT/ (the site's root, ending in '/')
//   cases-json  [{"path": "search/?q=x", "ready": "<JS expression>"}...]; ready is optional:
//               a condition evaluated in the page that must hold before axe runs
//               (for content that scripts render after load)
// Prints one JSON object on stdout:
//   {"runs": [{"path", "viewport", "violations": [{"id", "impact", "help", "nodes": [{"target", "html", "summary"}]}],
//              "incomplete": [{"id", "nodes": [{"target", "summary"}]}] (what axe could not decide)}],
//    "requests": [every URL the pages asked for], "errors": [page errors and console errors]}
// The browser is CHROMIUM, else /usr/bin/chromium.

import { createRequire } from "node:module";
import { launchChromium } from "./lib.mjs";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");

const [base, casesJson] = process.argv.slice(2);
if (!base || !casesJson) {
  console.error("usage: node axe.mjs <base-url> <cases-json>");
  process.exit(2);
}
const cases = JSON.parse(casesJson);
const viewports = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
];

const browser = await launchChromium();
const requests = [];
const errors = [];
const runs = [];
try {
  for (const vp of viewports) {
    const context = await browser.newContext({
      viewport: { width: vp.width, height: vp.height },
      isMobile: vp.name === "phone",
      hasTouch: vp.name === "phone",
    });
    context.on("request", (r) => requests.push(r.url()));
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
    page.on("console", (m) => {
      // Chromium logs every failed load as a console error; those are reported
      // below, by URL, except the 404 page's own (its status is meant).
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
        errors.push(`${page.url()}: console: ${m.text()}`);
      }
    });
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.request().isNavigationRequest()) {
        errors.push(`${page.url()}: ${r.status()} for ${r.url()}`);
      }
    });
    for (const c of cases) {
      await page.goto(base + c.path, { waitUntil: "load" });
      if (c.ready) {
        await page.waitForFunction(c.ready, null, { timeout: 15000 });
      }
      // Inlined from node_modules, so axe itself asks the server for nothing.
      await page.addScriptTag({ path: axePath });
      const result = await page.evaluate(() =>
        // Every rule axe enables by default: WCAG 2.x A and AA, and best practices.
        window.axe.run(document, { resultTypes: ["violations", "incomplete"] }),
      );
      runs.push({
        path: c.path,
        viewport: vp.name,
        violations: result.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.map((n) => ({
            target: n.target.join(" "),
            html: n.html,
            summary: n.failureSummary,
          })),
        })),
        incomplete: result.incomplete.map((v) => ({
          id: v.id,
          nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
        })),
      });
    }
    await context.close();
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ runs, requests, errors }) + "\n");
