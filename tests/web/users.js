// users.js URL SHOTS - the users page and the catalogue edits in Debian's
// headless chromium (playwright-core, as e2e.js; no browser download). Run
// by tests/integration/web_users.sh on a ledger where ana is the admin,
// program 1 has stores 1 and 2, the reward 1 "Coffee" (50 points) and sales
// this month. An admin adds a staff member who then cannot open the rules
// page; the admin makes them a manager and the rules page opens; a reward is
// changed after its simulation on past sales and the catalogue is exactly
// what was saved; a tier added (a name taken refused first) and removed,
// each after its simulation. A user's e-mail address set (a malformed one
// refused) in English and removed in Spanish. Prints "CHECK name<TAB>expected<TAB>actual".
'use strict';
const { launch, check, signIn: signInAt } = require('./lib.js');

const [url, shots] = process.argv.slice(2);
const signIn = (page, name, password) => signInAt(page, url, name, password);

const rows = (page, table) => page.evaluate((id) => [...document.querySelectorAll('#' + id + ' tbody tr')]
  .map((tr) => [...tr.cells].map((c) => c.textContent).join('|')).join(' / '), table);

// The users page's row of name, without its id.
const userRow = async (page, name) => (await rows(page, 'user-list')).split(' / ')
  .map((r) => r.replace(/^\d+\|/, '')).find((r) => r.startsWith(name + '|'));

async function said(page, action) {
  await page.evaluate(() => { document.querySelector('#message').textContent = ''; });
  await action();
  await page.waitForFunction(() => document.querySelector('#message').textContent !== '');
  return page.textContent('#message');
}

