// es.js URL SHOTS - the sign-in pages in a Spanish browser (issue 16): a
// context whose locale is es-ES (navigator.languages and Accept-Language),
// as tests/integration/web_es.sh starts it. The back office's sign-in page
// in Spanish, a wrong password answered by the server in Spanish, and the
// portal's sign-in page in Spanish. Prints "CHECK name<TAB>expected<TAB>actual".
'use strict';
const { chromium } = require('playwright-core');

const [url, shots] = process.argv.slice(2);
const check = (name, expected, actual) =>
  console.log(['CHECK ' + name, String(expected), String(actual)].join('\t'));

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await (await browser.newContext({ locale: 'es-ES' })).newPage();
    await page.goto(url + '/');
    await page.waitForSelector('#page-sign-in:not([hidden])');
    check('the sign-in page speaks Spanish', 'es|Entrar|Usuario|Contraseña|Entrar',
      await page.evaluate(() => [document.documentElement.lang,
        document.querySelector('#page-sign-in h2').textContent,
        ...[...document.querySelectorAll('#sign-in-form label')].map((l) => l.firstChild.nodeValue.trim()),
        document.querySelector('#sign-in-form button').textContent].join('|')));
    await page.fill('#sign-in-form input[name=name]', 'ana');
    await page.fill('#sign-in-form input[name=password]', 'not the password');
    await page.click('#sign-in-form button[type=submit]');
    await page.waitForSelector('#message:not([hidden])');
    check('a wrong password: the server says so in Spanish',
      'usuario o contraseña incorrectos (o el usuario está desactivado)',
      await page.textContent('#message'));
    await page.screenshot({ path: shots + '/sign-in-es.png', fullPage: true });

    await page.goto(url + '/portal/');
    await page.waitForSelector('#page-ask:not([hidden])');
    check('the portal\'s sign-in page speaks Spanish',
      'es|Entrar|Te enviamos un enlace por correo. Sirve una vez, durante 15 minutos.|Envíame un enlace',
      await page.evaluate(() => [document.documentElement.lang,
        document.querySelector('#page-ask h2').textContent,
        document.querySelector('#page-ask p').textContent,
        document.querySelector('#page-ask button').textContent].join('|')));
    await page.screenshot({ path: shots + '/portal-sign-in-es.png', fullPage: true });
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
