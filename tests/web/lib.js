// lib.js - what the browser tests share: Debian's headless chromium through
// playwright-core (no browser download), the CHECK line the integration
// scripts read ("CHECK name<TAB>expected<TAB>actual"), and a back-office
// sign-in.
'use strict';
const { chromium } = require('playwright-core');

exports.launch = () => chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

exports.check = (name, expected, actual) =>
  console.log(['CHECK ' + name, String(expected), String(actual)].join('\t'));

// Signs in on the back office at url and waits for the customers page.
exports.signIn = async (page, url, name, password) => {
  await page.goto(url + '/');
  await page.waitForSelector('#page-sign-in:not([hidden])');
  await page.fill('#sign-in-form input[name=name]', name);
  await page.fill('#sign-in-form input[name=password]', password);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#page-customers:not([hidden])');
};
