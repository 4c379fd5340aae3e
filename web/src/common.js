// Shared helpers for podium's pages: API calls, retry/backoff, DOM and time
// formatting.

/** An error answered by the API (or a network failure, status 0). */
export class ApiError extends Error {
  constructor(status, message, code = '', retryAfterMs = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }

  /** Whether trying again later may succeed (overload, network, 5xx). */
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status === 408 || this.status >= 500;
  }
}

/**
 * Parses a Retry-After header (delta-seconds or HTTP date) into milliseconds,
 * or null when absent/invalid.
 */
export function parseRetryAfter(value) {
  if (value == null || value === '') return null;
  const s = Number(value);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(value);
  if (!Number.isNaN(d)) return Math.max(0, d - Date.now());
  return null;
}

/**
 * Capped exponential backoff with full jitter: a random delay in
 * [0, min(cap, base*2^attempt)). When the server sent Retry-After, wait at
 * least that long, plus a little jitter so that clients do not come back in
 * lockstep.
 */
export function backoffDelay(attempt, { baseMs = 500, capMs = 30000, retryAfterMs = null } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  const jitter = Math.random() * ceiling;
  if (retryAfterMs != null) {
    return retryAfterMs + Math.random() * Math.min(ceiling, 1000);
  }
  return jitter;
}

/**
 * Calls fn until it succeeds, retrying retryable API errors with capped
 * exponential backoff and full jitter (never sooner than Retry-After).
 * onRetry(err) is told before each wait; tries bounds the attempts
 * (Infinity = until it works); other errors are thrown at once.
 */
export async function withRetry(fn, { capMs = 30000, tries = Infinity, onRetry } = {}) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ApiError) || !err.retryable || i + 1 >= tries) throw err;
      onRetry?.(err);
      await new Promise((r) => setTimeout(r, backoffDelay(i, { baseMs: 1000, capMs, retryAfterMs: err.retryAfterMs })));
    }
  }
}

export const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Calls the podium API. Returns parsed JSON (null for 204), or the raw
 * Response when opts.raw. Throws ApiError with the server's message on
 * non-2xx.
 */
export async function api(method, path, { token, body, contentType, raw = false, signal, keepalive } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string') {
      payload = body;
      headers['Content-Type'] = contentType || 'text/plain';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, signal, keepalive, cache: 'no-store' });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, "Can't reach the server. Check your connection.");
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`.trim();
    let code = '';
    try {
      const text = await res.text();
      try {
        const j = JSON.parse(text);
        if (j && typeof j.error === 'string') message = j.error;
        if (j && typeof j.code === 'string') code = j.code;
      } catch {
        if (text && text.length < 300) message = text.trim();
      }
    } catch {
      /* body unreadable: keep the status line */
    }
    throw new ApiError(res.status, message, code, parseRetryAfter(res.headers.get('Retry-After')));
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** A human sentence for an error, with friendlier wording for auth errors. */
export function describeError(err, action = '') {
  if (!(err instanceof ApiError)) return String(err?.message || err);
  const what = action ? `Couldn't ${action}: ` : '';
  if (err.status === 401) return `${what}${err.message || 'the link or token is missing, invalid or expired.'}`;
  if (err.status === 403) return `${what}${err.message || 'you are not allowed to do that.'}`;
  if (err.status === 429 || err.status === 503)
    return `${what}the server is busy (${err.message}). Please try again in a moment.`;
  return `${what}${err.message}`;
}

/**
 * Polls fn() every intervalMs. Errors are passed to onError; retryable ones
 * back off (capped exponential, full jitter, honouring Retry-After), others
 * stop the poller when onError returns false.
 */
export class Poller {
  constructor(fn, intervalMs, { onError, capMs = 15000 } = {}) {
    this.fn = fn;
    this.intervalMs = intervalMs;
    this.onError = onError;
    this.capMs = capMs;
    this.attempt = 0;
    this.timer = null;
    this.running = false;
    this.ctrl = null;
  }

