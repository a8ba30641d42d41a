// care.js URL SHOTS CUSTOMER FAMILY - the customer page's notes, erasure
// request and family cards, and a user's own page (issue 16,
// host/web/web_care.h), as tests/integration/web_care.sh starts it: sam
// (staff, Spanish) adds a note; mia (a manager, English) edits it, records
// the customer's erasure request and detaches a card of FAMILY's account;
// ana (an admin) carries out the erasure; sam switches their page to English. Exact strings in each language; screenshots in SHOTS. Prints
// "CHECK name<TAB>expected<TAB>actual".
'use strict';
const { launch, check, signIn } = require('./lib');

const [url, shots, customer, family] = process.argv.slice(2);

// Runs act (a click, a submit) and answers the message it leaves.
async function said(page, act) {
  await page.evaluate(() => { document.getElementById('message').hidden = true; });
  await act();
  await page.waitForSelector('#message:not([hidden])');
  return page.textContent('#message');
}

async function openCustomer(page) {
  await page.goto(url + '/#/customers/' + customer);
  await page.waitForSelector('#page-customer:not([hidden]) #customer-notes li');
}

const parts = (page) => page.evaluate(() => [
  ...[...document.querySelectorAll('#customer-notes-part h3')].map((h) => h.textContent),
  document.getElementById('erasure-state').textContent,
  document.querySelector('#note-form button').textContent,
  document.getElementById('erasure-form').hidden ? 'no request form' : 'request form',
  document.getElementById('erasure-do').hidden ? 'no erase button' : 'erase button'].join('|'));

const notes = (page) => page.evaluate(() => [...document.querySelectorAll('#customer-notes li')].map((li) =>
  [(li.querySelector('.meta') || li).textContent.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC/, 'WHEN').replace(/\(\S+ \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/, '(EDITED)'),
    li.querySelector('.text') ? li.querySelector('.text').textContent : '',
    ...[...li.querySelectorAll('button')].map((b) => b.textContent)].join(' ')).join(' / '));

