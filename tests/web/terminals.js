// terminals.js URL SHOTS USER PASSWORD - the terminals page in Debian's
// headless chromium (playwright-core, as e2e.js). Run by
// tests/integration/web_terminals.sh: signs in, opens the terminals page
// and prints for each terminal "ROW id|state|validity text" (state: the
// validity cell's data-state) and one "MARKED" line of the cells marked
// expiring or expired ("id class|..."); a screenshot goes to
// SHOTS/terminals-validity.png unless SHOTS is "".
'use strict';
const { launch, signIn } = require('./lib.js');

const [url, shots, user, password] = process.argv.slice(2);

async function main() {
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, url, user, password);
    await page.click('#nav-terminals');
    await page.waitForSelector('#page-terminals:not([hidden])');
    await page.waitForSelector('#terminal-list tbody tr');
    const rows = await page.evaluate(() => [...document.querySelectorAll('#terminal-list tbody tr')].map((tr) => {
      const v = tr.cells[5];
      return { id: tr.cells[0].textContent, state: v.dataset.state, text: v.textContent,
        marked: ['expired', 'expiring'].filter((k) => v.classList.contains(k)).join(' ') };
    }));
    for (const r of rows) console.log('ROW ' + [r.id, r.state, r.text].join('|'));
    console.log('MARKED ' + rows.filter((r) => r.marked).map((r) => r.id + ' ' + r.marked).join('|'));
    if (shots) await page.screenshot({ path: shots + '/terminals-validity.png', fullPage: true });
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
