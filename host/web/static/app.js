// leal back office: plain JavaScript, no framework, no build step. Every
// text from the server goes into the page through textContent, never as
// HTML, so a customer named "<script>" is shown as those characters.
'use strict';

const state = { user: null, csrf: '', lang: 'en' };
const $ = (id) => document.getElementById(id);

// The page's languages (issue 16): English is the text written in the page;
// ES maps each fixed English text to its Spanish. The user's language comes
// with the session (leal user add|set --lang). Server data (names, reasons)
// is never translated, only the page's own words and card states.
const ES = {"leal back office": "leal, oficina", "Dashboard": "Panel", "Customers": "Clientes", "Cards": "Tarjetas", "Promotions": "Promociones", "Terminals": "Terminales", "Users": "Usuarios", "Audit log": "Registro de auditoría", "Sign out": "Cerrar sesión", "Sign in": "Entrar", "User": "Usuario", "Password": "Contraseña", "Name or surname (accents and case ignored)": "Nombre o apellidos (sin distinguir acentos ni mayúsculas)", "Search": "Buscar", "New customer": "Nuevo cliente", "Name": "Nombre", "Surname": "Apellidos", "E-mail": "Correo", "Phone": "Teléfono", "Customer": "Cliente", "Balances": "Saldos", "Asset": "Activo", "Balance": "Saldo", "Card": "Tarjeta", "Kind": "Tipo", "Status": "Estado", "Edit": "Editar", "Program": "Programa", "Birth date": "Fecha de nacimiento", "YYYY-MM-DD": "AAAA-MM-DD", "Address": "Dirección", "Save": "Guardar", "Period": "Periodo", "Store": "Tienda", "Sales, card": "Ventas, tarjeta", "Sales, QR": "Ventas, QR", "Sales, no card": "Ventas, sin tarjeta", "Points issued": "Puntos emitidos", "Points redeemed": "Puntos canjeados", "Purse loaded": "Monedero cargado", "Purse spent": "Monedero gastado", "Active customers": "Clientes activos", "New customers": "Clientes nuevos", "Outstanding": "Pendiente", "The last 12 months": "Los últimos 12 meses", "points issued, redeemed and expired per month": "puntos emitidos, canjeados y caducados por mes", "Nothing to draw yet.": "Aún no hay nada que dibujar.", "Card id": "Número de tarjeta", "Open": "Abrir", "Hot list": "Lista negra", "Since (UTC)": "Desde (UTC)", "Why": "Motivo", "Who": "Quién", "Reason": "Motivo", "Block": "Bloquear", "Unblock": "Desbloquear", "Status history": "Historial de estados", "When (UTC)": "Cuándo (UTC)", "When": "Cuándo", "The account's last movements": "Últimos movimientos de la cuenta", "When (the store's time)": "Cuándo (hora de la tienda)", "Entry": "Asiento", "Amount": "Importe", "Earning rules": "Reglas de acumulación", "Multiplier": "Multiplicador", "Bonus points": "Puntos extra", "From": "Desde", "To": "Hasta", "Combines": "Se combina", "Tiers": "Niveles", "Tier": "Nivel", "From (euros spent)": "Desde (euros gastados)", "Rewards": "Premios", "Points": "Puntos", "Lowest tier": "Nivel mínimo", "Stamp cards": "Tarjetas de sellos", "Stamps for a reward": "Sellos por premio", "Reward": "Premio", "Bonos": "Bonos", "Sessions": "Sesiones", "Valid days": "Días de validez", "Price": "Precio", "Change a rule": "Cambiar una regla", "Rule": "Regla", "Multiplier (thousandths)": "Multiplicador (milésimas)", "Replay sales from": "Repetir las ventas desde", "to": "hasta", "Simulate on past sales": "Simular con ventas pasadas", "Package": "Paquete", "Package built": "Paquete creado", "Last journal entry taken": "Último asiento del diario recibido", "Entries": "Asientos", "Import findings": "Hallazgos de la importación", "Open reconciliation findings": "Hallazgos de conciliación abiertos", "Terminal": "Terminal", "Found (UTC)": "Encontrado (UTC)", "What to do": "Qué hacer", "Valid until": "Válido hasta", "Settlement between shops": "Liquidación entre tiendas", "Show": "Mostrar", "Month": "Mes", "Row": "Fila", "Shop": "Tienda", "Points collected": "Puntos recogidos", "Points paid out": "Puntos pagados", "Role": "Rol", "Language": "Idioma", "Stores": "Tiendas", "State": "Estado", "What": "Qué", "Object": "Objeto", "Today": "Hoy", "This month": "Este mes", "Total": "Total", "(no store)": "(sin tienda)", "Purse": "Monedero", "(no point value set)": "(sin valor del punto)", "Issued": "Emitida", "Last read at the desk": "Última lectura en el mostrador", "Since": "Desde", "never": "nunca", "Account": "Cuenta", "active": "activa", "blocked": "bloqueada", "lost": "perdida", "stolen": "robada", "replaced": "sustituida", "admin": "administrador", "manager": "gerente", "staff": "personal", "Saved.": "Guardado.", "Blocked.": "Bloqueada.", "Unblocked.": "Desbloqueada.", "Simulate the change before saving it.": "Simule el cambio antes de guardarlo.", "Change a tier, reward, stamp card or bono": "Cambiar un nivel, premio, tarjeta de sellos o bono", "Change": "Cambiar", "Value": "Valor", "Price (cents)": "Precio (céntimos)", "Stamp card": "Tarjeta de sellos", "Bono": "Bono", "Add a user": "Añadir un usuario", "Stores (ids, with commas)": "Tiendas (ids, separados por comas)", "Add": "Añadir", "Change a user": "Cambiar un usuario", "Change the role and stores": "Cambiar el rol y las tiendas", "New password": "Contraseña nueva", "Set the password": "Poner la contraseña", "Disable": "Desactivar", "Enable": "Activar", "Added.": "Añadido.", "Disabled.": "Desactivado.", "Enabled.": "Activado.", "Password set.": "Contraseña puesta.", "Add, change or remove a tier, reward, stamp card or bono": "Añadir, cambiar o quitar un nivel, premio, tarjeta de sellos o bono", "Action": "Acción", "Which": "Cuál", "Remove": "Quitar", "Add a tier": "Añadir un nivel", "Add a reward": "Añadir un premio", "Add a stamp card": "Añadir una tarjeta de sellos", "Add a bono": "Añadir un bono", "Product": "Producto", "Voucher": "Vale", "Percent": "Porcentaje", "Cashback": "Reembolso", "A stamp per": "Un sello por", "Sale": "Venta", "Item": "Artículo", "Consent": "Consentimiento", "Channel": "Canal", "Purpose": "Finalidad", "How": "Cómo", "Evidence": "Prueba", "granted": "concedido", "withdrawn": "retirado", "Record consent": "Registrar el consentimiento", "Consent recorded.": "Consentimiento registrado.", "marketing": "publicidad", "service": "servicio", "profiling": "perfiles", "email": "correo electrónico", "sms": "SMS", "whatsapp": "WhatsApp", "phone": "teléfono", "post": "correo postal", "Notes": "Notas", "New note": "Nota nueva", "Add the note": "Añadir la nota", "Erasure of personal data": "Borrado de los datos personales", "Asked on": "Pedido el", "at the desk": "en el mostrador", "by e-mail": "por correo electrónico", "by post": "por correo postal", "by phone": "por teléfono", "in the portal": "en el portal", "Record the request": "Registrar la solicitud", "Carry out the erasure": "Ejecutar el borrado", "My page": "Mi página", "Delete": "Borrar", "Cancel": "Cancelar", "edited": "editada", "Note added.": "Nota añadida.", "Note saved.": "Nota guardada.", "Note deleted.": "Nota borrada.", "Request recorded.": "Solicitud registrada.", "Erased.": "Borrado.", "No erasure requested.": "No se ha pedido el borrado.", "Language saved.": "Idioma guardado.", "No notes.": "Sin notas.", "español": "español", "English": "English", "Holder": "Titular", "Detach from the family": "Separar de la familia", "Detached.": "Separada.", "Their cards": "Sus tarjetas", "choose": "elija", "keep working, anonymously": "siguen funcionando, anónimas", "blocked at the terminals": "bloqueadas en los terminales", "Choose what becomes of their cards.": "Elija qué pasa con sus tarjetas.", "Forgot your password?": "¿Ha olvidado su contraseña?", "Send me a link": "Enviarme un enlace", "Choose a new password": "Elija una contraseña nueva", "If that user has an e-mail address, a link is on its way; it works for 30 minutes.": "Si ese usuario tiene correo, le llega un enlace; sirve durante 30 minutos.", "Password changed. Sign in with the new one.": "Contraseña cambiada. Entre con la nueva.", "E-mail (for a forgotten password)": "Correo (para una contraseña olvidada)", "Set the e-mail address": "Poner el correo", "E-mail address set.": "Correo puesto.", "E-mail address removed.": "Correo quitado.", "Text version": "Versión del texto"};
const t = (text) => (state.lang === 'es' && Object.prototype.hasOwnProperty.call(ES, text) ? ES[text] : text);
const original = new Map();
// Puts every fixed text of index.html (text nodes, placeholders, labels, alt
// texts) in the user's language, from the English kept the first time.
function translatePage() {
  document.documentElement.lang = state.lang;
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!original.has(n)) {
      const k = n.nodeValue.trim();
      if (!Object.prototype.hasOwnProperty.call(ES, k)) continue;
      original.set(n, n.nodeValue);
    }
    const en = original.get(n);
    n.nodeValue = en.replace(en.trim(), t(en.trim()));
  }
  for (const e of document.querySelectorAll('[placeholder], [aria-label], img[alt]')) {
    for (const a of ['placeholder', 'aria-label', 'alt']) {
      if (!e.hasAttribute(a)) continue;
      const key = 'i18n' + a.replace('-', '');
      if (!(key in e.dataset)) e.dataset[key] = e.getAttribute(a);
      e.setAttribute(a, t(e.dataset[key]));
    }
  }
  document.title = t('leal back office');
}

