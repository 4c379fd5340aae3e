// Spaces list (/) and the operator's "create a space" form.
import { $, api, ApiError, copyText, describeError, formatDateTime, h, Poller, showMessage, stateBadge } from './common.js';

const TOKEN_KEY = 'podium.operatorToken';

// Ended spaces: whether their recording is public (GET .../recording answers
// 200 to anyone only once published). Checked once per page load, at most
// MAX_REPLAY_CHECKS spaces; the replay page itself handles the rest.
const MAX_REPLAY_CHECKS = 30;
const replayState = new Map(); // id -> 'pending' | true | false
let lastSpaces = [];

function replayPublic(s) {
  if (s.record === false) return false;
  const known = replayState.get(s.id);
  if (known !== undefined) return known === true;
  if (replayState.size >= MAX_REPLAY_CHECKS) return false;
  replayState.set(s.id, 'pending');
  api('GET', `/api/spaces/${encodeURIComponent(s.id)}/recording`)
    .then((rec) => replayState.set(s.id, !!rec && rec.state !== 'deleted'))
    .catch((err) => (err instanceof ApiError && err.retryable ? replayState.delete(s.id) : replayState.set(s.id, false)))
    .finally(() => {
      if (replayState.get(s.id) === true) renderSpaces(lastSpaces);
    });
  return false;
}

function renderSpaces(spaces) {
  lastSpaces = spaces;
  const ul = $('#spaces');
  ul.replaceChildren(
    ...spaces.map((s) => {
      const when =
        s.state === 'live'
          ? s.started_at
            ? `Live since ${formatDateTime(s.started_at)}`
            : 'Live now'
          : s.state === 'ended'
            ? `Ended ${formatDateTime(s.ended_at || s.scheduled_start)}`
            : s.state === 'interrupted'
              ? 'Interrupted, resuming shortly'
              : `Starts ${formatDateTime(s.scheduled_start)}`;
      const href = `/s/${encodeURIComponent(s.id)}`;
      return h(
        'li',
        { class: `space-item state-${s.state}` },
        h(
          'a',
          { href, class: 'space-link' },
          h('span', { class: 'space-item-head' }, h('span', { class: 'space-item-title' }, s.title || 'Untitled space'), stateBadge(s.state)),
          s.description ? h('span', { class: 'space-item-desc' }, s.description) : null,
          h('span', { class: 'muted small' }, when)
        ),
        s.state === 'ended' && replayPublic(s)
          ? h('a', { href: s.replay_url || `/r/${encodeURIComponent(s.id)}`, class: 'btn btn-small replay-link', 'aria-label': `Listen to the replay of ${s.title || 'this space'}` }, '▶ Replay')
          : null
      );
    })
  );
  $('#spaces-empty').hidden = spaces.length > 0;
}

const poller = new Poller(
  async (signal) => {
    const r = await api('GET', '/api/spaces', { signal });
    $('#spaces-loading').hidden = true;
    showMessage($('#spaces-error'), '');
    renderSpaces(r?.spaces || []);
  },
  15000,
  {
    capMs: 60000,
    onError: (err) => {
      $('#spaces-loading').hidden = true;
      showMessage($('#spaces-error'), `${describeError(err, 'load spaces')}${err instanceof ApiError && err.retryable ? ' Retrying…' : ''}`);
      return true;
    },
  }
).start();

$('#refresh').addEventListener('click', () => poller.now());

// ---- operator ---------------------------------------------------------------

function token() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

function renderOperator() {
  const has = !!token();
  $('#create-form').hidden = !has;
  $('#token-forget').hidden = !has;
  $('#op-token').value = has ? token() : '';
  $('#token-save').textContent = has ? 'Update' : 'Save';
}

$('#token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = $('#op-token').value.trim();
  if (t) localStorage.setItem(TOKEN_KEY, t);
  else localStorage.removeItem(TOKEN_KEY);
  renderOperator();
});

$('#token-forget').addEventListener('click', () => {
  localStorage.removeItem(TOKEN_KEY);
  $('#created').hidden = true;
  renderOperator();
});

function defaultStart() {
  // Next quarter hour, in local time, as datetime-local wants it.
  const d = new Date(Date.now() + 15 * 60 * 1000);
  d.setMinutes(Math.ceil(d.getMinutes() / 15) * 15, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

$('#create-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const errEl = $('#create-error');
  showMessage(errEl, '');
  const start = new Date($('#c-start').value);
  if (Number.isNaN(start.getTime())) {
    showMessage(errEl, 'Please pick a valid start date and time.');
    return;
  }
  const btn = $('#create');
  btn.disabled = true;
  try {
    const r = await api('POST', '/api/spaces', {
      token: token(),
      body: {
        title: $('#c-title').value.trim(),
        description: $('#c-desc').value.trim(),
        scheduled_start: start.toISOString(),
      },
    });
    const listener = r.space?.listener_url || new URL(`/s/${encodeURIComponent(r.space?.id || '')}`, location.href).href;
    $('#host-url').value = r.host_url;
    $('#host-open').href = r.host_url;
    $('#listener-url').value = listener;
    $('#listener-open').href = listener;
    $('#created').hidden = false;
    $('#c-title').value = '';
    $('#c-desc').value = '';
    poller.now();
  } catch (err) {
    showMessage(
      errEl,
      err instanceof ApiError && (err.status === 401 || err.status === 403)
        ? `The operator token was refused (${err.message}). Check it and save it again.`
        : describeError(err, 'create the space')
    );
  } finally {
    btn.disabled = false;
  }
});

for (const b of document.querySelectorAll('[data-copy]')) {
  b.addEventListener('click', async () => {
    const input = document.getElementById(b.dataset.copy);
    const ok = await copyText(input.value, input);
    b.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => (b.textContent = 'Copy'), 2000);
  });
}

$('#c-start').value = defaultStart();
renderOperator();
