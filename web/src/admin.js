// Operator view (/admin): polls GET /api/admin/status every second (backing
// off on errors, honouring Retry-After) and shows listeners, connections,
// shedding, admissions, per-class request rates (computed here from counter
// deltas), top talkers and process stats, plus the attack-mode switch.
import { $, api, ApiError, describeError, formatBytes, formatCount, h, showMessage } from './common.js';
import { joinBackoff } from './join.js';
import { counterRates, formatRate, sparkline, sumRates } from './metrics.js';

const TOKEN_KEY = 'podium.operatorToken'; // same key as the spaces page's operator box
const WINDOW_MS = 5 * 60 * 1000;
const CLASSES = ['ingest', 'listener', 'chat', 'join', 'anonymous'];
const ADMISSIONS = [
  ['admitted', 'Admitted'],
  ['queued', 'Queued'],
  ['challenged', 'Challenged'],
  ['rejected', 'Rejected'],
];

const errorEl = $('#error');
const tokenInput = $('#op-token');

let token = '';
try {
  token = localStorage.getItem(TOKEN_KEY) || '';
} catch {
  /* storage blocked */
}
let timer = null;
let ctrl = null;
let attempt = 0;
let prev = null; // {t (ms), status}
let last = null; // the latest status
let lastAt = 0;
const history = []; // [{t, listeners, shed}]
let switching = false;

// Test / debugging hook.
window.podiumAdmin = {
  status: () => last,
  history: () => history.slice(),
};

// ---- token -------------------------------------------------------------------

function renderToken() {
  tokenInput.value = token ? '••••••••' : '';
  tokenInput.dataset.saved = token ? '1' : '';
  $('#token-forget').hidden = !token;
}

$('#token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const v = tokenInput.value.trim();
  if (!v || (tokenInput.dataset.saved && v === '••••••••')) return;
  token = v;
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* kept for this page only */
  }
  renderToken();
  restart();
});

$('#token-forget').addEventListener('click', () => {
  token = '';
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* ignore */
  }
  renderToken();
  restart();
});

tokenInput.addEventListener('focus', () => {
  if (tokenInput.dataset.saved) tokenInput.select();
});

// ---- polling -------------------------------------------------------------------

function restart() {
  clearTimeout(timer);
  ctrl?.abort();
  attempt = 0;
  prev = null;
  history.length = 0;
  poll();
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  clearTimeout(timer);
  if (!token) {
    $('#dash').hidden = true;
    showMessage(errorEl, 'Paste the operator token (from operator.token in the data directory) to see the status.', 'info');
    return;
  }
  ctrl?.abort();
  const c = (ctrl = new AbortController());
  try {
    const st = await api('GET', '/api/admin/status', { token, signal: c.signal });
    if (c !== ctrl) return;
    attempt = 0;
    showMessage(errorEl, '');
    render(st);
    schedule(document.hidden ? 5000 : 1000);
  } catch (err) {
    if (err?.name === 'AbortError' || c !== ctrl) return;
    markStale();
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      // Wrong token: stop until it changes.
      showMessage(
        errorEl,
        err.status === 401
          ? `Operator token rejected (401): ${err.message}. Paste the token from operator.token.`
          : `Not allowed (403): ${err.message}. This token is not the operator's.`
      );
      return;
    }
    const delay = Math.max(1000, joinBackoff(attempt++, { baseMs: 1000, capMs: 30000, retryAfterMs: err?.retryAfterMs }));
    const what = err instanceof ApiError && err.status === 404 ? 'This server has no operator view (404).' : describeError(err, 'load the status');
    showMessage(errorEl, `${what} Retrying in ${Math.ceil(delay / 1000)} s…`);
    schedule(delay);
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && token && !errorEl.textContent.includes('(40')) schedule(0);
});

function markStale() {
  if (lastAt) $('#updated').textContent = `Last update ${new Date(lastAt).toLocaleTimeString()} (stale)`;
}

// ---- rendering -------------------------------------------------------------------

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const fmtInt = (v) => (num(v) == null ? '–' : new Intl.NumberFormat('en-US').format(v));