function show(page) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== 'page-' + page;
}

function say(text, ok) {
  const m = $('message');
  m.textContent = text || '';
  m.className = ok ? 'ok' : '';
  m.hidden = !text;
}

async function api(method, path, body) {
  const opts = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = state.csrf;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && state.user && path !== '/api/session') {
    // The session ended under us (signed out elsewhere, disabled): back to sign-in.
    state.user = null;
    setTimeout(route, 0);
  }
  if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
  return data;
}

function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function signedIn(data) {
  state.user = data.user;
  state.csrf = data.csrf;
  state.lang = data.user.lang === 'es' ? 'es' : 'en';
  translatePage();
  $('nav').hidden = false;
  $('who').textContent = data.user.name + ' (' + t(data.user.role) + ')';
  $('who').title = t('My page');
  $('nav-audit').hidden = data.user.role !== 'admin';
  $('nav-users').hidden = data.user.role === 'staff';
  $('nav-dashboard').hidden = data.user.role === 'staff';
  $('nav-terminals').hidden = data.user.role === 'staff';
  $('nav-rules').hidden = data.user.role === 'staff';
}

const utc = (t) => new Date(t * 1000).toISOString().slice(0, 16).replace('T', ' ');
// Euros as people write them: "12,50 €" in Spanish, "€12.50" in English.
function euros(cents) {
  const a = (Math.abs(cents) / 100).toFixed(2);
  const sign = cents < 0 ? '-' : '';
  return state.lang === 'es' ? sign + a.replace('.', ',') + ' €' : sign + '€' + a;
}
// A time in the zone of the store it happened at ("" or unknown: UTC), named.
function local(t, tz) {
  try {
    if (tz) {
      return new Intl.DateTimeFormat('sv-SE', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(t * 1000));
    }
  } catch (e) { /* an unknown zone: UTC below */ }
  return utc(t) + ' UTC';
}