async function main() {
  const browser = await launch();
  try {
    const admin = await (await browser.newContext()).newPage();
    await signIn(admin, 'ana', 'admin password 1');
    await admin.click('#nav-users');
    await admin.waitForSelector('#page-users:not([hidden])');
    await admin.fill('#user-add-form input[name=name]', 'lola');
    await admin.fill('#user-add-form input[name=password]', 'lola password 1');
    await admin.selectOption('#user-add-form select[name=role]', 'staff');
    await admin.fill('#user-add-form input[name=stores]', '1');
    await admin.fill('#user-add-form input[name=email]', 'lola@a.example');
    check('the admin adds a staff member of store 1', 'Added.',
      await said(admin, () => admin.click('#user-add-form button[type=submit]')));
    check('the users page lists them', 'lola|staff|en|1|lola@a.example|active', await userRow(admin, 'lola'));
    await admin.screenshot({ path: shots + '/users-add.png', fullPage: true });

    const lola = await (await browser.newContext()).newPage();
    await signIn(lola, 'lola', 'lola password 1');
    check('lola signs in as staff', 'lola (staff)', await lola.textContent('#who'));
    await lola.goto(url + '/#/rules');
    await lola.waitForFunction(() => document.querySelector('#message').textContent !== '');
    check('staff cannot open the rules page (no link, the page stays hidden, the server refuses)',
      'true true this user\'s role: this user\'s role or stores do not allow that',
      await lola.evaluate(() => [document.querySelector('#nav-rules').hidden, document.querySelector('#page-rules').hidden,
        document.querySelector('#message').textContent].join(' ')));
    await lola.screenshot({ path: shots + '/users-staff-refused.png', fullPage: true });

    // The admin makes lola a manager of store 1: her session ends.
    await admin.selectOption('#user-edit-form select[name=user]',
      await admin.evaluate(() => [...document.querySelector('#user-edit-form select[name=user]').options].find((o) => o.textContent.endsWith(' lola')).value));
    check('the change form shows her role, stores and e-mail address', 'staff 1 lola@a.example',
      await admin.evaluate(() => { const f = document.querySelector('#user-edit-form').elements; return f.role.value + ' ' + f.stores.value + ' ' + f.email.value; }));
    await admin.selectOption('#user-edit-form select[name=role]', 'manager');
    check('the admin changes her role', 'Saved.',
      await said(admin, () => admin.click('#user-edit-form button[type=submit]')));
    check('the users page shows her a manager', 'lola|manager|en|1|lola@a.example|active', await userRow(admin, 'lola'));
    await admin.screenshot({ path: shots + '/users-role.png', fullPage: true });

    await lola.goto(url + '/#/customers');
    await lola.waitForSelector('#page-sign-in:not([hidden])');
    check('her old session ended with the change', 'true', await lola.evaluate(() => document.querySelector('#nav').hidden));
    await signIn(lola, 'lola', 'lola password 1');
    check('signed in again she is a manager', 'lola (manager)', await lola.textContent('#who'));
    await lola.click('#nav-rules');
    await lola.waitForSelector('#page-rules:not([hidden])');
    check('and the rules page opens', 'false', await lola.evaluate(() => document.querySelector('#nav-rules').hidden));

    // Her e-mail address (for a forgotten password), in English, then in
    // Spanish by eva (an admin whose language is Spanish).
    await admin.click('#nav-users');
    await admin.waitForSelector('#page-users:not([hidden])');
    await admin.fill('#user-edit-form input[name=email]', 'lola at b.example');
    check('a malformed address is refused in one line, nothing changed',
      '"email" (name@example.com, or "" for none): an e-mail address or header is not valid (one \'@\', no spaces, no line breaks or control characters); correct it|lola|manager|en|1|lola@a.example|active',
      (await said(admin, () => admin.click('#user-email'))) + '|' + (await userRow(admin, 'lola')));
    await admin.fill('#user-edit-form input[name=email]', 'lola@b.example');
    check('the admin sets her new address', 'E-mail address set.', await said(admin, () => admin.click('#user-email')));
    check('the users page and the form show it', 'lola|manager|en|1|lola@b.example|active lola@b.example',
      (await userRow(admin, 'lola')) + ' ' + (await admin.inputValue('#user-edit-form input[name=email]')));
    await admin.screenshot({ path: shots + '/users-email.png', fullPage: true });
    const eva = await (await browser.newContext({ locale: 'es-ES' })).newPage();
    await signIn(eva, 'eva', 'eva password 1');
    await eva.click('#nav-users');
    await eva.waitForSelector('#page-users:not([hidden])');
    check('in Spanish: the column, the field and the button',
      '#,Nombre,Rol,Idioma,Tiendas,Correo,Estado|Correo (para una contraseña olvidada)|Poner el correo', await eva.evaluate(() => [
        [...document.querySelectorAll('#user-list thead th')].map((th) => th.textContent).join(','),
        document.querySelector('#user-edit-form input[name=email]').parentElement.firstChild.nodeValue.trim(),
        document.querySelector('#user-email').textContent].join('|')));
    await eva.selectOption('#user-edit-form select[name=user]',
      await eva.evaluate(() => [...document.querySelector('#user-edit-form select[name=user]').options].find((o) => o.textContent.endsWith(' lola')).value));
    await eva.fill('#user-edit-form input[name=email]', 'lola en b.example');
    check('a malformed address refused in Spanish',
      '"email" (nombre@ejemplo.com, o "" para ninguno): una dirección o cabecera de correo no es válida (una \'@\', sin espacios, saltos de línea ni caracteres de control); corríjala',
      await said(eva, () => eva.click('#user-email')));
    await eva.fill('#user-edit-form input[name=email]', '');
    check('eva removes the address', 'Correo quitado.', await said(eva, () => eva.click('#user-email')));
    check('her row shows none', 'lola|gerente|en|1||activo', await userRow(eva, 'lola'));
    await eva.screenshot({ path: shots + '/users-email-es.png', fullPage: true });

    // A reward changed after its simulation, through the admin's page.
    await admin.click('#nav-rules');
    await admin.waitForSelector('#page-rules:not([hidden])');
    await admin.selectOption('#cat-form select[name=which]', 'reward:1');
    check('the form shows the reward and only its fields', 'Coffee 50 7 0|cost_points value min_tier',
      await admin.evaluate(() => {
        const f = document.querySelector('#cat-form');
        const e = f.elements;
        return e.name.value + ' ' + e.cost_points.value + ' ' + e.value.value + ' ' + e.min_tier.value + '|' +
          [...f.querySelectorAll('label[data-part]')].filter((l) => getComputedStyle(l).display !== 'none').map((l) => l.querySelector('input').name).join(' ');
      }));
    await admin.fill('#cat-form input[name=name]', 'Big coffee');
    await admin.fill('#cat-form input[name=cost_points]', '60');
    check('Save waits for a simulation', 'true', await admin.evaluate(() => document.querySelector('#cat-save').disabled));
    await admin.click('#cat-simulate');
    await admin.waitForFunction(() => document.querySelector('#cat-simulation').textContent !== '');
    check('the simulation on past sales is shown before saving',
      '2 sales of 1 accounts gave 45 points; the current rules give 55; with this change 55 (+0).',
      await admin.evaluate(() => document.querySelector('#cat-simulation').textContent.replace(/^.*?: /, '')));
    await admin.fill('#cat-form input[name=reason]', 'dearer coffee');
    await admin.screenshot({ path: shots + '/promotions-catalogue.png', fullPage: true });
    check('saved', 'Saved.', await said(admin, () => admin.click('#cat-save')));
    check('the catalogue afterwards, exactly', '1|Big coffee|60|0', await rows(admin, 'reward-list'));
    check('as the next version of the rule set', 'rule set version 5',
      await admin.evaluate(() => document.querySelector('#rules-version').textContent.match(/rule set version \d+/)[0]));
    await lola.reload();
    await lola.waitForSelector('#page-rules:not([hidden])');
    check('the manager sees the same catalogue', '1|Big coffee|60|0', await rows(lola, 'reward-list'));

    // A tier added and removed from the page, each after its simulation; a
    // refusal of the engine's model shown in the page's one line.
    const visible = () => admin.evaluate(() => [...document.querySelectorAll('#cat-form label')]
      .filter((l) => getComputedStyle(l).display !== 'none').map((l) => l.querySelector('input, select').name).join(' '));
    await admin.selectOption('#cat-form select[name=op]', 'add:tier');
    check('adding a tier: the form shows a name and the tier\'s fields, the multiplier at its default',
      'op name threshold_euros multiplier_milli from to reason|1000|', (await visible()) + '|' +
      (await admin.inputValue('#cat-form input[name=multiplier_milli]')) + '|' + (await admin.inputValue('#cat-form input[name=name]')));
    await admin.fill('#cat-form input[name=name]', 'gold');
    await admin.fill('#cat-form input[name=threshold_euros]', '50');
    await admin.fill('#cat-form input[name=multiplier_milli]', '1200');
    check('a name tier 1 has (case ignored) is refused in one line, Save stays off',
      'tier 1 already has that name: refused; the catalogue is left as it was|true',
      (await said(admin, () => admin.click('#cat-simulate'))) + '|' + (await admin.evaluate(() => document.querySelector('#cat-save').disabled)));
    await admin.fill('#cat-form input[name=name]', 'Silver');
    await admin.click('#cat-simulate');
    await admin.waitForFunction(() => document.querySelector('#cat-simulation').textContent !== '');
    check('the new tier simulated on past sales',
      '2 sales of 1 accounts gave 45 points; the current rules give 55; with this change 55 (+0).',
      await admin.evaluate(() => document.querySelector('#cat-simulation').textContent.replace(/^.*?: /, '')));
    await admin.fill('#cat-form input[name=reason]', 'a second tier');
    check('the tier saved', 'Saved.', await said(admin, () => admin.click('#cat-save')));
    check('the tiers afterwards, exactly; the form back to changing', '1|Gold|20|2 / 2|Silver|50|1.2|change',
      (await rows(admin, 'tier-list')) + '|' + (await admin.inputValue('#cat-form select[name=op]')));
    await admin.selectOption('#cat-form select[name=op]', 'remove');
    await admin.selectOption('#cat-form select[name=which]', 'tier:2');
    check('removing: only which item, no fields', 'op which from to reason', await visible());
    check('Save waits for the removal\'s simulation', 'true', await admin.evaluate(() => document.querySelector('#cat-save').disabled));
    await admin.click('#cat-simulate');
    await admin.waitForFunction(() => document.querySelector('#cat-simulation').textContent !== '');
    await admin.fill('#cat-form input[name=reason]', 'one tier is enough');
    await admin.screenshot({ path: shots + '/promotions-remove.png', fullPage: true });
    check('the removal saved', 'Saved.', await said(admin, () => admin.click('#cat-save')));
    check('the tiers afterwards, exactly', '1|Gold|20|2', await rows(admin, 'tier-list'));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
