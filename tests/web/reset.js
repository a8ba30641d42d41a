// reset.js URL MODE ... - a forgotten password in Debian's headless chromium
// (playwright-core, as e2e.js). Run by tests/integration/web_reset.sh.
//   forgot NAME LOCALE   from the sign-in page's "Forgot your password?"
//                        link, asks for NAME's reset in a browser of LOCALE
//   reset LINK PASSWORD  opens the mailed LINK, sets PASSWORD, signs in with it
// Prints "CHECK name<TAB>expected<TAB>actual" lines; SHOTS in $SHOTS.
'use strict';
const { launch, check, signIn } = require('./lib.js');

const [url, mode, a, b] = process.argv.slice(2);
const shots = process.env.SHOTS;

async function message(page) {
  await page.waitForFunction(() => document.querySelector('#message').textContent !== '');
  return page.textContent('#message');
}

async function main() {
  const browser = await launch();
  try {
    if (mode === 'forgot') {
      const page = await (await browser.newContext({ locale: b })).newPage();
      await page.goto(url + '/');
      await page.waitForSelector('#page-sign-in:not([hidden])');
      check('the sign-in page links to the reset (' + b + ')',
        b.startsWith('es') ? '¿Ha olvidado su contraseña?' : 'Forgot your password?',
        await page.textContent('#forgot-link'));
      await page.click('#forgot-link');
      await page.waitForSelector('#page-forgot:not([hidden])');
      await page.fill('#forgot-form input[name=name]', a);
      await page.click('#forgot-form button[type=submit]');
      check('the page says a link is on its way (' + b + ')',
        b.startsWith('es') ? 'Si ese usuario tiene correo, le llega un enlace; sirve durante 30 minutos.'
          : 'If that user has an e-mail address, a link is on its way; it works for 30 minutes.',
        await message(page));
      if (shots) await page.screenshot({ path: shots + '/forgot.png', fullPage: true });
    } else {
      const page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
      await page.goto(a);
      await page.waitForSelector('#page-reset:not([hidden])');
      await page.fill('#reset-form input[name=password]', b);
      await page.click('#reset-form button[type=submit]');
      check('the reset page sets the password', 'Password changed. Sign in with the new one.',
        await message(page));
      check('and the token left the address bar', url + '/#/customers', page.url());
      await page.waitForSelector('#page-sign-in:not([hidden])');
      const next = await (await browser.newContext()).newPage();
      await signIn(next, url, 'mia', b);
      check('the new password signs in', 'mia (manager)', await next.textContent('#who'));
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