function row(body, values, numFrom) {
  const tr = document.createElement('tr');
  values.forEach((v, i) => cell(tr, v === undefined || v === null ? '' : String(v), i >= numFrom ? 'num' : ''));
  body.appendChild(tr);
  return tr;
}

async function dashboard() {
  const d = await api('GET', '/api/dashboard');
  $('dash-range').textContent = state.lang === 'es'
    ? 'Programa ' + d.program + '. Hoy ' + d.today.from + '; este mes del ' + d.month.from + ' al ' +
      d.month.to + (d.timezone ? ' (días de ' + d.timezone + ').' : ' (días UTC).')
    : 'Program ' + d.program + '. Today ' + d.today.from + '; this month ' + d.month.from + ' to ' +
      d.month.to + (d.timezone ? ' (days in ' + d.timezone + ').' : ' (UTC days).');
  const body = $('dash-table').tBodies[0];
  body.replaceChildren();
  for (const [name, p] of [[t('Today'), d.today], [t('This month'), d.month]]) {
    const line = (store, t) => row(body, [name, store, t.sales_card, t.sales_qr, t.sales_no_card,
      t.points_issued, t.points_redeemed, euros(t.purse_loaded), euros(t.purse_spent), t.active,
      t.new], 2);
    for (const s of p.stores) line(s.store || t('(no store)'), s);
    line(t('Total'), p.total).className = 'total';
  }
  const dl = $('dash-liability');
  dl.replaceChildren();
  const pts = d.liability.PTS || { units: 0, value_cents: null };
  const eur = d.liability.EUR || { units: 0 };
  for (const [k, v] of [[t('Points'), pts.units + (pts.value_cents === null ? ' ' + t('(no point value set)') : ' = ' + euros(pts.value_cents))],
    [t('Purse'), euros(eur.units)], [t('Customers'), d.month.total.customers]]) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
  // The server's SVG (host/svg: no script in it) as an image, so it cannot run anything.
  $('dash-chart').hidden = !d.chart_svg;
  $('dash-no-chart').hidden = !!d.chart_svg;
  if (d.chart_svg) $('dash-chart').src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(d.chart_svg);
}

async function cards() {
  const d = await api('GET', '/api/hotlist');
  const body = $('hotlist').tBodies[0];
  body.replaceChildren();
  for (const e of d.hotlist) {
    const tr = row(body, ['', t(e.status), local(e.at, d.timezone), e.reason, e.operator], 99);
    const a = document.createElement('a');
    a.href = '#/cards/' + e.card;
    a.textContent = e.card;
    tr.cells[0].appendChild(a);
  }
}

async function viewCard(id, data) {
  const d = data || await api('GET', '/api/cards/' + id);
  const c = d.card;
  $('card-title').textContent = t('Card') + ' ' + c.id;
  const dl = $('card-facts');
  dl.replaceChildren();
  for (const [k, v] of [[t('Status'), t(c.status)], [t('Kind'), c.tech], [t('Account'), c.account],
    [t('Program'), c.program], [t('Issued'), c.issued_at ? local(c.issued_at, d.timezone) : ''],
    [t('Last read at the desk'), c.seen_at ? local(c.seen_at, d.timezone) : t('never')]]) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
  const f = $('card-status-form');
  f.dataset.id = c.id;
  f.dataset.block = c.status === 'active' ? '1' : '';
  f.hidden = c.status !== 'active' && c.status !== 'blocked';
  $('card-status-button').textContent = t(c.status === 'active' ? 'Block' : 'Unblock');
  const h = $('card-history').tBodies[0];
  h.replaceChildren();
  for (const e of d.history) row(h, [local(e.at, d.timezone), t(e.status), e.reason, e.operator], 99);
  const m = $('card-moves').tBodies[0];
  m.replaceChildren();
  for (const x of d.movements) {
    row(m, [local(x.at, x.timezone), x.entry, x.kind, x.asset, x.asset === 'EUR' ? euros(x.amount) : x.amount, x.reason], 4);
  }
}

async function rulesPage(data) {
  const d = data || await api('GET', '/api/rules');
  const r = d.rules;
  $('rules-version').textContent = state.lang === 'es'
    ? 'Programa ' + d.program + ', versión de las reglas ' + r.version + '; base ' +
      String(r.rate_milli / 1000).replace('.', ',') + ' puntos por euro, bienvenida ' + r.welcome_points + ' puntos.'
    : 'Program ' + d.program + ', rule set version ' + r.version + '; base rate ' +
      (r.rate_milli / 1000) + ' points a euro, welcome ' + r.welcome_points + ' points.';
  const fill = (id, rows) => {
    const body = $(id).tBodies[0];
    body.replaceChildren();
    for (const v of rows) row(body, v, 99);
  };
  fill('rule-list', r.rules.map((x) => [x.id, x.name, x.kind, x.kind === 'multiplier' ? x.multiplier_milli / 1000 : '',
    x.kind === 'bonus' ? x.bonus_points : '', x.from || '', x.to || '', x.combine]));
  fill('tier-list', r.tiers.map((x) => [x.tier, x.name, x.threshold_euros, x.multiplier_milli / 1000]));
  fill('reward-list', r.rewards.map((x) => [x.id, x.name, x.cost_points, x.min_tier]));
  fill('stamp-list', r.stamps.map((x) => [x.card, x.name, x.goal, x.reward]));
  fill('bono-list', r.bonos.map((x) => [x.id, x.name, x.sessions, x.valid_days, euros(x.price_cents)]));
  const f = $('rule-form');
  const sel = f.elements.rule;
  sel.replaceChildren();
  for (const x of r.rules) {
    const o = document.createElement('option');
    o.value = x.id;
    o.textContent = x.id + ' ' + x.name;
    sel.appendChild(o);
  }
  state.rules = r.rules;
  ruleChosen();
  const items = [].concat(
    r.tiers.map((x) => ['tier', x.tier, t('Tier'), x]),
    r.rewards.map((x) => ['reward', x.id, t('Reward'), x]),
    r.stamps.map((x) => ['stamp', x.card, t('Stamp card'), x]),
    r.bonos.map((x) => ['bono', x.id, t('Bono'), x]));
  const cs = $('cat-form').elements.which;
  const was = cs.value;
  cs.replaceChildren();
  for (const [part, id, label, x] of items) {
    const o = document.createElement('option');
    o.value = part + ':' + id;
    o.textContent = label + ' ' + id + ' ' + x.name;
    cs.appendChild(o);
  }
  if (items.some(([part, id]) => part + ':' + id === was)) cs.value = was;
  state.catalogue = items;
  catChosen();
}

