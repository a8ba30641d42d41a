// spend.js MODE URL SHOTS TOKEN [ES-TOKEN] - the portal's spending-code page
// (/portal/spend/) in Debian's headless chromium (playwright-core, no browser
// download), signed in with the portal session TOKEN. Run by
// tests/integration/qr_certifier.sh; prints "CHECK name<TAB>expected<TAB>actual"
// lines and the codes shown ("CODE1 text", "CODE2 text").
//   unavailable  no QR certifier runs: the page says so in one line (and in
//                Spanish to the customer of a Spanish program, token ES-TOKEN)
//   enrol        the page makes the phone's key (WebCrypto Ed25519), enrols it,
//                shows a code (SHOTS/spend-code.png), then, offline and
//                reloaded (its service worker's cache), the next code
//                (SHOTS/spend-offline.png)
'use strict';
const { launch, check } = require('./lib.js');

const [mode, url, shots, token, esToken] = process.argv.slice(2);

async function main() {
  const browser = await launch();
  try {
    const context = await browser.newContext();
    const host = new URL(url).hostname;
    await context.addCookies([{ name: 'leal_portal', value: token, domain: host, path: '/portal/', httpOnly: true, sameSite: 'Strict' }]);
    const page = await context.newPage();
    // The page draws a new code at each 30-second step: the clock is faked
    // (it runs as the real one until paused below), so that no step ends
    // between the checks of the codes' counters.
    await page.clock.install();
    await page.goto(url + '/portal/spend/');
    if (mode === 'unavailable') {
      await page.waitForSelector('#message:not([hidden])');
      check('without a certifier the page says enrolment is unavailable, in one line',
        'Setting up a phone for spending codes is unavailable right now; try again later.', await page.textContent('#message'));
      check('and offers no enrolment nor a code', 'true true', `${await page.isHidden('#enrol')} ${await page.isHidden('#code')}`);
      await page.screenshot({ path: shots + '/spend-unavailable.png', fullPage: true });
      const es = await browser.newContext();
      await es.addCookies([{ name: 'leal_portal', value: esToken, domain: host, path: '/portal/', httpOnly: true, sameSite: 'Strict' }]);
      const esPage = await es.newPage();
      await esPage.goto(url + '/portal/spend/');
      await esPage.waitForSelector('#message:not([hidden])');
      await esPage.waitForFunction(() => document.documentElement.lang === 'es');
      check('in Spanish for a Spanish program\'s customer', 'es|Mi código de pago|Ahora no se puede configurar un móvil para pagar con código; inténtalo más tarde.',
        [await esPage.evaluate(() => document.documentElement.lang), await esPage.textContent('h1'), await esPage.textContent('#message')].join('|'));
      return;
    }
    await page.waitForSelector('#enrol:not([hidden])');
    await page.screenshot({ path: shots + '/spend-enrol.png', fullPage: true });
    await page.clock.pauseAt(Date.now() + 1000);
    await page.click('#enrol-button');
    await page.waitForSelector('#code:not([hidden]) #code-qr svg');
    const code1 = await page.getAttribute('#code-qr', 'data-text');
    console.log('CODE1 ' + code1);
    check('the page enrolled the phone and shows a spending code of 204 bytes (Base45: 306 characters)',
      'This phone is set up.|LQ:|309|1', [await page.textContent('#message'), code1.slice(0, 3), code1.length,
        await page.getAttribute('#code-qr', 'data-counter')].join('|'));
    check('the private key is not extractable (kept in IndexedDB)', 'false|true', await page.evaluate(async () => {
      const d = await new Promise((res) => { const r = indexedDB.open('leal-spend', 1); r.onsuccess = () => res(r.result); });
      const p = await new Promise((res) => { const r = d.transaction('phone').objectStore('phone').get('current'); r.onsuccess = () => res(r.result); });
      return p.keys.privateKey.extractable + '|' + (p.keys.privateKey.type === 'private');
    }));
    await page.locator('#code-qr svg').screenshot({ path: shots + '/spend-code.png' });
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    // Offline: the page comes from the service worker's cache, the key and
    // certificate from IndexedDB; the counter goes on.
    await context.setOffline(true);
    await page.reload();
    await page.waitForSelector('#code:not([hidden]) #code-qr svg');
    const code2 = await page.getAttribute('#code-qr', 'data-text');
    console.log('CODE2 ' + code2);
    check('offline, reloaded, the page shows the next code of the same phone', 'true|2|' + code1.slice(0, 200),
      [await page.evaluate(() => navigator.serviceWorker.controller !== null), await page.getAttribute('#code-qr', 'data-counter'), code2.slice(0, 200)].join('|'));
    check('and the API is out of reach meanwhile', 'offline', await page.evaluate(async () => {
      try { await fetch('/portal/api/spend'); return 'online'; } catch (e) { return 'offline'; }
    }));
    await page.locator('#code-qr svg').screenshot({ path: shots + '/spend-offline.png' });
    await page.screenshot({ path: shots + '/spend-page.png', fullPage: true });
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
