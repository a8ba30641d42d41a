// e2e.js URL SHOTS - the back office in Debian's headless chromium, driven by
// playwright-core (pinned in tests/web/package.json; no browser is
// downloaded: executablePath /usr/bin/chromium). Run by
// tests/integration/web_e2e.sh, which starts `leal serve` on a ledger it made
// (users ana/admin and sam/staff of program 1; Berta, a customer of program
// 2) and reads this script's lines: "CHECK name<TAB>expected<TAB>actual".
// Screenshots of each page go to SHOTS.
'use strict';
const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');

const [url, shots, berta, leal, db, card] = process.argv.slice(2);
const check = (name, expected, actual) =>
  console.log(['CHECK ' + name, String(expected), String(actual)].join('\t'));

async function signIn(page, name, password) {
  await page.goto(url + '/');
  await page.fill('#sign-in-form input[name=name]', name);
  await page.fill('#sign-in-form input[name=password]', password);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#page-customers:not([hidden])');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const admin = await (await browser.newContext()).newPage();
    await admin.goto(url + '/');
    await admin.waitForSelector('#page-sign-in:not([hidden])');
    await admin.screenshot({ path: shots + '/sign-in.png', fullPage: true });

    // The dictionary covers every fixed text of the page (index.html's text,
    // placeholders, labels and alt texts), "leal" and "#" aside.
    check('every fixed text of the page has its Spanish', '', await admin.evaluate(() => {
      const missing = [];
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) missing.push(n.nodeValue.trim());
      for (const e of document.querySelectorAll('[placeholder], [aria-label], img[alt]')) {
        for (const a of ['placeholder', 'aria-label', 'alt']) if (e.hasAttribute(a)) missing.push(e.getAttribute(a));
      }
      return missing.filter((x) => x && x !== 'leal' && x !== '#' && !Object.prototype.hasOwnProperty.call(ES, x)).join('|');
    }));
    await admin.fill('#sign-in-form input[name=name]', 'ana');
    await admin.fill('#sign-in-form input[name=password]', 'wrong password');
    await admin.click('#sign-in-form button[type=submit]');
    await admin.waitForSelector('#message:not([hidden])');
    check('a wrong password is said so on the page', 'wrong user name or password (or the user is disabled)',
      await admin.textContent('#message'));

    await signIn(admin, 'ana', 'admin password 1');
    check('the admin is signed in', 'ana (admin)', await admin.textContent('#who'));
    const cookies = await admin.context().cookies();
    const c = cookies.find((k) => k.name === 'leal_session');
    check('the session cookie as the browser keeps it', 'true Strict false',
      c && [c.httpOnly, c.sameSite, c.secure].join(' '));
    check('the page script cannot read it', '', await admin.evaluate(() => document.cookie));

    // A customer whose name is markup: shown as text, never run.
    const evil = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    await admin.click('#new-customer');
    await admin.waitForSelector('#page-customer:not([hidden])');
    await admin.fill('#customer-form input[name=program]', '1');
    await admin.fill('#customer-form input[name=name]', evil);
    await admin.fill('#customer-form input[name=surname]', 'Núñez');
    await admin.fill('#customer-form input[name=email]', 'evil@example.com');
    await admin.click('#customer-form button[type=submit]');
    await admin.waitForSelector('#message.ok:not([hidden])');
    check('the new customer is saved', 'Saved.', await admin.textContent('#message'));
    check('the name with markup is shown as text', evil + ' Núñez', await admin.textContent('#customer-title'));
    check('no element was made from it', '0 0',
      await admin.evaluate(() => document.querySelectorAll('#page-customer img, main script').length + ' ' +
        document.querySelectorAll('#customer-title *').length));
    check('and nothing in it ran', 'undefined', await admin.evaluate(() => String(window.pwned)));
    await admin.screenshot({ path: shots + '/customer.png', fullPage: true });

    await admin.goto(url + '/#/customers');
    await admin.fill('#search-form input[name=q]', 'NUNEZ');
    await admin.click('#search-form button[type=submit]');
    await admin.waitForFunction(() => document.querySelectorAll('#customer-list tbody tr').length === 1);
    check('the search ignores accents and case: NUNEZ finds Núñez', 'Núñez',
      await admin.textContent('#customer-list tbody tr td:nth-child(3)'));
    await admin.screenshot({ path: shots + '/customers.png', fullPage: true });

    await admin.click('#customer-list tbody tr a');
    await admin.waitForSelector('#page-customer:not([hidden])');
    await admin.fill('#customer-form input[name=name]', 'José');
    await admin.click('#customer-form button[type=submit]');
    await admin.waitForFunction(() => document.querySelector('#customer-title').textContent === 'José Núñez');
    check('an edit is saved and shown', 'José Núñez', await admin.textContent('#customer-title'));
    const joseId = await admin.evaluate(() => document.querySelector('#consent-form').dataset.id);

    await admin.click('#nav-audit');
    await admin.waitForSelector('#page-audit:not([hidden])');
    check('the audit log shows the edit, newest first', 'ana customer.edit',
      await admin.evaluate(() => {
        const tds = document.querySelectorAll('#audit-list tbody tr:first-child td');
        return tds[1].textContent + ' ' + tds[2].textContent;
      }));
    check('the audit log\'s times are in the stores\' zone (all Europe/Madrid)', 'true',
      await admin.evaluate(() => /^\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST|GMT\+[12])$/.test(
        document.querySelector('#audit-list tbody tr td').textContent)));
    await admin.screenshot({ path: shots + '/audit.png', fullPage: true });

    // Consent per channel and purpose on the customer's page (rep8): none
    // yet, one recorded through the form, shown with its record and audited.
    await admin.goto(url + '/#/customers/' + joseId);
    await admin.waitForSelector('#page-customer:not([hidden])');
    check('a customer without consent shows no consent table', 'true',
      await admin.evaluate(() => document.querySelector('#customer-consent').hidden));
    await admin.selectOption('#consent-form select[name=channel]', 'sms');
    await admin.selectOption('#consent-form select[name=purpose]', 'service');
    await admin.fill('#consent-form input[name=evidence]', 'asked at the till');
    await admin.fill('#consent-form input[name=text_version]', 'alta-v3');
    await admin.click('#consent-form button[type=submit]');
    await admin.waitForFunction(() => document.querySelectorAll('#customer-consent tbody tr').length === 1);
    check('the consent recorded on the page is shown with its record',
      'sms|service|granted|web|ana|asked at the till|alta-v3',
      await admin.evaluate(() => [...document.querySelectorAll('#customer-consent tbody tr td')]
        .filter((td, i) => i !== 3).map((td) => td.textContent).join('|')));
    check('and said so', 'Consent recorded.', await admin.textContent('#message'));
    await admin.screenshot({ path: shots + '/customer-consent.png', fullPage: true });
    await admin.click('#nav-audit');
    await admin.waitForSelector('#page-audit:not([hidden])');
    check('the audit log shows the consent change', 'ana customer.consent',
      await admin.evaluate(() => {
        const tds = document.querySelectorAll('#audit-list tbody tr:first-child td');
        return tds[1].textContent + ' ' + tds[2].textContent;
      }));

    // The dashboard: today's figures change after a sale; the chart is drawn.
    const todayIssued = () => admin.evaluate(() => {
      const row = [...document.querySelectorAll('#dash-table tbody tr.total')][0];
      return Number(row.cells[5].textContent);
    });
    await admin.click('#nav-dashboard');
    await admin.waitForSelector('#page-dashboard:not([hidden])');
    const before = await todayIssued();
    check('the 12-month chart is drawn as an image of the server\'s SVG', 'true',
      await admin.evaluate(() => { const i = document.querySelector('#dash-chart'); return !i.hidden && i.src.startsWith('data:image/svg+xml'); }));
    execFileSync(leal, ['sale', '--card-id', card, '--amount', '10', '--store', '1', '--db', db]);
    await admin.goto(url + '/#/customers');
    await admin.click('#nav-dashboard');
    await admin.waitForFunction((b) => {
      const row = document.querySelector('#dash-table tbody tr.total');
      return row && Number(row.cells[5].textContent) === b + 15;
    }, before);
    check('after a 10-euro sale today\'s points issued go up by 15 (10 and the bonus rule\'s 5)', before + 15, await todayIssued());
    await admin.waitForFunction(() => document.querySelector('#dash-chart').complete);
    await admin.screenshot({ path: shots + '/dashboard.png', fullPage: true });

    // Cards: block with a reason, the hot list, unblock.
    await admin.goto(url + '/#/cards/' + card);
    await admin.waitForSelector('#page-card:not([hidden])');
    await admin.screenshot({ path: shots + '/card.png', fullPage: true });
    check('the card page shows a sale at the time of its store (Europe/Madrid)', 'true',
      await admin.evaluate(() => /^\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST|GMT\+[12])$/.test(
        document.querySelector('#card-moves tbody tr td').textContent)));
    await admin.fill('#card-status-form input[name=reason]', 'lost at the bar');
    await admin.click('#card-status-button');
    await admin.waitForSelector('#message.ok:not([hidden])');
    check('a card is blocked with a reason', 'Blocked. blocked lost at the bar',
      await admin.evaluate(() => document.querySelector('#message').textContent + ' ' +
        document.querySelector('#card-facts dd').textContent + ' ' +
        document.querySelector('#card-history tbody tr:last-child td:nth-child(3)').textContent));
    check('the status change is shown in the zone of the card\'s program (Europe/Madrid)', 'true',
      await admin.evaluate(() => /^\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST|GMT\+[12])$/.test(
        document.querySelector('#card-history tbody tr:last-child td').textContent)));
    await admin.click('#nav-cards');
    await admin.waitForSelector('#page-cards:not([hidden])');
    check('the hot list shows it', card + ' blocked',
      await admin.evaluate(() => { const t = document.querySelectorAll('#hotlist tbody tr td'); return t[0].textContent + ' ' + t[1].textContent; }));
    await admin.screenshot({ path: shots + '/cards.png', fullPage: true });
    await admin.click('#hotlist tbody tr a');
    await admin.waitForSelector('#page-card:not([hidden])');
    await admin.fill('#card-status-form input[name=reason]', 'found');
    await admin.click('#card-status-button');
    await admin.waitForFunction(() => document.querySelector('#message').textContent === 'Unblocked.');
    check('and unblocked', 'active', await admin.textContent('#card-facts dd'));

    // Promotions: a rule changed after its simulation on past sales.
    await admin.click('#nav-rules');
    await admin.waitForSelector('#page-rules:not([hidden])');
    check('Save waits for a simulation', 'true', await admin.evaluate(() => document.querySelector('#rule-save').disabled));
    await admin.fill('#rule-form input[name=bonus_points]', '50');
    await admin.click('#rule-simulate');
    await admin.waitForFunction(() => document.querySelector('#rule-simulation').textContent !== '');
    check('the simulation on past sales is shown before saving',
      '2 sales of 1 accounts gave 45 points; the current rules give 45; with this change 135 (+90).',
      await admin.evaluate(() => document.querySelector('#rule-simulation').textContent.replace(/^.*?: /, '')));
    await admin.screenshot({ path: shots + '/rules.png', fullPage: true });
    await admin.fill('#rule-form input[name=reason]', 'christmas');
    await admin.click('#rule-save');
    await admin.waitForSelector('#message.ok:not([hidden])');
    check('the rule is saved as the next version', 'rule set version 3 50',
      await admin.evaluate(() => document.querySelector('#rules-version').textContent.match(/rule set version \d+/)[0] + ' ' +
        document.querySelector('#rule-list tbody tr td:nth-child(5)').textContent));

    await admin.click('#nav-terminals');
    await admin.waitForSelector('#page-terminals:not([hidden])');
    await admin.waitForFunction(() => document.querySelector('#settle-note').textContent !== '');
    check('the terminals page lists the till and says a chain does not settle', 'till 1 never|is not a collective',
      await admin.evaluate(() => { const t = document.querySelectorAll('#terminal-list tbody tr td');
        return t[2].textContent + ' ' + t[6].textContent + '|' + (document.querySelector('#settle-note').textContent.match(/is not a collective/) || [''])[0]; }));
    await admin.screenshot({ path: shots + '/terminals.png', fullPage: true });

    await admin.click('#nav-users');
    await admin.waitForSelector('#page-users:not([hidden])');
    check('the users page lists the users, their roles and languages', 'sam staff en 1,pepe manager es 2,ed manager en 2,ana admin en ',
      await admin.evaluate(() => [...document.querySelectorAll('#user-list tbody tr')].map((r) =>
        r.cells[1].textContent + ' ' + r.cells[2].textContent + ' ' + r.cells[3].textContent + ' ' + r.cells[4].textContent).join(',')));
    await admin.screenshot({ path: shots + '/users.png', fullPage: true });

    // A staff member: no audit link, another store's customer refused.
    const staff = await (await browser.newContext()).newPage();
    await signIn(staff, 'sam', 'staff password 1');
    check('staff see no audit log link', 'true', await staff.evaluate(() => document.querySelector('#nav-audit').hidden));
    check('staff list only their program\'s customers', '2',
      await staff.evaluate(() => document.querySelectorAll('#customer-list tbody tr').length));
    await staff.goto(url + '/#/customers/' + berta);
    await staff.waitForSelector('#message:not([hidden])');
    check('staff opening another store\'s customer are refused',
      'this customer belongs to another store: this user\'s role or stores do not allow that',
      await staff.textContent('#message'));
    check('and see none of their data', 'false',
      await staff.evaluate(() => document.body.textContent.includes('Berta')));
    await staff.goto(url + '/#/audit');
    await staff.waitForSelector('#message:not([hidden])');
    check('the audit log is refused to staff too', 'this user\'s role: this user\'s role or stores do not allow that',
      await staff.textContent('#message'));
    await staff.screenshot({ path: shots + '/staff-refused.png', fullPage: true });
    check('staff see no dashboard or users link', 'true true',
      await staff.evaluate(() => document.querySelector('#nav-dashboard').hidden + ' ' + document.querySelector('#nav-users').hidden));
    await staff.goto(url + '/#/rules');
    await staff.waitForFunction(() => document.querySelector('#message').textContent.startsWith('this user'));
    check('staff cannot open the rules page', 'true true',
      await staff.evaluate(() => document.querySelector('#nav-rules').hidden + ' ' + document.querySelector('#page-rules').hidden));
    await staff.goto(url + '/#/customers');
    await staff.waitForSelector('#page-customers:not([hidden])');
    await staff.goto(url + '/#/dashboard');
    await staff.waitForFunction(() => document.querySelector('#message').textContent.startsWith('this user'));
    check('the dashboard is refused to staff', 'this user\'s role: this user\'s role or stores do not allow that',
      await staff.textContent('#message'));

    // Languages: pepe (a Spanish program's manager, Spanish by default) and ed
    // (the same program, --lang en) see the same dashboard and card 503.
    for (const [who, lang] of [['pepe', 'es'], ['ed', 'en']]) {
      const p = await (await browser.newContext()).newPage();
      await signIn(p, who, 'staff password 1');
      await p.click('#nav-dashboard');
      await p.waitForSelector('#dash-liability dd');
      const words = lang === 'es'
        ? 'pepe (gerente)|Panel|Clientes|Tarjetas|Cerrar sesión|Puntos emitidos|Pendiente|Monedero|12,50 €|Hoy|Este mes|Programa 3. Hoy D; este mes del D al D (días de Europe/Madrid).'
        : 'ed (manager)|Dashboard|Customers|Cards|Sign out|Points issued|Outstanding|Purse|€12.50|Today|This month|Program 3. Today D; this month D to D (days in Europe/Madrid).';
      check(who + ' (' + lang + ') sees the dashboard in ' + lang, words, await p.evaluate(() => [
        document.querySelector('#who').textContent, document.querySelector('#nav-dashboard').textContent, document.querySelector('#nav-customers').textContent,
        document.querySelector('#nav-cards').textContent, document.querySelector('#sign-out').textContent,
        document.querySelector('#dash-table thead th:nth-child(6)').textContent,
        document.querySelector('#page-dashboard h3').textContent,
        document.querySelectorAll('#dash-liability dt')[1].textContent,
        document.querySelectorAll('#dash-liability dd')[1].textContent,
        document.querySelector('#dash-table tbody tr td').textContent,
        [...document.querySelectorAll('#dash-table tbody tr')].pop().cells[0].textContent,
        document.querySelector('#dash-range').textContent.replace(/\d{4}-\d\d-\d\d/g, 'D')].join('|')));
      if (lang === 'es') await p.screenshot({ path: shots + '/dashboard-es.png', fullPage: true });
      await p.goto(url + '/#/cards/503');
      await p.waitForSelector('#card-moves tbody tr');
      check(who + ' (' + lang + ') sees card 503 in ' + lang, lang === 'es'
        ? 'Tarjeta 503|Estado|activa|Bloquear|Historial de estados|Importe|12,50 €'
        : 'Card 503|Status|active|Block|Status history|Amount|€12.50', await p.evaluate(() => [
        document.querySelector('#card-title').textContent, document.querySelector('#card-facts dt').textContent,
        document.querySelector('#card-facts dd').textContent, document.querySelector('#card-status-button').textContent,
        document.querySelectorAll('#page-card h3')[0].textContent,
        document.querySelector('#card-moves thead th:nth-child(5)').textContent,
        document.querySelector('#card-moves tbody tr td:nth-child(5)').textContent].join('|')));
      check(who + '\'s page says its language', lang, await p.evaluate(() => document.documentElement.lang));
      await p.goto(url + '/#/rules');
      await p.waitForFunction(() => document.querySelector('#rules-version').textContent !== '');
      check(who + ' (' + lang + ') sees the rule set line in ' + lang, lang === 'es'
        ? 'Programa 3, versión de las reglas 0; base 1 puntos por euro, bienvenida 0 puntos.'
        : 'Program 3, rule set version 0; base rate 1 points a euro, welcome 0 points.',
      await p.textContent('#rules-version'));
      if (lang === 'es') await p.screenshot({ path: shots + '/card-es.png', fullPage: true });
    }

    await admin.click('#sign-out');
    await admin.waitForSelector('#page-sign-in:not([hidden])');
    check('signing out shows the sign-in page', 'true', await admin.evaluate(() => document.querySelector('#nav').hidden));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  check('the browser run finished', 'no error', e && e.message ? e.message.split('\n')[0] : e);
  process.exitCode = 1;
});