// The catalogue's fields per part, as the API names them (web_catalogue.c).
const CAT_FIELDS = { tier: ['threshold_euros', 'multiplier_milli'], reward: ['cost_points', 'value', 'min_tier'],
  stamp: ['goal', 'reward'], bono: ['sessions', 'valid_days', 'price_cents'] };

function catItem() {
  const v = $('cat-form').elements.which.value;
  return (state.catalogue || []).find(([part, id]) => part + ':' + id === v);
}

// The form's action: 'change' or 'remove' (the item chosen under Which) or 'add' (a new item of a part).
function catMode() {
  const op = $('cat-form').elements.op.value;
  return op.startsWith('add:') ? { op: 'add', part: op.slice(4) } : { op, part: (catItem() || [''])[0] };
}

// The form shows the chosen item's values and only its part's fields; a new
// item starts empty (the fields with a default show it), a removal shows none.
function catChosen() {
  const f = $('cat-form');
  const it = catItem();
  const { op, part } = catMode();
  $('cat-which').hidden = op === 'add';
  $('cat-name').hidden = op === 'remove';
  for (const l of f.querySelectorAll('label[data-part]')) {
    l.hidden = op === 'remove' || l.dataset.part !== part || ('add' in l.dataset && op !== 'add');
  }
  const defaults = { multiplier_milli: 1000, min_tier: 0, valid_days: 0 };
  f.elements.name.value = op === 'add' ? '' : it ? it[3].name : '';
  for (const k of [].concat(...Object.values(CAT_FIELDS))) {
    if (op === 'add') f.elements[k].value = CAT_FIELDS[part].includes(k) && k in defaults ? defaults[k] : '';
    else f.elements[k].value = it && CAT_FIELDS[part].includes(k) ? it[3][k] : '';
  }
  if (!f.elements.from.value) {
    f.elements.from.value = $('rule-form').elements.from.value;
    f.elements.to.value = $('rule-form').elements.to.value;
  }
  catDirty();
}

// The change the form shows, as the API takes it (web_catalogue.c).
function catChange() {
  const f = $('cat-form').elements;
  const { op, part } = catMode();
  if (op === 'add') {
    const c = { op, part, name: f.name.value };
    if (part === 'reward') c.kind = f.kind.value;
    if (part === 'stamp') c.per = f.per.value;
    for (const k of CAT_FIELDS[part]) if (f[k].value !== '') c[k] = Number(f[k].value);
    return c;
  }
  const it = catItem();
  if (!it) return null;
  if (op === 'remove') return { op, part: it[0], id: it[1] };
  const c = { part: it[0], id: it[1], name: f.name.value };
  for (const k of CAT_FIELDS[it[0]]) c[k] = Number(f[k].value);
  return c;
}

function catDirty() {
  $('cat-save').disabled = true;
  $('cat-simulation').textContent = '';
  state.catSimulated = '';
}

function simulationText(d) {
  const diff = ' (' + (d.with_change_points - d.current_rules_points >= 0 ? '+' : '') +
    (d.with_change_points - d.current_rules_points) + ').';
  return state.lang === 'es'
    ? 'Ventas del ' + d.from + ' al ' + d.to + ': ' + d.sales + ' ventas de ' + d.accounts + ' cuentas dieron ' +
      d.real_points + ' puntos; las reglas actuales dan ' + d.current_rules_points + '; con este cambio ' +
      d.with_change_points + diff
    : 'Sales ' + d.from + ' to ' + d.to + ': ' + d.sales + ' sales of ' + d.accounts + ' accounts gave ' +
      d.real_points + ' points; the current rules give ' + d.current_rules_points + '; with this change ' +
      d.with_change_points + diff;
}

async function catSimulate() {
  const f = $('cat-form').elements;
  const c = catChange();
  const d = await api('POST', '/api/catalogue/simulate', Object.assign({ from: f.from.value, to: f.to.value }, c));
  const held = d.sessions_held > 0 ? ' ' + (state.lang === 'es'
    ? 'Los clientes aún tienen ' + d.sessions_held + ' sesiones de este bono: los terminales las siguen aceptando, pero el mostrador ya no encontrará el tipo.'
    : 'Customers still hold ' + d.sessions_held + ' sessions of this bono: terminals still take them, but the desk will no longer find the kind.') : '';
  $('cat-simulation').textContent = simulationText(d) + held;
  state.catSimulated = JSON.stringify(c);
  $('cat-save').disabled = false;
}

// The form shows the chosen rule's values; Save waits for a simulation of exactly these values.
function ruleChosen() {
  const f = $('rule-form');
  const x = (state.rules || []).find((k) => String(k.id) === f.elements.rule.value);
  f.elements.bonus_points.value = x ? x.bonus_points : '';
  f.elements.multiplier_milli.value = x ? x.multiplier_milli : '';
  if (!f.elements.from.value) {
    const now = new Date();
    f.elements.from.value = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString().slice(0, 10);
    // Sales are dated in their store's zone: tomorrow (UTC) covers every store east of UTC.
    f.elements.to.value = new Date(now.getTime() + 86400000).toISOString().slice(0, 10);
  }
  ruleDirty();
}

