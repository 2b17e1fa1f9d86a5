// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core,
// for the live page's tests: launch flags that suit a machine with a closed
// network, a console watcher that fails a test on any error the page logs,
// screenshots under tests/output/, and a recorder of the connection badge.

import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
export const OUTPUT_DIR = path.join(root, "tests/output/live-page");

// playwright adds --headless and a new, empty --user-data-dir of its own
// for every launch; the rest keeps Chromium off the network and quiet.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

export async function launch() {
  if (!fs.existsSync(CHROMIUM_BIN)) {
    throw new Error(`${CHROMIUM_BIN} not found: install Debian's chromium (conf/install-deps.sh does)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: ARGS });
}

// Records every console error and uncaught exception of a page. Errors the
// test provokes on purpose (a stopped server, an aborted request) are
// allowed while their pattern is in `allowed`.
export function watchConsole(page, label) {
  const w = { label, errors: [], expected: [], allowed: [] };
  const note = (text) => {
    if (w.allowed.some((re) => re.test(text))) w.expected.push(text);
    else w.errors.push(text);
  };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const loc = m.location();
    note(`${m.text()}${loc?.url ? ` (${loc.url}:${loc.lineNumber})` : ""}`);
  });
  page.on("pageerror", (e) => note(`pageerror: ${e.stack || e.message}`));
  page.on("requestfailed", (r) => {
    // Failed requests show as console errors too; keep the URL for the
    // report. A request the page itself cancelled is no error.
    const why = r.failure()?.errorText ?? "";
    if (why === "net::ERR_ABORTED") return;
    const text = `request failed: ${r.method()} ${r.url()} ${why}`;
    if (w.allowed.some((re) => re.test(text))) w.expected.push(text);
    else w.errors.push(text);
  });
  return w;
}

export async function shot(page, name, opts = {}) {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...opts });
  return file;
}

// Keeps every text the connection badge shows in window.__badge, so a
// state that lasts a few milliseconds is seen too.
export async function recordBadge(page) {
  await page.evaluate(() => {
    const text = document.getElementById("conn-text");
    window.__badge = [text.textContent];
    new MutationObserver(() => window.__badge.push(text.textContent)).observe(text, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

export const badgeHistory = (page) => page.evaluate(() => window.__badge ?? []);

// A REST call from the test itself: {status, body}.
export async function api(url, method, p, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}
