// What the browser scripts share: launching headless Chromium for a test run.

import { chromium } from "playwright-core";

// Launches CHROMIUM, else /usr/bin/chromium, headless and without any of the
// browser's own network traffic (updates, sync), so a run's requests are the
// page's alone.
export async function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