function ruleChange() {
  const f = $('rule-form').elements;
  const x = (state.rules || []).find((k) => String(k.id) === f.rule.value) || {};
  const c = { rule: Number(f.rule.value) };
  if (x.kind === 'bonus') c.bonus_points = Number(f.bonus_points.value);
  else c.multiplier_milli = Number(f.multiplier_milli.value);
  return c;
}

function ruleDirty() {
  $('rule-save').disabled = true;
  $('rule-simulation').textContent = '';
  state.simulated = '';
}

async function ruleSimulate() {
  const f = $('rule-form').elements;
  const c = ruleChange();
  const d = await api('POST', '/api/rules/simulate', Object.assign({ from: f.from.value, to: f.to.value }, c));
  $('rule-simulation').textContent = simulationText(d);
  state.simulated = JSON.stringify(c);
  $('rule-save').disabled = false;
}

// The validity of the terminal's package, from its file in the directory
// `leal serve --packages` names (the ledger keeps no validity): until when,
// expired or expiring within a day, and a file older than the ledger's
// newest package of the terminal (built, not yet put in the directory).
function validity(t, known) {
  const es = state.lang === 'es', f = t.package_file;
  if (!known) return es ? 'desconocida (leal serve --packages DIR)' : 'unknown (leal serve --packages DIR)';
  if (f.file === 'missing') return es ? 'no hay fichero en el directorio de paquetes' : 'no file in the packages directory';
  if (f.file === 'unreadable') return es ? 'el fichero no se puede leer' : 'the file cannot be read';
  if (f.file === 'other') {
    return es ? 'el fichero es del terminal ' + f.terminal + ' del programa ' + f.program
      : 'the file is terminal ' + f.terminal + "'s of program " + f.program;
  }
  if (f.file !== 'found') return es ? 'fichero dañado: cree un paquete nuevo' : 'damaged file: build a new package';
  let s = local(f.valid_until_at, t.timezone);
  if (f.state === 'expired') s += es ? ' (caducado)' : ' (expired)';
  if (f.state === 'expiring') s += es ? ' (caduca en menos de un día)' : ' (expires within a day)';
  if (f.version !== t.package_version) {
    s += es ? '; el fichero es la versión ' + f.version + ', la última creada es la ' + t.package_version
      : '; the file is version ' + f.version + ', the newest built is ' + t.package_version;
  }
  return s;
}

async function terminals() {
  const d = await api('GET', '/api/terminals');
  const body = $('terminal-list').tBodies[0];
  body.replaceChildren();
  for (const t of d.terminals) {
    const tr = row(body, [t.id, t.store, t.name, t.package_version || 'none', t.package_built_at ? local(t.package_built_at, t.timezone) : '',
      validity(t, d.packages_known), t.last_entry_at ? local(t.last_entry_at, t.timezone) : (state.lang === 'es' ? 'nunca' : 'never'),
      t.entries, t.import_findings], 7);
    const f = t.package_file;
    tr.cells[5].dataset.state = !d.packages_known ? 'unknown' : f.file !== 'found' ? f.file : f.state;
    if (f && f.file === 'found' && f.state !== 'valid') tr.cells[5].classList.add(f.state);
  }
  const fb = $('finding-list').tBodies[0];
  fb.replaceChildren();
  for (const f of d.findings) row(fb, [f.id, f.kind + (f.fraud ? (state.lang === 'es' ? ' (fraude)' : ' (fraud)') : ''), f.card || '', f.terminal || '', utc(f.found_at), f.detail], 99);
  const form = $('settle-form');
  if (!form.elements.program.value) form.elements.program.value = d.program;
  await settlement();
}

async function settlement() {
  const f = $('settle-form').elements;
  const q = new URLSearchParams({ program: f.program.value });
  if (f.from.value) q.set('from', f.from.value);
  if (f.to.value) q.set('to', f.to.value);
  const d = await api('GET', '/api/settlement?' + q.toString());
  if (state.lang === 'es') {
    $('settle-note').textContent = d.collective
      ? 'Programa ' + d.program + ', del ' + d.from + ' al ' + d.to + ' (UTC): un saldo negativo es lo que debe la tienda.'
      : 'El programa ' + d.program + ' no es un colectivo: sus tiendas no liquidan entre sí.';
  } else {
    $('settle-note').textContent = d.collective
      ? 'Program ' + d.program + ', ' + d.from + ' to ' + d.to + ' (UTC): a negative balance is what the shop owes.'
      : 'Program ' + d.program + ' is not a collective: its shops do not settle between themselves.';
  }
  const body = $('settle-list').tBodies[0];
  body.replaceChildren();
  for (const x of d.rows) {
    row(body, [x.month, x.row, x.store, x.points_collected, x.points_paid_out, euros(x.purse_loaded),
      euros(x.purse_spent), euros(x.balance)], 3);
  }
}

async function listUsers() {
  const d = await api('GET', '/api/users');
  const body = $('user-list').tBodies[0];
  body.replaceChildren();
  for (const u of d.users) row(body, [u.id, u.name, t(u.role), u.lang, u.stores.join(', '), u.email, state.lang === 'es' ? (u.disabled ? 'desactivado' : 'activo') : (u.disabled ? 'disabled' : 'active')], 99);
  // Admins may give any role; a manager gives staff and manager only.
  for (const f of [$('user-add-form'), $('user-edit-form')]) {
    for (const o of f.elements.role.options) o.hidden = o.value === 'admin' && state.user.role !== 'admin';
  }
  const sel = $('user-edit-form').elements.user;
  const was = sel.value;
  sel.replaceChildren();
  for (const u of d.users.filter((x) => x.id !== state.user.id)) {
    const o = document.createElement('option');
    o.value = u.id;
    o.textContent = u.id + ' ' + u.name;
    sel.appendChild(o);
  }
  if (d.users.some((x) => String(x.id) === was)) sel.value = was;
  state.users = d.users;
  userChosen();
}