  start() {
    if (this.running) return this;
    this.running = true;
    this.tick();
    return this;
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    this.ctrl?.abort();
  }

  /** Runs fn now (e.g. after a user action) and reschedules. */
  now() {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.tick();
  }

  async tick() {
    if (!this.running) return;
    this.ctrl = new AbortController();
    // Background tabs poll less often: with a big audience it adds up.
    let delay = typeof document !== 'undefined' && document.hidden ? this.intervalMs * 5 : this.intervalMs;
    try {
      await this.fn(this.ctrl.signal);
      this.attempt = 0;
    } catch (err) {
      if (err?.name === 'AbortError') return;
      const keepGoing = this.onError ? this.onError(err) !== false : true;
      if (!keepGoing) {
        this.running = false;
        return;
      }
      delay = Math.max(
        this.intervalMs,
        backoffDelay(this.attempt++, { baseMs: this.intervalMs, capMs: this.capMs, retryAfterMs: err?.retryAfterMs })
      );
    }
    if (this.running) this.timer = setTimeout(() => this.tick(), delay);
  }
}

/** Tiny hyperscript: h('div', {class: 'x', onclick: fn}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Shows a message in a status/alert element (role set in the HTML). */
export function showMessage(el, text, kind = 'error') {
  if (!el) return;
  el.textContent = text || '';
  el.dataset.kind = kind;
  el.hidden = !text;
}