function render(st) {
  const now = Date.now();
  const serverT = Date.parse(st.time);
  const t = Number.isFinite(serverT) ? serverT : now;
  let dt = prev ? (t - prev.t) / 1000 : 0;
  if (prev && !(dt > 0)) dt = (now - prev.local) / 1000; // same server second: use our clock
  const p = prev?.status;
  const rates = {
    requests: counterRates(p?.requests, st.requests, dt),
    shed: counterRates(p?.shed, st.shed, dt),
    limited: counterRates(p?.limited, st.limited, dt),
    admissions: counterRates(p?.admissions, st.admissions, dt),
  };
  // The server refreshes at most once a second: an unchanged snapshot keeps the last rates.
  if (prev && prev.t === t && prev.rates) Object.assign(rates, prev.rates);
  else prev = { t, local: now, status: st, rates };
  last = st;
  lastAt = now;

  const shedRate = sumRates(rates.shed);
  history.push({ t: now, listeners: num(st.listeners), shed: shedRate });
  while (history.length && history[0].t < now - WINDOW_MS) history.shift();

  $('#dash').hidden = false;
  $('#updated').textContent = `Updated ${new Date(now).toLocaleTimeString()}`;

  // Big numbers.
  $('#v-listeners').textContent = fmtInt(st.listeners);
  $('#v-conns').textContent = fmtInt(st.conns_open);
  $('#v-conns-max').textContent = fmtInt(st.conns_max);
  const full = num(st.conns_open) != null && num(st.conns_max) ? st.conns_open / st.conns_max : 0;
  $('#st-conns').classList.toggle('is-warn', full >= 0.8 && full < 0.95);
  $('#st-conns').classList.toggle('is-alert', full >= 0.95);
  $('#v-conns-rejected').textContent = num(st.conns_rejected) ? `${fmtInt(st.conns_rejected)} rejected` : 'none rejected';
  $('#v-shed-rate').textContent = formatRate(shedRate);
  $('#v-shed-level').textContent = num(st.shed_level) == null ? '–' : String(st.shed_level);
  $('#v-pressure').textContent = num(st.pressure) == null ? '' : ` · pressure ${(st.pressure * 100).toFixed(st.pressure < 0.1 ? 1 : 0)} %`;
  $('#st-shed').classList.toggle('is-alert', num(st.shed_level) > 0 || shedRate > 0);
  renderAttack(!!st.attack_mode, !!st.attack_auto);

  drawSpark($('#spark-listeners'), history.map((s) => ({ t: s.t, v: s.listeners })), now, 'Listeners');
  drawSpark($('#spark-shed'), history.map((s) => ({ t: s.t, v: s.shed })), now, 'Shed requests per second');

  renderSpaces(Array.isArray(st.spaces) ? st.spaces : []);
  renderClasses(st, rates);
  renderAdmissions(st.admissions || {}, rates.admissions);
  renderProcess(st.process || {});
  renderTalkers(Array.isArray(st.top_talkers) ? st.top_talkers : []);
}

function drawSpark(svg, samples, now, label) {
  // The last 5 minutes; until there is that much history, at least the last minute.
  const windowMs = Math.min(WINDOW_MS, Math.max(60000, samples.length ? now - samples[0].t : 0));
  const { points, max, min } = sparkline(samples, { end: now, windowMs });
  svg.querySelector('polyline').setAttribute('points', points);
  const fmt = label.startsWith('Shed') ? formatRate : formatCount;
  svg.setAttribute('aria-label', points ? `${label} over the last 5 minutes: between ${fmt(min)} and ${fmt(max)}` : `${label}: no data yet`);
}

function renderAttack(on, auto) {
  $('#v-attack').textContent = on ? (auto ? 'ON (auto)' : 'ON') : 'Off';
  $('#st-attack').classList.toggle('is-alert', on);
  const btn = $('#attack');
  btn.setAttribute('aria-checked', String(on));
  $('#attack-text').textContent = switching ? 'Switching…' : on ? 'On: turn off' : 'Off: turn on';
  btn.disabled = switching;
}

function emptyRow(cols, text) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: cols }, text));
}

function renderSpaces(spaces) {
  const rows = [...spaces]
    .sort((a, b) => (num(b.listeners) || 0) - (num(a.listeners) || 0))
    .map((s) =>
      h(
        'tr',
        {},
        h('td', { class: 'wrap' }, h('a', { href: `/s/${encodeURIComponent(s.id)}` }, s.title || s.id), h('span', { class: 'muted small' }, ` ${s.id}`)),
        h('td', {}, fmtInt(s.listeners)),
        h('td', {}, fmtInt(s.speakers)),
        h('td', {}, fmtInt(s.queue)),
        h('td', {}, num(s.admit_rate) == null ? '–' : formatRate(s.admit_rate))
      )
    );
  $('#spaces').replaceChildren(...(rows.length ? rows : [emptyRow(5, 'No live spaces.')]));
}