function userChosen() {
  const f = $('user-edit-form').elements;
  const u = (state.users || []).find((x) => String(x.id) === f.user.value);
  f.role.value = u ? u.role : 'staff';
  f.stores.value = u ? u.stores.join(', ') : '';
  f.email.value = u ? u.email : '';
  $('user-disable').textContent = t(u && u.disabled ? 'Enable' : 'Disable');
}

const storeIds = (text) => text.split(',').map((x) => x.trim()).filter((x) => x).map(Number);

async function listCustomers(q) {
  const data = await api('GET', '/api/customers' + (q ? '?q=' + encodeURIComponent(q) : ''));
  const body = $('customer-list').tBodies[0];
  body.replaceChildren();
  for (const c of data.customers) {
    const tr = document.createElement('tr');
    const a = document.createElement('a');
    a.href = '#/customers/' + c.id;
    a.textContent = c.id;
    cell(tr, '').appendChild(a);
    cell(tr, c.name);
    cell(tr, c.surname);
    cell(tr, c.email);
    cell(tr, c.phone);
    body.appendChild(tr);
  }
}

const FIELDS = ['name', 'surname', 'email', 'phone', 'birth_date', 'address'];

function fillForm(c) {
  const f = $('customer-form');
  f.elements.program.value = c ? c.program : '';
  f.elements.program.disabled = !!c;
  for (const k of FIELDS) f.elements[k].value = c ? c[k] : '';
  f.dataset.id = c ? c.id : '';
}

async function viewCustomer(id) {
  const data = await api('GET', '/api/customers/' + id);
  const c = data.customer;
  $('customer-title').textContent = (c.name + ' ' + c.surname).trim() || t('Customer') + ' ' + c.id;
  const dl = $('customer-facts');
  dl.replaceChildren();
  for (const [k, v] of [[t('Customer'), c.id], [t('Program'), c.program], [t('Account'), c.account],
    [t('E-mail'), c.email], [t('Phone'), c.phone], [t('Birth date'), c.birth_date], [t('Address'), c.address]]) {
    const dt = document.createElement('dt');
    const dd = document.createElement('dd');
    dt.textContent = k;
    dd.textContent = v;
    dl.append(dt, dd);
  }
  const body = $('balances').tBodies[0];
  body.replaceChildren();
  for (const b of data.balances) {
    const tr = document.createElement('tr');
    cell(tr, b.asset);
    cell(tr, b.asset === 'EUR' ? b.shown + ' €' : b.shown, 'num');
    body.appendChild(tr);
  }
  $('balances').hidden = data.balances.length === 0;
  const cb = $('customer-cards').tBodies[0];
  cb.replaceChildren();
  for (const k of data.cards) {
    const tr = row(cb, ['', k.tech, k.status, k.holder], 99);
    const a = document.createElement('a');
    a.href = '#/cards/' + k.id;
    a.textContent = k.id;
    tr.cells[0].appendChild(a);
  }
  // Consent per channel and purpose (the latest record of each), and a form
  // that records one change (PUT with "consent": audited, method "web").
  const kb = $('customer-consent').tBodies[0];
  kb.replaceChildren();
  for (const k of data.consent) {
    row(kb, [k.channel, t(k.purpose), t(k.granted ? 'granted' : 'withdrawn'), local(k.at), k.method,
      k.recorded_by, k.evidence, k.text_version], 99);
  }
  $('customer-consent').hidden = data.consent.length === 0;
  $('customer-consent-part').hidden = false;
  $('consent-form').dataset.id = c.id;
  // Family cards: a manager or admin detaches one of two or more active cards.
  const active = data.cards.filter((k) => k.status === 'active');
  const df = $('detach-form');
  df.hidden = state.user.role === 'staff' || active.length < 2;
  df.dataset.id = c.id;
  df.elements.card.replaceChildren(...active.map((k) => {
    const o = document.createElement('option');
    o.value = k.id;
    o.textContent = k.id + (k.holder ? ' (' + k.holder + ')' : '');
    return o;
  }));
  showNotes(c.id, data.notes);
  showErasure(c.id, data.erasure);
  $('customer-notes-part').hidden = false;
  $('edit-title').textContent = t('Edit');
  fillForm(c);
}

// The customer's notes, oldest first: date, author, text; Edit and Delete
// for the notes the server says this user may change (their own; any, for
// a manager or admin).
function showNotes(customer, notes) {
  const ol = $('customer-notes');
  ol.replaceChildren();
  $('note-form').dataset.id = customer;
  for (const n of notes) {
    const li = document.createElement('li');
    li.dataset.note = n.id;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = local(n.at) + ', ' + n.author + (n.edited_at ? ' (' + t('edited') + ' ' + local(n.edited_at) + ')' : '') + ': ';
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = n.text;
    li.append(meta, text);
    if (n.may_change) {
      const edit = document.createElement('button');
      edit.type = 'button';
      edit.className = 'note-edit';
      edit.textContent = t('Edit');
      edit.addEventListener('click', () => editNote(li, customer, n));
      const del = document.createElement('button');
      del.type = 'button';
      del.className = 'note-delete';
      del.textContent = t('Delete');
      del.addEventListener('click', () => noteDo('DELETE', n.id, undefined, customer, 'Note deleted.'));
      li.append(edit, del);
    }
    ol.appendChild(li);
  }
  if (notes.length === 0) {
    const li = document.createElement('li');
    li.className = 'meta';
    li.textContent = t('No notes.');
    ol.appendChild(li);
  }
}

function editNote(li, customer, n) {
  const f = document.createElement('form');
  f.className = 'note-edit-form';
  const area = document.createElement('textarea');
  area.name = 'text';
  area.maxLength = 255;
  area.rows = 2;
  area.value = n.text;
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = t('Save');
  const cancel = document.createElement('button');
  cancel.type = 'button';
  cancel.textContent = t('Cancel');
  cancel.addEventListener('click', () => viewCustomer(customer).catch((e) => say(e.message)));
  f.append(area, save, cancel);
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    noteDo('PUT', n.id, { text: area.value }, customer, 'Note saved.');
  });
  li.replaceChildren(f);
  area.focus();
}

