// portal.js - the customer portal (host/web/web_portal.h): ask for a sign-in
// link, follow it (its token is in the URL's fragment, never sent to a server
// by the browser; this script hands it to the API once and wipes it from the
// address bar), or sign in with the card's number and PIN; see one's
// balances and cards, redeem a reward for a code the shop honours. Server text goes in with
// textContent, never as HTML.
'use strict';

let csrf = '';
let lang = 'en';

// ES maps each fixed English text of the portal to its Spanish, as the back
// office's app.js does: the language is the customer's program's locale
// (leal program create --locale es), known once signed in; the sign-in page
// before it is in the browser's language (showAsk). Server data (names, reasons) is shown as it is.
const ES = { "My card": "Mi tarjeta", "Sign in": "Entrar", "We send you a link by e-mail. It works once, within 15 minutes.": "Te enviamos un enlace por correo. Sirve una vez, durante 15 minutos.", "E-mail": "Correo", "Send me a link": "Envíame un enlace", "Balance": "Saldo", "Amount": "Importe", "Cards": "Tarjetas", "Tier": "Nivel", "Rewards": "Premios", "Reward": "Premio", "Points": "Puntos", "Can I have it?": "¿Lo puedo canjear?", "History": "Historial", "Date": "Fecha", "What": "Qué", "Older movements": "Movimientos anteriores", "My QR code": "Mi código QR", "You have no QR code yet: ask for one at the shop's desk.": "Aún no tienes código QR: pídelo en el mostrador de la tienda.", "Show it at the till to earn points.": "Enséñalo en caja para sumar puntos.", "Sign out": "Cerrar sesión", "QR code": "Código QR", "Purse": "Monedero", "Card": "Tarjeta", "Yes": "Sí", "Signed out.": "Sesión cerrada.", "You are in the top tier.": "Estás en el nivel más alto.", "This program has no tiers.": "Este programa no tiene niveles.", "active": "activa", "blocked": "bloqueada", "lost": "perdida", "replaced": "sustituida", "pending": "pendiente", "Or with your card": "O con tu tarjeta", "Your card's number and the PIN the shop's desk gave you.": "El número de tu tarjeta y el PIN que te dieron en el mostrador de la tienda.", "Card number": "Número de tarjeta", "Redeem": "Canjear", "My reward codes": "Mis códigos de premio", "No rewards redeemed here yet.": "Aún no has canjeado premios aquí.", "At the till": "En caja", "You have no QR code yet: your card earns at the till as it is; ask at the shop's desk if you want a QR code too.": "Aún no tienes código QR: tu tarjeta ya suma en caja; pídelo en el mostrador de la tienda si también lo quieres.", "You have no card or QR code yet: ask for one at the shop's desk.": "Aún no tienes tarjeta ni código QR: pide uno en el mostrador de la tienda.", "Your QR code was withdrawn: ask at the shop's desk for a new one.": "Tu código QR se retiró: pide uno nuevo en el mostrador de la tienda.", "Your QR code was made before this page could show it: use the one the shop gave you, or ask at the desk for a new one.": "Tu código QR se hizo antes de que esta página pudiera mostrarlo: usa el que te dieron en la tienda o pide uno nuevo en el mostrador." };
// The link to the spending-code page (spend.js has that page's own).
Object.assign(ES, { 'My spending code': 'Mi código de pago', ': this phone pays at the till with a code of its own.': ': este móvil paga en caja con un código propio.' });
const L = (text) => (lang === 'es' && Object.prototype.hasOwnProperty.call(ES, text) ? ES[text] : text);
const original = new Map();

// Puts every fixed text of portal.html (text nodes, alt texts) in the
// customer's language, from the English kept the first time.
function translatePage() {
  document.documentElement.lang = lang;
  const walk = document.createTreeWalker(document, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!original.has(n)) {
      if (!Object.prototype.hasOwnProperty.call(ES, n.nodeValue.trim())) continue;
      original.set(n, n.nodeValue);
    }
    const en = original.get(n);
    n.nodeValue = en.replace(en.trim(), L(en.trim()));
  }
  for (const e of document.querySelectorAll('img[alt]')) {
    if (!('i18nalt' in e.dataset)) e.dataset.i18nalt = e.getAttribute('alt');
    e.setAttribute('alt', L(e.dataset.i18nalt));
  }
}

const $ = (id) => document.getElementById(id);

function say(text, ok) {
  const m = $('message');
  m.textContent = text;
  m.className = ok ? 'ok' : 'error';
  m.hidden = !text;
}

function show(id) {
  for (const p of ['page-ask', 'page-me']) $(p).hidden = p !== id;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (csrf && method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, opts);
  let data = {};
  try { data = await res.json(); } catch (e) { data = {}; }
  return { status: res.status, data };
}

// Euros from cents: "12,50 €" in Spanish, "€12.50" in English.
function euros(cents, lang) {
  const neg = cents < 0 ? '-' : '';
  const a = Math.abs(cents);
  const whole = Math.floor(a / 100), frac = String(a % 100).padStart(2, '0');
  return lang === 'es' ? neg + whole + ',' + frac + ' €' : neg + '€' + whole + '.' + frac;
}