function bar(cls, width) {
  const el = h('span', { class: cls });
  el.style.width = width;
  return el;
}

function renderClasses(st, rates) {
  const req = st.requests || {};
  const shed = st.shed || {};
  const lim = st.limited || {};
  const names = [...new Set([...CLASSES, ...Object.keys(req), ...Object.keys(shed), ...Object.keys(lim)])].filter(
    (c) => c in req || c in shed || c in lim
  );
  const maxRate = Math.max(1, ...names.map((c) => rates.requests[c] || 0));
  const rows = names.map((c) => {
    const r = rates.requests[c] || 0;
    const s = rates.shed[c] || 0;
    const l = rates.limited[c] || 0;
    const served = Math.max(0, r - s - l);
    const w = (v) => `${((v / maxRate) * 100).toFixed(1)}%`;
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, c),
      h('td', {}, fmtInt(req[c])),
      h('td', {}, formatRate(rates.requests[c])),
      h('td', {}, c in shed ? fmtInt(shed[c]) : '–'),
      h('td', {}, c in shed ? formatRate(rates.shed[c]) : '–'),
      h('td', {}, c in lim ? fmtInt(lim[c]) : '–'),
      h('td', {}, c in lim ? formatRate(rates.limited[c]) : '–'),
      h(
        'td',
        { 'aria-label': `${formatRate(served)} served, ${formatRate(s)} shed, ${formatRate(l)} limited` },
        h(
          'span',
          { class: 'bars', 'aria-hidden': 'true' },
          // Widths through CSSOM: the CSP (style-src 'self') blocks style attributes.
          bar('bar', w(served)),
          bar('bar bar-shed', w(s)),
          bar('bar bar-limited', w(l))
        )
      )
    );
  });
  $('#classes').replaceChildren(...(rows.length ? rows : [emptyRow(8, 'No requests yet.')]));
}

function renderAdmissions(adm, rates) {
  $('#admissions').replaceChildren(
    ...ADMISSIONS.map(([k, label]) => h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, fmtInt(adm[k])), h('td', {}, formatRate(rates[k]))))
  );
}

function renderProcess(p) {
  const rows = [
    ['CPU', num(p.cpu_percent) == null ? '–' : `${p.cpu_percent.toFixed(1)} %`],
    ['Memory (RSS)', num(p.rss_bytes) == null ? '–' : formatBytes(p.rss_bytes)],
    ['Goroutines', fmtInt(p.goroutines)],
    ['Open files', fmtInt(p.open_files)],
  ];
  $('#process').replaceChildren(...rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v))));
}

function renderTalkers(list) {
  const rows = list.map((t) => {
    const pct = num(t.requests) ? ((num(t.rejected) || 0) / t.requests) * 100 : null;
    return h(
      'tr',
      {},
      h('td', {}, h('code', {}, t.prefix || '?')),
      h('td', {}, fmtInt(t.requests)),
      h('td', {}, fmtInt(t.rejected)),
      h('td', {}, pct == null ? '–' : `${pct.toFixed(pct < 10 ? 1 : 0)} %`)
    );
  });
  $('#talkers').replaceChildren(...(rows.length ? rows : [emptyRow(4, 'Nobody stands out.')]));
}

// ---- attack mode -----------------------------------------------------------------

$('#attack').addEventListener('click', async () => {
  if (switching || !last) return;
  const on = !last.attack_mode;
  const ok = window.confirm(
    on
      ? 'Turn attack mode ON?\n\nEvery new listener must pass a browser check (proof of work) before joining. Listeners already in keep playing; media is never challenged.'
      : 'Turn attack mode OFF?\n\nNew listeners join without a browser check again.'
  );
  if (!ok) return;
  switching = true;
  renderAttack(!!last.attack_mode, !!last.attack_auto);
  try {
    const st = await api('POST', '/api/admin/attack', { token, body: { on } });
    switching = false;
    showMessage(errorEl, '');
    if (st && typeof st === 'object' && 'attack_mode' in st) render(st);
    else renderAttack(on, false);
    schedule(1000);
  } catch (err) {
    switching = false;
    renderAttack(!!last.attack_mode, !!last.attack_auto);
    showMessage(errorEl, describeError(err, on ? 'turn attack mode on' : 'turn attack mode off'));
  }
});

renderToken();
poll();