async function noteDo(method, id, body, customer, done) {
  try {
    await api(method, '/api/notes/' + id, body);
    await viewCustomer(customer);
    say(t(done), true);
  } catch (e) {
    say(e.message);
  }
}

const CHANNELS = { desk: 'at the desk', email: 'by e-mail', post: 'by post', phone: 'by phone', portal: 'in the portal' };

// The customer's erasure request: none, pending (an admin may carry it
// out here) or done; a manager or admin records a new one.
function showErasure(customer, e) {
  const role = state.user.role;
  const p = $('erasure-state');
  const how = e ? t(CHANNELS[e.channel] || e.channel) : '';
  if (!e) {
    p.textContent = t('No erasure requested.');
  } else if (e.pending) {
    p.textContent = state.lang === 'es'
      ? 'Pedido el ' + e.asked_on + ' ' + how + ', registrado por ' + e.recorded_by + ': pendiente.'
      : 'Requested on ' + e.asked_on + ' ' + how + ', recorded by ' + e.recorded_by + ': pending.';
  } else {
    p.textContent = state.lang === 'es'
      ? 'Borrado el ' + utc(e.done_at).slice(0, 10) + ' por ' + e.done_by + ' (pedido el ' + e.asked_on + ' ' + how + ').'
      : 'Erased on ' + utc(e.done_at).slice(0, 10) + ' by ' + e.done_by + ' (requested on ' + e.asked_on + ' ' + how + ').';
  }
  // One request per customer: none recorded yet, and a manager or admin.
  $('erasure-form').hidden = role === 'staff' || !!e;
  $('erasure-form').dataset.id = customer;
  $('erasure-do').hidden = role !== 'admin' || !(e && e.pending);
  $('erasure-do').dataset.id = customer;
  $('erasure-cards-label').hidden = $('erasure-do').hidden;
  $('erasure-cards').value = '';
}

async function mePage() {
  $('me-title').textContent = t('My page') + ': ' + state.user.name;
  $('me-form').elements.lang.value = state.lang;
}

function newCustomer() {
  $('customer-title').textContent = t('New customer');
  $('customer-facts').replaceChildren();
  $('balances').hidden = true;
  $('customer-consent-part').hidden = true;
  $('customer-notes-part').hidden = true;
  $('edit-title').textContent = '';
  fillForm(null);
  if (state.user.role !== 'admin') $('customer-form').elements.program.disabled = true;
}

async function listAudit() {
  const data = await api('GET', '/api/audit');
  const body = $('audit-list').tBodies[0];
  body.replaceChildren();
  for (const a of data.audit) {
    const tr = document.createElement('tr');
    cell(tr, local(a.at, data.timezone));
    cell(tr, a.actor);
    cell(tr, a.action);
    cell(tr, a.object);
    body.appendChild(tr);
  }
}

// Before sign-in the user is unknown: the browser's languages choose, as its
// Accept-Language does for the server's messages (web_es.h).
function browserLang() {
  for (const l of navigator.languages || [navigator.language || 'en']) {
    const p = l.toLowerCase().split('-')[0];
    if (p === 'es' || p === 'en') return p;
  }
  return 'en';
}