function assetName(asset) {
  if (asset === 'PTS') return L('Points');
  if (asset === 'EUR') return L('Purse');
  if (asset.startsWith('STAMP:')) return (lang === 'es' ? 'Sellos (' : 'Stamps (') + asset.slice(6) + ')';
  if (asset.startsWith('BONO:')) return 'Bono ' + asset.slice(5);
  return asset;
}

function showMe(d) {
  csrf = d.csrf || '';
  lang = d.customer.lang === 'es' ? 'es' : 'en';
  translatePage();
  $('me-name').textContent = d.customer.name + ' ' + d.customer.surname;
  $('me-program').textContent = d.customer.program;
  const body = $('balances').querySelector('tbody');
  body.replaceChildren();
  for (const b of d.balances) {
    const tr = document.createElement('tr');
    for (const text of [assetName(b.asset), b.asset === 'EUR' ? euros(b.amount, d.customer.lang) : String(b.amount)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  }
  const cards = $('cards');
  cards.replaceChildren();
  for (const c of d.cards) {
    const li = document.createElement('li');
    li.textContent = L(c.tech === 'virtual-qr' ? 'QR code' : 'Card') + ' ' + c.id + ' (' + L(c.status) + ')';
    cards.append(li);
  }
  show('page-me');
  showQr(d.cards.some((c) => c.tech !== 'virtual-qr' && c.status === 'active'));
  showRewards();
  $('history').querySelector('tbody').replaceChildren();
  showHistory(0);
}

function row(body, texts) {
  const tr = document.createElement('tr');
  for (const text of texts) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  body.append(tr);
}

// The tier (spend over the last 4 months) and what is missing for the next;
// the catalogue with what the points and the tier allow.
async function showRewards() {
  const r = await api('GET', '/portal/api/rewards');
  if (r.status !== 200) return;
  const t = r.data.tier;
  const eur = (n) => (lang === 'es' ? n + ' €' : '€' + n);
  const spent = lang === 'es' ? ' (' + eur(t.spent) + ' gastados en los últimos 4 meses)' : ' (' + eur(t.spent) + ' spent in the last 4 months)';
  $('tier').textContent = (t.tier > 0 ? (lang === 'es' ? 'Nivel ' : 'Tier ') + t.name : (lang === 'es' ? 'Aún sin nivel' : 'No tier yet')) + spent;
  $('tier-next').textContent = !t.next ? L(t.tier > 0 ? 'You are in the top tier.' : 'This program has no tiers.')
    : lang === 'es' ? 'Te faltan ' + eur(t.next.missing) + ' para llegar a ' + t.next.name + '.'
      : eur(t.next.missing) + ' more to reach ' + t.next.name + '.';
  const body = $('rewards').querySelector('tbody');
  body.replaceChildren();
  const names = new Map();
  for (const w of r.data.rewards) {
    names.set(w.id, w.name);
    const can = w.affordable ? L('Yes')
      : w.points_missing > 0 ? w.points_missing + (lang === 'es' ? ' puntos más' : ' points to go')
        : (lang === 'es' ? 'Desde el nivel ' : 'From tier ') + w.min_tier;
    row(body, [w.name, String(w.cost), can, '']);
    const cell = body.lastElementChild.lastElementChild;
    // A percentage reward depends on a sale: the till's, not the portal's.
    if (w.kind === 'percent') cell.textContent = L('At the till');
    else if (w.affordable) cell.append(redeemButton(w));
  }
  const codes = $('codes');
  codes.replaceChildren();
  for (const c of r.data.redeemed) {
    const li = document.createElement('li');
    li.textContent = c.code + ' ' + (names.get(c.reward) || '') + ', ' + c.points + (lang === 'es' ? ' puntos' : ' points') + ' (' +
      (c.honoured_at ? (lang === 'es' ? 'entregado' : 'given') : (lang === 'es' ? 'enséñalo en la tienda' : 'show it at the shop')) + ')';
    codes.append(li);
  }
  $('codes-none').hidden = r.data.redeemed.length > 0;
}

// A reward's "Redeem" button. Its idempotency key is made when the offer is
// shown, so a double click or a resent request names the same redemption
// and the server redeems it once; a new offer (after it) has a new key.
function redeemButton(w) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'redeem';
  b.textContent = L('Redeem');
  const raw = crypto.getRandomValues(new Uint8Array(16));
  b.dataset.key = Array.from(raw, (x) => x.toString(16).padStart(2, '0')).join('');
  b.addEventListener('click', async () => {
    const r = await api('POST', '/portal/api/redeem', { reward: w.id, key: b.dataset.key });
    if (r.status === 201 || r.status === 200) {
      say((lang === 'es' ? 'Canjeado: ' + r.data.name + '. Tu código: ' + r.data.code + '. Enséñalo en la tienda. Te quedan ' + r.data.points_after + ' puntos.'
        : 'Redeemed: ' + r.data.name + '. Your code: ' + r.data.code + '. Show it at the shop. You have ' + r.data.points_after + ' points left.'), true);
      refreshBalances();
      showRewards();
      showHistory(0);
    } else say(r.data.error ? r.data.error.message : 'the request failed (' + r.status + ')', false);
  });
  return b;
}

async function refreshBalances() {
  const r = await api('GET', '/portal/api/me');
  if (r.status !== 200) return;
  const body = $('balances').querySelector('tbody');
  body.replaceChildren();
  for (const b of r.data.balances)
    row(body, [assetName(b.asset), b.asset === 'EUR' ? euros(b.amount, lang) : String(b.amount)]);
}

// A movement's date in its store's zone (UTC without a store), as YYYY-MM-DD.
function day(at, tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC' }).format(new Date(at * 1000));
}

async function showHistory(before) {
  const r = await api('GET', '/portal/api/history' + (before ? '?before=' + before : ''));
  if (r.status !== 200) return;
  const body = $('history').querySelector('tbody');
  // The first page replaces what is shown, once its answer is in: two
  // loads at once (a double click) never show the page twice.
  if (!before) body.replaceChildren();
  for (const m of r.data.movements)
    row(body, [day(m.at, m.timezone), m.reason || m.kind, assetName(m.asset),
      m.asset === 'EUR' ? euros(m.amount, lang) : String(m.amount)]);
  const more = $('history-more');
  more.hidden = !r.data.next_before;
  more.dataset.before = r.data.next_before;
}

// Why there is no code to show (the answer's "why"), for a customer with an
// active card or without one. The portal issues no code (it holds no key):
// the desk does.
function noQrText(r, hasCard) {
  const why = r.status === 200 ? r.data.why : 'none';
  if (why === 'expired') {
    const day = new Date(r.data.expired_at * 1000).toISOString().slice(0, 10);
    return lang === 'es' ? 'Tu código QR caducó el ' + day + ': pide uno nuevo en el mostrador de la tienda.'
      : 'Your QR code expired on ' + day + ": ask at the shop's desk for a new one.";
  }
  if (why === 'withdrawn') return L("Your QR code was withdrawn: ask at the shop's desk for a new one.");
  if (why === 'not_kept') return L('Your QR code was made before this page could show it: use the one the shop gave you, or ask at the desk for a new one.');
  return hasCard ? L("You have no QR code yet: your card earns at the till as it is; ask at the shop's desk if you want a QR code too.")
    : L("You have no card or QR code yet: ask for one at the shop's desk.");
}

// The static QR code the desk issued (an SVG drawn by the server from the
// code's signed text), or a line saying why there is none.
async function showQr(hasCard) {
  const r = await api('GET', '/portal/api/qr');
  const q = r.status === 200 ? r.data.qr : null;
  $('qr-none').hidden = !!q;
  $('qr-code').hidden = !q;
  if (!q) {
    $('qr-none').textContent = noQrText(r, hasCard);
    $('qr-none').dataset.why = r.status === 200 ? r.data.why : 'error';
    return;
  }
  $('qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(q.svg);
  $('qr-until').textContent = (lang === 'es' ? 'Válido hasta el ' : 'Valid until ') + new Date(q.expires_at * 1000).toISOString().slice(0, 10) + '.';
}

async function start() {
  const m = /^#t=([0-9a-f]{64})$/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname);
    const r = await api('POST', '/portal/api/session', { token: m[1] });
    if (r.status === 200) {
      say('');
      showMe(r.data);
      return;
    }
    showAsk();
    say(r.data.error ? r.data.error.message : 'the sign-in failed (' + r.status + ')', false);
    return;
  }
  const r = await api('GET', '/portal/api/me');
  if (r.status === 200) showMe(r.data);
  else showAsk();
}

// The sign-in page, before the customer (and so the program's locale) is
// known: in the browser's language, as its Accept-Language asks the
// server's messages to be (web_es.h).
function showAsk() {
  lang = 'en';
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const p = l.toLowerCase().split('-')[0];
    if (p === 'es' || p === 'en') { lang = p; break; }
  }
  translatePage();
  show('page-ask');
}

document.addEventListener('DOMContentLoaded', () => {
  $('link-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/portal/api/link', { email: ev.target.email.value });
    if (r.status === 202) {
      say(lang === 'es' ? 'Si esta dirección está en una tarjeta, el enlace va de camino. Sirve una vez, durante ' + r.data.minutes + ' minutos.'
        : 'If this address is on a card, a link is on its way. It works once, within ' + r.data.minutes + ' minutes.', true);
    }
    else say(r.data.error ? r.data.error.message : 'the request failed (' + r.status + ')', false);
  });
  $('pin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/portal/api/pin', { card: ev.target.card.value, pin: ev.target.pin.value });
    ev.target.pin.value = '';
    if (r.status === 200) {
      say('');
      showMe(r.data);
    } else say(r.data.error ? r.data.error.message : 'the sign-in failed (' + r.status + ')', false);
  });
  $('history-more').addEventListener('click', () => showHistory(Number($('history-more').dataset.before)));
  $('sign-out').addEventListener('click', async () => {
    await api('DELETE', '/portal/api/session');
    csrf = '';
    say(L('Signed out.'), true);
    show('page-ask');
  });
  start();
});
