// A page on its own localhost origin that loads sparrow.js from the splitter,
// sends a pageview, a track with personal data in a property, identifies the
// user, sends one more event and navigates away at once (the beacon must still
// arrive). Prints what it did as one JSON line for the C++ test.
// Usage: node sparrow_page.mjs PAGE_PORT SPLITTER_ORIGIN
import http from 'node:http';
import { chromium } from 'playwright-core';

const [pagePort, splitter] = process.argv.slice(2);
const first = `<!doctype html><html><head><title>Checkout</title>
<script src="${splitter}/sdk/sparrow.js"></script></head><body><h1>Checkout</h1>
<script>
  sparrow.pageview('/checkout');
  sparrow.track('signup', { plan: 'pro', note: 'mail me at jane.doe@example.com' });
  sparrow.identify('user-42');
  window.sparrowReady = true;
</script></body></html>`;
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(req.url === '/next' ? '<!doctype html><title>Next</title><p>next page</p>' : first);
});
await new Promise((resolve) => server.listen(Number(pagePort), '127.0.0.1', resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
});
try {
  const page = await browser.newPage();
  const sdk = [];
  page.on('response', (r) => { if (r.url().includes('/sdk/sparrow.js')) sdk.push(r.status()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${pagePort}/`, { waitUntil: 'load', timeout: 15000 });
  await page.waitForFunction(() => window.sparrowReady === true, null, { timeout: 15000 });
  const deviceId = await page.evaluate(() => localStorage.getItem('sparrow.deviceId'));
  // The last event and the navigation in one task: only the beacon can carry it.
  await Promise.all([
    page.waitForURL(`http://127.0.0.1:${pagePort}/next`, { timeout: 15000 }),
    page.evaluate(() => {
      sparrow.track('purchase product', { category: 'books', productName: 'Atlas' });
      location.href = '/next';
    }),
  ]);
  console.log(JSON.stringify({ msg: 'sparrow', deviceId, sdk, errors, url: page.url() }));
} finally {
  await browser.close();
  server.close();
}
