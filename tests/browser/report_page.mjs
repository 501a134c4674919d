// Loads compare's report page in Debian's Chromium (headless) and prints, as one
// JSON line, what a person sees on it; the C++ test asserts on that line.
// Usage: node report_page.mjs URL SCREENSHOT.png
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const foreign = [];  // requests that leave the page's own origin
  const origin = new URL(url).origin;
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  const response = await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  await page.waitForSelector('#verdict', { timeout: 15000 });

  const text = (sel) => page.$eval(sel, (e) => e.innerText.trim()).catch(() => null);
  // A column by its header's text, so a column added to the page moves nothing.
  const column = (table, name) => page.$$eval(`${table} tr`, (rows, n) => {
    if (rows.length === 0) return [];
    const c = [...rows[0].cells].findIndex((h) => h.innerText.trim() === n);
    return rows.slice(1).map((r) => (c >= 0 && r.cells[c] ? r.cells[c].innerText.trim() : ''));
  }, name);
  const drift = await page.$eval('#drift', (svg) => {
    const box = svg.getBoundingClientRect();
    return { bars: svg.querySelectorAll('rect.bar').length, width: box.width, height: box.height,
             titles: [...svg.querySelectorAll('rect.bar title')].map((t) => t.textContent) };
  }).catch(() => null);

  const seen = {
    msg: 'page',
    status: response.status(),
    csp: response.headers()['content-security-policy'] || '',
    title: await page.title(),
    refresh: await page.$eval('meta[http-equiv="refresh"]', (m) => m.content).catch(() => null),
    verdict: await text('#verdict'),
    verdictColor: await page.$eval('#verdict', (e) => getComputedStyle(e).backgroundColor),
    live: await text('#live'),
    candidate: await text('#candidate'),
    evidence: await text('#evidence'),
    needed: await text('#needed'),
    reasons: await page.$$eval('#reasons li', (l) => l.map((e) => e.innerText.trim())),
    drift,
    windows: await column('#windows', 'judged'),
    events: await column('#events', 'event'),
    missingInCandidate: (await column('#events', 'missing in candidate')).map(Number),
    fields: await column('#fields', 'field'),
    fieldChanges: await column('#fields', 'change'),
    foreign,
    consoleErrors,
    scriptTags: await page.$$eval('script', (s) => s.length),
  };
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
