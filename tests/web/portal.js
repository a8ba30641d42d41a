// portal.js LINK SHOTS QR-CARD TODAY-UTC TODAY-MADRID - the customer portal in Debian's headless chromium
// (playwright-core, executablePath /usr/bin/chromium, no browser download).
// Run by tests/integration/portal_e2e.sh with the sign-in link Ana received
// by e-mail and the virtual card of her QR code; prints
// "CHECK name<TAB>expected<TAB>actual" lines; the QR code's screenshot goes
// to SHOTS/qr.png for zbarimg.
'use strict';
const { chromium } = require('playwright-core');

const [link, shots, qrCard, todayUtc, todayMadrid] = process.argv.slice(2);
const check = (name, expected, actual) =>
  console.log(['CHECK ' + name, String(expected), String(actual)].join('\t'));

// --es LINK SHOTS: Carla, of a Spanish program, sees the page in Spanish.
async function spanish(browser, esLink, dir) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(esLink);
  await page.waitForSelector('#page-me:not([hidden])');
  await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 1);
  await page.waitForSelector('#qr-none[data-why]');
  check('the page in Spanish: title, headings, her purse, no card nor QR code', 'Mi tarjeta|es|Mi tarjeta|Saldo Importe|Monedero=7,05 €|Nivel|Premios|Historial|Mi código QR|Aún no tienes tarjeta ni código QR: pide uno en el mostrador de la tienda.',
    [await page.title(), await page.evaluate(() => document.documentElement.lang), await page.textContent('h1'),
      await page.evaluate(() => [...document.querySelectorAll('#balances th')].map((th) => th.textContent).join(' ')),
      await page.evaluate(() => [...document.querySelectorAll('#balances tbody tr')].map((tr) => tr.cells[0].textContent + '=' + tr.cells[1].textContent).join('|')),
      ...await page.evaluate(() => [...document.querySelectorAll('#page-me h3')].slice(1, 5).map((h) => h.textContent)),
      await page.textContent('#qr-none')].join('|'));
  check('her tier line and history in Spanish', 'Aún sin nivel (0 € gastados en los últimos 4 meses)|Este programa no tiene niveles.|opening Monedero 7,05 €',
    [await page.textContent('#tier'), await page.textContent('#tier-next'),
      await page.evaluate(() => [...document.querySelectorAll('#history tbody tr td')].slice(1).map((td) => td.textContent).join(' '))].join('|'));
  // Every fixed text of portal.html has its Spanish ("#" and empty aside).
  check('every fixed text of the portal has its Spanish', '', await page.evaluate(() => {
    const left = [];
    const walk = document.createTreeWalker(document, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const p = n.parentElement;
      if (p && (p.closest('#page-ask') || p.closest('#me-name, #me-program, #balances tbody, #cards, #tier, #tier-next, #rewards tbody, #history tbody, #qr-until, #message'))) continue;
      if (p && ['SCRIPT', 'STYLE'].includes(p.tagName)) continue;
      left.push(n.nodeValue.trim());
    }
    const english = ['My card', 'Balance', 'Amount', 'Cards', 'Tier', 'Rewards', 'Reward', 'Points', 'Can I have it?', 'History', 'Date', 'What', 'Older movements', 'My QR code', 'Show it at the till to earn points.', 'Sign out', 'You have no QR code yet: ask for one at the shop\'s desk.', 'My reward codes', 'No rewards redeemed here yet.'];
    return left.filter((x) => x && english.includes(x)).join('|');
  }));
  await page.screenshot({ path: dir + '/me-es.png', fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    if (link === '--es') {
      await spanish(browser, shots, qrCard);
      return;
    }
    const page = await (await browser.newContext()).newPage();
    await page.goto(link);
    await page.waitForSelector('#page-me:not([hidden])');
    check('the link signs Ana in', 'Ana Sol|Café Sol', (await page.textContent('#me-name')) + '|' + (await page.textContent('#me-program')));
    check('her exact balances', 'Purse=€12.50|Points=150', await page.evaluate(() =>
      [...document.querySelectorAll('#balances tbody tr')].map((tr) => tr.cells[0].textContent + '=' + tr.cells[1].textContent).join('|')));
    check('her card and her QR code', 'Card 601 (active)|QR code ' + qrCard + ' (active)', await page.evaluate(() =>
      [...document.querySelectorAll('#cards li')].map((li) => li.textContent).join('|')));
    check('the token is gone from the address bar', link.replace(/#.*/, ''), page.url());
    const cookies = await page.context().cookies();
    const c = cookies.find((k) => k.name === 'leal_portal');
    check('the session cookie as the browser keeps it', 'true Strict /portal/', c && [c.httpOnly, c.sameSite, c.path].join(' '));
    const rows = (sel) => page.evaluate((s) => [...document.querySelectorAll(s + ' tbody tr')]
      .map((tr) => [...tr.cells].map((td) => td.textContent).join(' ')).join('|'), sel);
    await page.waitForFunction(() => document.querySelectorAll('#rewards tbody tr').length === 3);
    check('her tier and what is missing for the next', 'Tier Plata (€30 spent in the last 4 months)|€70 more to reach Oro.',
      (await page.textContent('#tier')) + '|' + (await page.textContent('#tier-next')));
    check('the rewards catalogue with what she can have', 'Café gratis 100 Yes Redeem|Descuento 200 50 points to go |VIP 50 From tier 2 ',
      await rows('#rewards'));
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length > 0);
    check('her history, newest first', todayMadrid + ' sale Points 30|' + todayUtc + ' opening Purse €12.50|' + todayUtc + ' opening Points 120',
      await rows('#history'));
    await page.waitForSelector('#qr-code:not([hidden])');
    await page.waitForFunction(() => document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0);
    check('her QR code is shown, with its expiry', 'true', String(/^Valid until \d{4}-\d{2}-\d{2}\.$/.test(await page.textContent('#qr-until'))));
    await page.screenshot({ path: shots + '/me.png', fullPage: true });
    await page.locator('#qr').screenshot({ path: shots + '/qr.png' });
    await page.reload();
    await page.waitForSelector('#page-me:not([hidden])');
    check('a reload keeps her signed in (the cookie)', 'Ana Sol', await page.textContent('#me-name'));

    const other = await (await browser.newContext()).newPage();
    await other.goto(link);
    await other.waitForSelector('#message:not([hidden])');
    check('the same link again is refused with its own message',
      'this sign-in link has already been used; ask for a new one|false', (await other.textContent('#message')) + '|' + (await other.isHidden('#page-ask')));
    await other.screenshot({ path: shots + '/link-used.png', fullPage: true });
    await other.fill('#link-form input[name=email]', 'ana@example.org');
    await other.click('#link-form button[type=submit]');
    await other.waitForSelector('#message.ok');
    check('a new link is asked for from the page',
      'If this address is on a card, a link is on its way. It works once, within 15 minutes.', await other.textContent('#message'));
    await other.screenshot({ path: shots + '/sign-in.png', fullPage: true });
    check('nothing of Ana shows on that page', '', await other.textContent('#me-name'));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