async function route() {
  const h = location.hash || '#/customers';
  say('');
  // A forgotten password: pages without a session (web_reset.h).
  if (h === '#/forgot' || /^#\/reset\/[0-9a-f]{64}$/.test(h)) {
    if (!state.user) {
      $('nav').hidden = true;
      state.lang = browserLang();
    }
    translatePage();
    show(h === '#/forgot' ? 'forgot' : 'reset');
    return;
  }
  if (!state.user) {
    try {
      signedIn(await api('GET', '/api/me'));
    } catch (e) {
      $('nav').hidden = true;
      state.lang = browserLang();
      translatePage();
      show('sign-in');
      return;
    }
  }
  try {
    let m;
    if (h === '#/customers/new') {
      newCustomer();
      show('customer');
    } else if ((m = h.match(/^#\/customers\/(\d+)$/))) {
      await viewCustomer(m[1]);
      show('customer');
    } else if (h === '#/dashboard') {
      await dashboard();
      show('dashboard');
    } else if (h === '#/cards') {
      await cards();
      show('cards');
    } else if ((m = h.match(/^#\/cards\/(\d+)$/))) {
      await viewCard(m[1]);
      show('card');
    } else if (h === '#/rules') {
      await rulesPage();
      show('rules');
    } else if (h === '#/terminals') {
      await terminals();
      show('terminals');
    } else if (h === '#/users') {
      await listUsers();
      show('users');
    } else if (h === '#/me') {
      await mePage();
      show('me');
    } else if (h === '#/audit') {
      await listAudit();
      show('audit');
    } else {
      await listCustomers($('search-form').elements.q.value);
      show('customers');
    }
  } catch (e) {
    say(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      signedIn(await api('POST', '/api/session', { name: f.elements.name.value, password: f.elements.password.value }));
      f.reset();
      route();
    } catch (e) {
      say(e.message);
    }
  });
  $('forgot-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/api/password/forgot', { name: ev.target.elements.name.value });
      ev.target.reset();
      say(t('If that user has an e-mail address, a link is on its way; it works for 30 minutes.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('reset-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = location.hash.split('/')[2];
    try {
      await api('POST', '/api/password/reset', { token, password: ev.target.elements.password.value });
      ev.target.reset();
      state.user = null;
      // The token leaves the address bar and the history entry.
      history.replaceState(null, '', location.pathname + '#/customers');
      await route();
      say(t('Password changed. Sign in with the new one.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('sign-out').addEventListener('click', async () => {
    try { await api('DELETE', '/api/session'); } catch (e) { /* signed out either way */ }
    state.user = null;
    location.hash = '#/customers';
    route();
  });
  $('search-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    listCustomers(ev.target.elements.q.value).catch((e) => say(e.message));
  });
  $('customer-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const body = {};
    for (const k of FIELDS) body[k] = f.elements[k].value;
    try {
      let data;
      if (f.dataset.id) {
        data = await api('PUT', '/api/customers/' + f.dataset.id, body);
      } else {
        if (f.elements.program.value) body.program = Number(f.elements.program.value);
        data = await api('POST', '/api/customers', body);
      }
      location.hash = '#/customers/' + data.customer.id;
      await viewCustomer(data.customer.id);
      say(t('Saved.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('consent-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const change = { channel: f.elements.channel.value, purposes: f.elements.purpose.value,
      granted: f.elements.granted.value === 'yes' };
    if (f.elements.evidence.value) change.evidence = f.elements.evidence.value;
    if (f.elements.text_version.value) change.text_version = f.elements.text_version.value;
    try {
      await api('PUT', '/api/customers/' + f.dataset.id, { consent: [change] });
      f.elements.evidence.value = '';
      f.elements.text_version.value = '';
      await viewCustomer(f.dataset.id);
      say(t('Consent recorded.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('note-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await api('POST', '/api/customers/' + f.dataset.id + '/notes', { text: f.elements.text.value });
      f.reset();
      await viewCustomer(f.dataset.id);
      say(t('Note added.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('detach-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await api('POST', '/api/cards/' + f.elements.card.value + '/detach', { reason: f.elements.reason.value });
      f.reset();
      await viewCustomer(f.dataset.id);
      say(t('Detached.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('erasure-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      await api('POST', '/api/customers/' + f.dataset.id + '/erasure', { asked_on: f.elements.asked_on.value, channel: f.elements.channel.value });
      f.reset();
      await viewCustomer(f.dataset.id);
      say(t('Request recorded.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('erasure-do').addEventListener('click', async (ev) => {
    const id = ev.target.dataset.id;
    // Irreversible: the browser asks once more.
    // The decision on the cards is the admin's, as the CLI's --cards.
    const cards = $('erasure-cards').value;
    if (!cards) {
      say(t('Choose what becomes of their cards.'));
      return;
    }
    if (!window.confirm(t('Carry out the erasure') + '?')) return;
    try {
      await api('POST', '/api/customers/' + id + '/erase', { cards });
      await viewCustomer(id);
      say(t('Erased.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('me-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      signedIn(await api('POST', '/api/me', { lang: ev.target.elements.lang.value }));
      await mePage();
      say(t('Language saved.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('card-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = '#/cards/' + ev.target.elements.id.value;
  });
  $('card-status-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const d = await api('POST', '/api/cards/' + f.dataset.id, { block: !!f.dataset.block, reason: f.elements.reason.value });
      f.reset();
      await viewCard(f.dataset.id, d);
      say(t(d.card.status === 'blocked' ? 'Blocked.' : 'Unblocked.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('rule-form').elements.rule.addEventListener('change', ruleChosen);
  for (const k of ['bonus_points', 'multiplier_milli', 'from', 'to']) $('rule-form').elements[k].addEventListener('input', ruleDirty);
  $('rule-simulate').addEventListener('click', () => ruleSimulate().catch((e) => say(e.message)));
  $('rule-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = ruleChange();
    if (JSON.stringify(c) !== state.simulated) return say(t('Simulate the change before saving it.'));
    try {
      const body = Object.assign({ reason: ev.target.elements.reason.value }, c);
      delete body.rule;
      await rulesPage(await api('PUT', '/api/rules/' + c.rule, body));
      ev.target.elements.reason.value = '';
      say(t('Saved.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('cat-form').elements.which.addEventListener('change', catChosen);
  $('cat-form').elements.op.addEventListener('change', catChosen);
  for (const e of $('cat-form').querySelectorAll('input, select[name=kind], select[name=per]')) if (e.name !== 'reason') e.addEventListener('input', catDirty);
  $('cat-simulate').addEventListener('click', () => catSimulate().catch((e) => say(e.message)));
  $('cat-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const c = catChange();
    if (JSON.stringify(c) !== state.catSimulated) return say(t('Simulate the change before saving it.'));
    try {
      await rulesPage(await api('PUT', '/api/catalogue', Object.assign({ reason: ev.target.elements.reason.value }, c)));
      ev.target.elements.reason.value = '';
      if (c.op) {
        ev.target.elements.op.value = 'change';
        catChosen();
      }
      say(t('Saved.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('user-add-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    try {
      await api('POST', '/api/users', { name: f.name.value, password: f.password.value, role: f.role.value,
        stores: f.role.value === 'admin' ? [] : storeIds(f.stores.value), email: f.email.value.trim() });
      ev.target.reset();
      await listUsers();
      say(t('Added.'), true);
    } catch (e) {
      say(e.message);
    }
  });
  $('user-edit-form').elements.user.addEventListener('change', userChosen);
  const userDo = async (body, done) => {
    const f = $('user-edit-form').elements;
    try {
      if ('email' in body) await api('PUT', '/api/users/' + f.user.value + '/email', body);
      else await api(body.role ? 'PUT' : 'POST', '/api/users/' + f.user.value, body);
      f.password.value = '';
      await listUsers();
      say(t(done), true);
    } catch (e) {
      say(e.message);
    }
  };
  $('user-edit-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    userDo({ role: f.role.value, stores: f.role.value === 'admin' ? [] : storeIds(f.stores.value) }, 'Saved.');
  });
  $('user-password').addEventListener('click', () => userDo({ password: $('user-edit-form').elements.password.value }, 'Password set.'));
  $('user-email').addEventListener('click', () => {
    const email = $('user-edit-form').elements.email.value.trim();
    userDo({ email }, email ? 'E-mail address set.' : 'E-mail address removed.');
  });
  $('user-disable').addEventListener('click', () => {
    const u = (state.users || []).find((x) => String(x.id) === $('user-edit-form').elements.user.value);
    const off = !(u && u.disabled);
    userDo({ disabled: off }, off ? 'Disabled.' : 'Enabled.');
  });
  $('settle-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    settlement().catch((e) => say(e.message));
  });
  window.addEventListener('hashchange', route);
  route();
});