async function main() {
  const browser = await launch();
  try {
    const sam = await (await browser.newContext()).newPage();
    await signIn(sam, url, 'sam', 'staff password 1');
    await openCustomer(sam);
    check('staff in Spanish: the notes and the erasure part, no request form, no erase button',
      'Notas|Borrado de los datos personales|No se ha pedido el borrado.|Añadir la nota|no request form|no erase button',
      await parts(sam));
    await sam.fill('#note-form textarea[name=text]', 'Pide factura <b>siempre</b>');
    check('a note added, in Spanish', 'Nota añadida.', await said(sam, () => sam.click('#note-form button')));
    check('shown as text, signed by sam, theirs to edit or delete',
      'WHEN, sam:  Pide factura <b>siempre</b> Editar Borrar', await notes(sam));
    await sam.screenshot({ path: shots + '/customer-notes-es.png', fullPage: true });

    const mia = await (await browser.newContext()).newPage();
    await signIn(mia, url, 'mia', 'manager password 1');
    await openCustomer(mia);
    check('a manager in English: the same part, with the request form',
      'Notes|Erasure of personal data|No erasure requested.|Add the note|request form|no erase button',
      await parts(mia));
    await mia.click('#customer-notes li .note-edit');
    await mia.fill('.note-edit-form textarea', 'Always asks for an invoice');
    check('the manager edits sam\'s note', 'Note saved.',
      await said(mia, () => mia.click('.note-edit-form button[type=submit]')));
    check('the note edited, still sam\'s, marked edited', 'WHEN, sam (EDITED):  Always asks for an invoice Edit Delete',
      await notes(mia));
    await mia.fill('#erasure-form input[name=asked_on]', '2026-12-01');
    await mia.selectOption('#erasure-form select[name=channel]', 'email');
    check('the customer\'s erasure request recorded', 'Request recorded.',
      await said(mia, () => mia.click('#erasure-form button')));
    check('shown pending; the request form gone, no erase button for a manager',
      'Notes|Erasure of personal data|Requested on 2026-12-01 by e-mail, recorded by mia: pending.|Add the note|no request form|no erase button',
      await parts(mia));
    await mia.screenshot({ path: shots + '/customer-notes-en.png', fullPage: true });

    // Family cards: the cards with their holders; the manager detaches one.
    await mia.goto(url + '/#/customers/' + family);
    await mia.waitForSelector('#page-customer:not([hidden]) #customer-cards tbody tr');
    const cards = () => mia.evaluate(() => [...document.querySelectorAll('#customer-cards tbody tr')]
      .map((tr) => [...tr.cells].map((c) => c.textContent).join(' ')).join(' / ') + '|' +
      (document.getElementById('detach-form').hidden ? 'no detach form' : [...document.querySelectorAll('#detach-form option')].map((o) => o.textContent).join(', ')));
    check('the family\'s cards with their holders, and the active ones a manager may detach',
      '9001 desfire-ev2 active Pilar Ruiz / 9002 desfire-ev2 blocked Juan Ruiz / 9003 desfire-ev2 active Ana Ruiz|9001 (Pilar Ruiz), 9003 (Ana Ruiz)',
      await cards());
    await mia.selectOption('#detach-form select[name=card]', '9003');
    await mia.fill('#detach-form input[name=reason]', 'lives abroad');
    check('a card detached from the page', 'Detached.', await said(mia, () => mia.click('#detach-form button')));
    check('blocked; with one active card left there is nothing to detach',
      '9001 desfire-ev2 active Pilar Ruiz / 9002 desfire-ev2 blocked Juan Ruiz / 9003 desfire-ev2 blocked Ana Ruiz|no detach form',
      await cards());
    await mia.screenshot({ path: shots + '/customer-family-en.png', fullPage: true });

    const ana = await (await browser.newContext()).newPage();
    await signIn(ana, url, 'ana', 'admin password 1');
    await openCustomer(ana);
    check('an admin has the erase button', 'Carry out the erasure', await ana.textContent('#erasure-do:not([hidden])'));
    check('the erase button first asks what becomes of the cards', 'Choose what becomes of their cards.',
      await said(ana, () => ana.click('#erasure-do')));
    await ana.selectOption('#erasure-cards', 'block');
    ana.once('dialog', (d) => d.accept());
    check('the erasure carried out', 'Erased.', await said(ana, () => ana.click('#erasure-do')));
    const done = await ana.evaluate(async (id) => (await (await fetch('/api/customers/' + id)).json()).erasure.done_at, customer);
    const day = new Date(done * 1000).toISOString().slice(0, 10);
    check('shown done, the notes gone but the erasure\'s own',
      `Notes|Erasure of personal data|Erased on ${day} by ana (requested on 2026-12-01 by e-mail).|Add the note|no request form|no erase button` +
      '#WHEN, ana:  personal data erased at the customer\'s request (leal customer erase); cards blocked by decision: 0 Edit Delete',
      (await parts(ana)) + '#' + (await notes(ana)));
    await ana.screenshot({ path: shots + '/customer-erased-en.png', fullPage: true });

    await sam.goto(url + '/#/me');
    await sam.waitForSelector('#page-me:not([hidden])');
    const before = await sam.evaluate(() => document.getElementById('me-title').textContent + '|' +
      document.querySelector('#me-form select').value);
    await sam.selectOption('#me-form select[name=lang]', 'en');
    const msg = await said(sam, () => sam.click('#me-form button'));
    check('sam\'s own page: Spanish, then English once chosen (the page, the nav, the server)',
      'Mi página: sam|es -> Language saved.|My page: sam|Customers|en',
      before + ' -> ' + msg + '|' + await sam.evaluate(async () => [document.getElementById('me-title').textContent,
        document.getElementById('nav-customers').textContent,
        (await (await fetch('/api/me')).json()).user.lang].join('|')));
    await sam.screenshot({ path: shots + '/me-en.png', fullPage: true });
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
