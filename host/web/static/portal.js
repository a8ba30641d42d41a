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
  lang = d.customer.lang;
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
  $('tier').textContent = t.tier > 0 ? 'Tier ' + t.name + ' (€' + t.spent + ' spent in the last 4 months)'
    : 'No tier yet (€' + t.spent + ' spent in the last 4 months)';
  $('tier-next').textContent = t.next ? '€' + t.next.missing + ' more to reach ' + t.next.name + '.' : 'You are in the top tier.';
  const body = $('rewards').querySelector('tbody');
  body.replaceChildren();
  for (const w of r.data.rewards) {
    const can = w.affordable ? 'Yes'
      : w.points_missing > 0 ? w.points_missing + ' points to go' : 'From tier ' + w.min_tier;
    row(body, [w.name, String(w.cost), can]);
  }
}

let lang = 'en';

// A movement's date in its store's zone (UTC without a store), as YYYY-MM-DD.
function day(at, tz) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'UTC' }).format(new Date(at * 1000));
}

async function showHistory(before) {
  const r = await api('GET', '/portal/api/history' + (before ? '?before=' + before : ''));
  if (r.status !== 200) return;
  const body = $('history').querySelector('tbody');
  for (const m of r.data.movements)
    row(body, [day(m.at, m.timezone), m.reason || m.kind, assetName(m.asset),
      m.asset === 'EUR' ? euros(m.amount, lang) : String(m.amount)]);
  const more = $('history-more');
  more.hidden = !r.data.next_before;
  more.dataset.before = r.data.next_before;
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
  $('history-more').addEventListener('click', () => showHistory(Number($('history-more').dataset.before)));
  $('sign-out').addEventListener('click', async () => {
    await api('DELETE', '/portal/api/session');
    csrf = '';
    say('Signed out.', true);
    show('page-ask');
  });
  start();
});