/** The path segment after prefix, e.g. spaceIdFromPath('/s/') on /s/sp_1 → sp_1. */
export function spaceIdFromPath(prefix) {
  const p = location.pathname;
  if (p.startsWith(prefix)) {
    const id = decodeURIComponent(p.slice(prefix.length).split('/')[0] || '');
    if (id) return id;
  }
  // Fallback for static hosting of the built pages: ?id=sp_...
  return new URLSearchParams(location.search).get('id') || '';
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "2d 03:04:05" style countdown text for ms (>= 0). */
export function formatCountdown(ms) {
  if (ms <= 0) return 'any moment now';
  const total = Math.floor(ms / 1000);
  const d = Math.floor(total / 86400);
  const hh = String(Math.floor((total % 86400) / 3600)).padStart(2, '0');
  const mm = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const ss = String(total % 60).padStart(2, '0');
  return (d > 0 ? `${d}d ` : '') + `${hh}:${mm}:${ss}`;
}

export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)}M`;
}

export const STATE_LABEL = { scheduled: 'Scheduled', live: 'Live', interrupted: 'Interrupted', ended: 'Ended' };

export function stateBadge(state) {
  return h('span', { class: `badge badge-${state || 'unknown'}` }, STATE_LABEL[state] || state || 'Unknown');
}

/** Root-mean-square of an analyser's current time-domain window (0..1). */
export function analyserRMS(analyser, buf) {
  if (!analyser) return 0;
  analyser.getFloatTimeDomainData(buf);
  let sum = 0;
  for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
  return Math.sqrt(sum / buf.length);
}

/** Copies text to the clipboard, falling back to selecting an input. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) {
      input.select();
      try {
        return document.execCommand('copy');
      } catch {
        return false;
      }
    }
    return false;
  }
}

/** Initials for an avatar. */
export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?').slice(0, 2);
  return s.toUpperCase();
}

/**
 * Renders the stage (speakers with speaking rings) into ul, reusing list
 * items by speaker id so the ring animation is smooth.
 * extra(s, li) may add controls to a speaker's item.
 */
export function renderStage(ul, speakers, { meId = '', extra } = {}) {
  const seen = new Set();
  for (const s of speakers) {
    seen.add(s.id);
    let li = ul.querySelector(`li[data-id="${CSS.escape(s.id)}"]`);
    if (!li) {
      li = h(
        'li',
        { class: 'speaker', dataset: { id: s.id } },
        h('div', { class: 'avatar', 'aria-hidden': 'true' }, h('span', { class: 'ring' }), h('span', { class: 'initials' })),
        h('div', { class: 'who' }, h('span', { class: 'name' }), h('span', { class: 'meta' })),
        h('div', { class: 'controls' })
      );
      ul.append(li);
    }
    const level = Math.max(0, Math.min(1, Number(s.level) || 0));
    li.style.setProperty('--level', String(s.muted ? 0 : level));
    li.classList.toggle('speaking', !!s.speaking && !s.muted);
    li.classList.toggle('muted', !!s.muted);
    li.classList.toggle('me', s.id === meId);
    li.querySelector('.initials').textContent = initials(s.name);
    li.querySelector('.name').textContent = s.name || 'Speaker';
    const bits = [s.role === 'host' ? 'Host' : 'Speaker'];
    if (s.id === meId) bits.push('you');
    if (s.muted) bits.push('muted');
    else if (s.speaking) bits.push('speaking');
    li.querySelector('.meta').textContent = bits.join(' · ');
    li.setAttribute('aria-label', `${s.name || 'Speaker'}, ${bits.join(', ')}`);
    if (extra) extra(s, li.querySelector('.controls'));
  }
  for (const li of [...ul.children]) if (!seen.has(li.dataset.id)) li.remove();
}

// ---- recording time ------------------------------------------------------------

/**
 * Parses a replay position: "1h02m10s", "62m", "90s", "90" (seconds) or
 * "1:02:10" / "2:10". Returns seconds, or NaN when malformed.
 */
export function parseTimeParam(value) {
  const v = String(value ?? '').trim().toLowerCase();
  if (!v) return NaN;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  let m = /^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/.exec(v);
  if (m) {
    const [hh, mm, ss] = [Number(m[1] || 0), Number(m[2]), Number(m[3])];
    if ((m[1] !== undefined && mm >= 60) || ss >= 60) return NaN;
    return hh * 3600 + mm * 60 + ss;
  }
  m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(v);
  if (m && (m[1] || m[2] || m[3])) return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
  return NaN;
}

/** Seconds as a link position: 3730 → "1h2m10s", 75 → "1m15s", 0 → "0s". */
export function formatTimeParam(sec) {
  const t = Math.max(0, Math.floor(Number(sec) || 0));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = t % 60;
  let out = '';
  if (hh) out += `${hh}h`;
  if (hh || mm) out += `${mm}m`;
  return `${out}${ss}s`;
}

/** Seconds as a clock: 3730 → "1:02:10", 3492 → "58:12", 5 → "0:05". */
export function formatClock(sec) {
  const t = Math.max(0, Math.floor(Number(sec) || 0));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A length in words: 45000 → "45 s", 125000 → "2 min 5 s", 3723000 → "1 h 2 min". */
export function formatSpan(ms) {
  const t = Math.max(0, Math.floor((Number(ms) || 0) / 1000));
  if (t < 60) return `${t} s`;
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = t % 60;
  if (hh) return mm ? `${hh} h ${mm} min` : `${hh} h`;
  return ss ? `${mm} min ${ss} s` : `${mm} min`;
}

/** Bytes for humans: 22000000 → "21.0 MB" (binary units, short names). */
export function formatBytes(n) {
  const b = Number(n);
  if (!Number.isFinite(b) || b < 0) return '–';
  if (b < 1024) return `${b} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = b / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Adds ?token= (or &token=) to a URL when token is set. */
export function withToken(url, token) {
  if (!token || !url) return url;
  return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token);
}

/** Talk time per speaker from recording turns: [{speaker, name, ms, turns}], by first turn. */
export function speakersFromTurns(turns) {
  const by = new Map();
  const sorted = (Array.isArray(turns) ? [...turns] : []).sort((a, b) => (Number(a.start_ms) || 0) - (Number(b.start_ms) || 0));
  for (const t of sorted) {
    const id = t.speaker || t.name || '?';
    let s = by.get(id);
    if (!s) by.set(id, (s = { speaker: id, name: t.name || 'Speaker', ms: 0, turns: [] }));
    s.ms += Math.max(0, (Number(t.end_ms) || 0) - (Number(t.start_ms) || 0));
    s.turns.push(t);
  }
  return [...by.values()];
}
