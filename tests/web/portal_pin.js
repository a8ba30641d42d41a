// portal_pin.js MODE URL SHOTS - the portal's sign-in by card number and PIN
// and its rewards redeemed, in Debian's headless chromium (playwright-core,
// /usr/bin/chromium). Run by tests/integration/portal_e2e.sh; prints
// "CHECK name<TAB>expected<TAB>actual" lines, and for the shell the
// redemption's code and idempotency key ("CODE<TAB>code<TAB>key").
//   redeem: Ana signs in with card 601 and PIN 2468, sees her exact
//           balances, double-clicks "Redeem" on Café gratis (100 points):
//           one redemption, the exact new balance and her code.
//   wrong:  five wrong PINs for card 601, each refused with its message;
//           the sixth try within the minute is refused even with the right PIN.
'use strict';
const { chromium } = require('playwright-core');

const [mode, url, shots] = process.argv.slice(2);
const check = (name, expected, actual) =>
  console.log(['CHECK ' + name, String(expected), String(actual)].join('\t'));

async function signIn(page, card, pin) {
  await page.fill('#pin-form input[name=card]', card);
  await page.fill('#pin-form input[name=pin]', pin);
  await page.click('#pin-form button[type=submit]');
}

const balances = (page) => page.evaluate(() =>
  [...document.querySelectorAll('#balances tbody tr')].map((tr) => tr.cells[0].textContent + '=' + tr.cells[1].textContent).join('|'));

async function redeem(page) {
  await page.goto(url + '/portal/');
  await page.waitForSelector('#pin-form');
  await page.screenshot({ path: shots + '/sign-in-pin.png', fullPage: true });
  await signIn(page, '601', '2468');
  await page.waitForSelector('#page-me:not([hidden])');
  check('card 601 and its PIN sign Ana in', 'Ana Sol|Café Sol', (await page.textContent('#me-name')) + '|' + (await page.textContent('#me-program')));
  check('her exact balances', 'Purse=€12.50|Points=150', await balances(page));
  check('the PIN field is emptied', '', await page.inputValue('#pin-form input[name=pin]'));
  const c = (await page.context().cookies()).find((k) => k.name === 'leal_portal');
  check('the session cookie as for a link', 'true Strict /portal/', c && [c.httpOnly, c.sameSite, c.path].join(' '));
  await page.waitForFunction(() => document.querySelectorAll('#rewards tbody tr').length === 3);
  check('a Redeem button only on what she can have', 'Café gratis:Redeem|Descuento:|VIP:', await page.evaluate(() =>
    [...document.querySelectorAll('#rewards tbody tr')].map((tr) => tr.cells[0].textContent + ':' + tr.cells[3].textContent).join('|')));
  check('no code yet', 'No rewards redeemed here yet.|0', (await page.textContent('#codes-none')) + '|' +
    (await page.evaluate(() => document.querySelectorAll('#codes li').length)));
  const button = page.locator('#rewards tbody tr:first-child button.redeem');
  const key = await button.getAttribute('data-key');
  await button.dblclick();
  await page.waitForSelector('#message.ok');
  await page.waitForFunction(() => document.querySelectorAll('#codes li').length > 0);
  await page.waitForFunction(() => [...document.querySelectorAll('#balances tbody tr')].some((tr) => tr.cells[1].textContent === '50'));
  const msg = await page.textContent('#message');
  const m = /^Redeemed: Café gratis\. Your code: ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})\. Show it at the shop\. You have 50 points left\.$/.exec(msg);
  check('a double click redeems once: the message with her code and the points left', 'true', String(!!m) + (m ? '' : ' ' + msg));
  check('the exact new balance', 'Purse=€12.50|Points=50', await balances(page));
  check('her code in the list, once', (m ? m[1] : '?') + ' Café gratis, 100 points (show it at the shop)', await page.evaluate(() =>
    [...document.querySelectorAll('#codes li')].map((li) => li.textContent).join('|')));
  await page.waitForFunction(() => [...document.querySelectorAll('#history tbody tr')].some((tr) => tr.cells[3].textContent === '-100'));
  check('the redemption heads her history', 'reward redeemed at the host Points -100', await page.evaluate(() =>
    [...document.querySelectorAll('#history tbody tr:first-child td')].slice(1).map((td) => td.textContent).join(' ')));
  await page.waitForTimeout(1000); // both clicks' answers and reloads are in
  check('her history once, the redemption on top (the double click reloaded it twice)', '4', await page.evaluate(() =>
    document.querySelectorAll('#history tbody tr').length));
  check('no Redeem button left (50 points)', '0', await page.evaluate(() => document.querySelectorAll('button.redeem').length));
  await page.screenshot({ path: shots + '/redeemed.png', fullPage: true });
  console.log(['CODE', m ? m[1] : '', key].join('\t'));
}

async function wrong(page) {
  await page.goto(url + '/portal/');
  await page.waitForSelector('#pin-form');
  const seen = [];
  for (const pin of ['0000', '1111', '2222', '3333', '4444', '2468']) {
    await page.evaluate(() => { document.getElementById('message').textContent = ''; });
    await signIn(page, '601', pin);
    await page.waitForFunction(() => document.getElementById('message').textContent !== '');
    seen.push(await page.textContent('#message'));
  }
  const pinMsg = 'the card number or the PIN is not right; the sixth try in a minute is refused, ten wrong PINs in a row lock it until the desk sets a new one';
  check('five wrong PINs: each refused with its message', Array(5).fill(pinMsg).join('|'), seen.slice(0, 5).join('|'));
  check('the sixth try in a minute is refused, even with the right PIN',
    'too many failed sign-ins for this user or address; wait a minute and try again', seen[5]);
  check('still signed out', 'true', String(await page.isHidden('#page-me')));
  await page.screenshot({ path: shots + '/pin-refused.png', fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
    if (mode === 'redeem') await redeem(page);
    else await wrong(page);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
