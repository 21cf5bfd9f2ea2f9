/* global process, URL */
// One Lighthouse audit at mobile (its defaults), for scripts/lighthouse:
//   node scripts/lighthouse-audit.mjs LIGHTHOUSE_DIR URL REPORT.json [COOKIE_NAME=VALUE]
// The cookie goes into the browser's cookie jar before the audit, as signing in would put it there
// (a request header would miss the requests the page's service worker makes). Lighthouse keeps
// cookies when it resets the origin's storage.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [lighthouseDir, url, report, cookie] = process.argv.slice(2);
const modules = path.join(lighthouseDir, "node_modules");
const require = createRequire(path.join(modules, "noop.js"));
const puppeteer = require("puppeteer-core");
const { default: lighthouse } = await import(pathToFileURL(path.join(modules, "lighthouse/core/index.js")).href);

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage();
  if (cookie) {
    const at = cookie.indexOf("=");
    await page.setCookie({ name: cookie.slice(0, at), value: cookie.slice(at + 1), url: new URL(url).origin });
  }
  const result = await lighthouse(
    url,
    { output: "json", logLevel: "error", onlyCategories: ["performance", "accessibility", "best-practices"] },
    undefined,
    page,
  );
  fs.writeFileSync(report, result.report);
} finally {
  await browser.close();
}
