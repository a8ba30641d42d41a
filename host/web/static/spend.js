// spend.js - the portal's spending-code page (host/web/web_portal.h,
// cardlayout/qr/QR.md "Spending code"). Enrolment, online: the page makes an
// Ed25519 key pair with WebCrypto, the private key not extractable, keeps the
// pair in IndexedDB, sends the public key (with the session's CSRF token) to
// POST /portal/api/spend, where the QR certifier signs its certificate; the
// certificate is kept beside the key. Codes, offline: the certificate, the
// current 30-second time step and the next counter, signed with the phone's
// key in the page, as Base45 text behind "LQ:", drawn by qr.js. The page
// stays usable without a network in two ways: kept open it shows a new code
// every 30 seconds from IndexedDB alone; reloaded offline, its service worker
// (sw.js, scope /portal/spend/) serves the page and its scripts from its cache.
'use strict';

const $ = (id) => document.getElementById(id);

// The page in the customer's language (their program's locale, from
// /portal/api/me; kept in localStorage for offline visits), as portal.js does.
const ES = {
  'My spending code': 'Mi código de pago',
  'Set up this phone once, online: it makes its own key, which never leaves it, and the shop certifies it. Then it shows a code to pay at the till, even without a network.': 'Configura este móvil una vez, con conexión: crea su propia clave, que nunca sale de él, y la tienda la certifica. Luego muestra un código para pagar en caja, incluso sin red.',
  'Set up this phone': 'Configurar este móvil',
  'Show it at the till to pay. It changes every 30 seconds and works once.': 'Enséñalo en caja para pagar. Cambia cada 30 segundos y sirve una vez.',
  'My card': 'Mi tarjeta',
  'Setting up a phone for spending codes is unavailable right now; try again later.': 'Ahora no se puede configurar un móvil para pagar con código; inténtalo más tarde.',
  'Sign in first, on the My card page.': 'Entra primero, en la página Mi tarjeta.',
  'This phone is set up.': 'Este móvil ya está configurado.',
  'The phone was not set up.': 'El móvil no se ha configurado.',
};
let lang = localStorage.getItem('leal-spend-lang') === 'es' ? 'es' : 'en';
const L = (text) => (lang === 'es' && Object.prototype.hasOwnProperty.call(ES, text) ? ES[text] : text);

function translatePage() {
  document.documentElement.lang = lang;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const key = n.nodeValue.trim().replace(/\s+/g, ' ');
    if (Object.prototype.hasOwnProperty.call(ES, key) && lang === 'es') n.nodeValue = ES[key];
  }
  if (lang === 'es') document.title = ES['My spending code'];
}
const DOMAIN = new TextEncoder().encode('leal-qr-device');
const CERT_LEN = 132;
const STEP = 30;
let timer = null;

function say(text, ok) {
  const m = $('message');
  m.textContent = L(text);
  m.className = ok ? 'ok' : 'error';
  m.hidden = !text;
}

function db() {
  return new Promise((resolve, reject) => {
    const rq = indexedDB.open('leal-spend', 1);
    rq.onupgradeneeded = () => rq.result.createObjectStore('phone');
    rq.onsuccess = () => resolve(rq.result);
    rq.onerror = () => reject(rq.error);
  });
}
async function store(mode, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction('phone', mode);
    const rq = fn(tx.objectStore('phone'));
    tx.oncomplete = () => resolve(rq.result);
    tx.onerror = () => reject(tx.error);
  });
}
const loadPhone = () => store('readonly', (s) => s.get('current'));
const savePhone = (p) => store('readwrite', (s) => s.put(p, 'current'));

const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));

// RFC 9285 Base45, as cardlayout/qr/qr_token.c writes it.
function base45(bytes) {
  const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  let s = '';
  for (let i = 0; i < bytes.length; i += 2) {
    if (i + 1 < bytes.length) {
      let n = bytes[i] * 256 + bytes[i + 1];
      for (let k = 0; k < 3; k++) { s += A[n % 45]; n = Math.floor(n / 45); }
    } else {
      s += A[bytes[i] % 45] + A[Math.floor(bytes[i] / 45)];
    }
  }
  return s;
}

