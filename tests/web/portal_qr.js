// portal_qr.js URL SHOTS NAME=COOKIE... - the customer portal's QR box in
// Debian's headless chromium (playwright-core, as portal.js). Run by
// tests/integration/portal_qr_none.sh: for each customer, a browser context
// with their portal session cookie (made by curl from their e-mailed link)
// opens /portal/ and prints "NOQR name|lang|why|text" when no code is shown
// (why: the line's data-why), else "QR name|shown|card" with the code's
// screenshot in SHOTS/NAME-qr.png for zbarimg; SHOTS/NAME.png the page.
'use strict';
const { launch } = require('./lib.js');

const [url, shots, ...who] = process.argv.slice(2);

async function main() {
  const browser = await launch();
  try {
    for (const w of who) {
      const [name, cookie] = w.split('=');
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: 'leal_portal', value: cookie, url: url + '/portal/' }]);
      const page = await ctx.newPage();
      await page.goto(url + '/portal/');
      await page.waitForSelector('#page-me:not([hidden])');
      await page.waitForSelector('#qr-none[data-why], #qr-code:not([hidden])');
      if (await page.isVisible('#qr-code')) {
        await page.waitForFunction(() => document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0);
        await page.locator('#qr').screenshot({ path: shots + '/' + name + '-qr.png' });
        const card = await page.evaluate(() => [...document.querySelectorAll('#cards li')].map((li) => li.textContent)
          .filter((t) => /^QR code /.test(t)).map((t) => t.split(' ')[2]).join(','));
        console.log('QR ' + [name, 'shown', card].join('|'));
      } else {
        console.log('NOQR ' + [name, await page.evaluate(() => document.documentElement.lang),
          await page.getAttribute('#qr-none', 'data-why'), await page.textContent('#qr-none')].join('|'));
      }
      await page.screenshot({ path: shots + '/' + name + '.png', fullPage: true });
      await ctx.close();
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
