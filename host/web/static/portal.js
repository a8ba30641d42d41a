// portal.js - the customer portal (host/web/web_portal.h): ask for a sign-in
// link, follow it (its token is in the URL's fragment, never sent to a server
// by the browser; this script hands it to the API once and wipes it from the
// address bar), see one's balances and cards. Server text goes in with
// textContent, never as HTML.
'use strict';

let csrf = '';

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
  if (asset === 'PTS') return 'Points';
  if (asset === 'EUR') return 'Purse';
  if (asset.startsWith('STAMP:')) return 'Stamps (' + asset.slice(6) + ')';
  if (asset.startsWith('BONO:')) return 'Bono ' + asset.slice(5);
  return asset;
}

function showMe(d) {
  csrf = d.csrf || '';
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
    li.textContent = (c.tech === 'virtual-qr' ? 'QR code ' : 'Card ') + c.id + ' (' + c.status + ')';
    cards.append(li);
  }
  show('page-me');
  showQr();
}

// The static QR code the desk issued (an SVG drawn by the server from the
// code's signed text), or a line saying there is none.
async function showQr() {
  const r = await api('GET', '/portal/api/qr');
  const q = r.status === 200 ? r.data.qr : null;
  $('qr-none').hidden = !!q;
  $('qr-code').hidden = !q;
  if (!q) return;
  $('qr').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(q.svg);
  $('qr-until').textContent = 'Valid until ' + new Date(q.expires_at * 1000).toISOString().slice(0, 10) + '.';
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
    say(r.data.error ? r.data.error.message : 'the sign-in failed (' + r.status + ')', false);
    show('page-ask');
    return;
  }
  const r = await api('GET', '/portal/api/me');
  if (r.status === 200) showMe(r.data);
  else show('page-ask');
}

document.addEventListener('DOMContentLoaded', () => {
  $('link-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await api('POST', '/portal/api/link', { email: ev.target.email.value });
    if (r.status === 202) say('If this address is on a card, a link is on its way. It works once, within ' + r.data.minutes + ' minutes.', true);
    else say(r.data.error ? r.data.error.message : 'the request failed (' + r.status + ')', false);
  });
  $('sign-out').addEventListener('click', async () => {
    await api('DELETE', '/portal/api/session');
    csrf = '';
    say('Signed out.', true);
    show('page-ask');
  });
  start();
});