function be32(v) {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

// The code of now's time step: cert || step || counter || the phone's signature.
async function codeText(phone, counter) {
  const step = Math.floor(Date.now() / 1000 / STEP);
  const body = new Uint8Array([...phone.cert, ...be32(step), ...be32(counter)]);
  const msg = new Uint8Array([...DOMAIN, ...body]);
  const sig = new Uint8Array(await crypto.subtle.sign('Ed25519', phone.keys.privateKey, msg));
  return 'LQ:' + base45(new Uint8Array([...body, ...sig]));
}

function day(d) {
  return new Date(d * 86400 * 1000).toISOString().slice(0, 10);
}

async function showCode() {
  const phone = await loadPhone();
  if (!phone) return false;
  const today = Math.floor(Date.now() / 1000 / 86400);
  if (today >= phone.expires_day) {
    say(lang === 'es' ? 'Vuelve a configurar este móvil con conexión: su certificado caducó el ' + day(phone.expires_day) + '.'
      : 'This phone must be set up again online: its certificate needed refreshing by ' + day(phone.expires_day) + '.', false);
    $('code').hidden = true;
    return false;
  }
  // A code is never shown twice: the counter is kept before the code is drawn.
  phone.counter += 1;
  await savePhone(phone);
  const text = await codeText(phone, phone.counter);
  const box = $('code-qr');
  box.replaceChildren(LealQR.svg(text, 5));
  box.dataset.text = text;
  box.dataset.counter = String(phone.counter);
  const eur = (c) => (lang === 'es' ? (c / 100).toFixed(2).replace('.', ',') + ' €' : '€' + (c / 100).toFixed(2));
  $('code-caps').textContent = lang === 'es'
    ? `Hasta ${eur(phone.cap_tx_cents)} por pago, ${eur(phone.cap_day_cents)} al día.`
    : `Up to ${eur(phone.cap_tx_cents)} a payment, ${eur(phone.cap_day_cents)} a day.`;
  $('code-phone').textContent = lang === 'es'
    ? `Móvil ${phone.virtual_card}; vuelve a configurarlo con conexión antes del ${day(phone.expires_day)}.`
    : `Phone ${phone.virtual_card}; set it up again online before ${day(phone.expires_day)}.`;
  $('code').hidden = false;
  $('enrol').hidden = true;
  return true;
}

function every30() {
  if (timer) clearTimeout(timer);
  const ms = STEP * 1000 - (Date.now() % (STEP * 1000)) + 50;
  timer = setTimeout(async () => { await showCode(); every30(); }, ms);
}

async function api(method, path, body, csrf) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (csrf) opts.headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, opts);
  let data = {};
  try { data = await res.json(); } catch (e) { data = {}; }
  return { status: res.status, data };
}

const UNAVAILABLE = 'Setting up a phone for spending codes is unavailable right now; try again later.';

async function enrol() {
  $('enrol-button').disabled = true;
  try {
    const me = await api('GET', '/portal/api/me');
    if (me.status !== 200) { say('Sign in first, on the My card page.', false); return; }
    const keys = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey));
    const r = await api('POST', '/portal/api/spend', { public_key: hex(pub) }, me.data.csrf);
    if (r.status === 503) { say(UNAVAILABLE, false); return; }
    if (r.status !== 201) { say((r.data.error && r.data.error.message) || 'The phone was not set up.', false); return; }
    const cert = unhex(r.data.certificate);
    if (cert.length !== CERT_LEN) { say('The phone was not set up.', false); return; }
    await savePhone({ keys, cert, counter: 0, virtual_card: r.data.virtual_card,
      expires_day: r.data.expires_day, cap_tx_cents: r.data.cap_tx_cents, cap_day_cents: r.data.cap_day_cents });
    say('This phone is set up.', true);
    await showCode();
    every30();
  } catch (e) {
    say('This browser cannot make the phone\'s key (Ed25519): ' + e.message, false);
  } finally {
    $('enrol-button').disabled = false;
  }
}

async function start() {
  if ('serviceWorker' in navigator) {
    try { await navigator.serviceWorker.register('/portal/spend/sw.js', { scope: '/portal/spend/' }); } catch (e) { /* the page still works kept open */ }
  }
  $('enrol-button').addEventListener('click', enrol);
  translatePage();
  if (await showCode()) { every30(); return; }
  let st = { status: 0, data: {} };
  try {
    const me = await api('GET', '/portal/api/me');
    if (me.status === 200) {
      lang = me.data.customer.lang === 'es' ? 'es' : 'en';
      localStorage.setItem('leal-spend-lang', lang);
      translatePage();
    }
    st = await api('GET', '/portal/api/spend');
  } catch (e) { /* offline */ }
  if (st.status === 401) { say('Sign in first, on the My card page.', false); return; }
  if (st.status !== 200 || !st.data.available) { say(UNAVAILABLE, false); return; }
  $('enrol').hidden = false;
}

start();
