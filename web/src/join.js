// Listener admission (docs/API.md, "Joining (admission)"): POST
// /api/spaces/{id}/join until admitted, through the waiting room (202), a
// proof-of-work challenge (401 code "challenge") and overload answers
// (429/503, capped exponential backoff with full jitter, never sooner than
// Retry-After). Once admitted, the ticket is renewed ~30 s before it expires
// and swapped in place: the player reads `admission.ticket` on every request.
//
// No DOM here: the listener page renders snapshot() from onChange, and the
// unit tests drive the class with a fake fetch.
import { parseRetryAfter } from './common.js';
import { solvePow } from './pow.js';

/**
 * Capped exponential backoff with full jitter: a random delay in
 * [0, min(capMs, baseMs * 2^attempt)], but never less than Retry-After.
 */
export function joinBackoff(attempt, { baseMs = 1000, capMs = 30000, retryAfterMs = null, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
  const delay = random() * ceiling;
  return retryAfterMs != null && retryAfterMs > delay ? retryAfterMs : delay;
}

/** "about 40 s", "about 3 min", "about 1 h 5 min". */
export function formatEstimate(seconds) {
  if (seconds == null || seconds === '') return '';
  const s = Number(seconds);
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 60) return `about ${Math.max(1, Math.round(s))} s`;
  if (s < 3600) return `about ${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return m ? `about ${h} h ${m} min` : `about ${h} h`;
}

const numberFmt = new Intl.NumberFormat('en-US');
/** The waiting-room sentence: "You're in line: position 1,234 · about 40 s". */
export function queueText(position, estimateSeconds) {
  const pos = Number.isFinite(Number(position)) && position != null ? numberFmt.format(Number(position)) : '…';
  const est = formatEstimate(estimateSeconds);
  return `You're in line: position ${pos}${est ? ` · ${est}` : ''}`;
}

/**
 * Solves a challenge in a Web Worker (bundled inline by build.mjs as
 * __POW_WORKER_SRC__ and started from a blob: URL; CSP worker-src allows
 * blob:), or on the main thread when workers are unavailable.
 * → {promise: Promise<nonce|null>, cancel()}
 */
export function solveChallenge(challenge, difficulty, { onProgress } = {}) {
  let cancelled = false;
  let worker = null;
  let settle = null;
  const handle = { via: 'worker' };
  const mainThread = () => (
    (handle.via = 'main thread'),
    solvePow(challenge, difficulty, { onProgress, shouldStop: () => cancelled, batch: 128 })
  );
  const src = typeof __POW_WORKER_SRC__ === 'string' ? __POW_WORKER_SRC__ : '';
  const promise =
    !src || typeof Worker === 'undefined' || typeof Blob === 'undefined'
      ? mainThread()
      : new Promise((resolve, reject) => {
          settle = resolve;
          let url = '';
          const done = () => {
            worker?.terminate();
            worker = null;
            if (url) URL.revokeObjectURL(url);
            url = '';
          };
          const fallback = () => {
            done();
            if (cancelled) resolve(null);
            else mainThread().then(resolve, reject);
          };
          try {
            url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
            worker = new Worker(url);
          } catch {
            fallback(); // e.g. a CSP without blob: workers
            return;
          }
          worker.onmessage = (e) => {
            const m = e.data || {};
            if (typeof m.progress === 'number') onProgress?.(m.progress);
            else if (typeof m.nonce === 'string') {
              done();
              resolve(m.nonce);
            } else if (m.error) {
              done();
              reject(new Error(m.error));
            }
          };
          worker.onerror = (e) => {
            e.preventDefault?.();
            fallback();
          };
          worker.postMessage({ challenge, difficulty });
        });
  return Object.assign(handle, {
    promise,
    cancel() {
      cancelled = true;
      worker?.terminate();
      worker = null;
      settle?.(null);
    },
  });
}

const NOT_ADMISSION = new Set([404, 405, 501]);

/**
 * The join state machine for one space.
 *   const a = new Admission('sp_1', {onChange: (snap) => render(snap)});
 *   if (await a.ensure()) play(a.ticket);   // ticket may be null: no admission
 *
 * States: idle, joining, queued, challenge, admitted, backoff, error.
 */
export class Admission {
  constructor(
    spaceId,
    {
      fetch: fetchFn = (...a) => globalThis.fetch(...a),
      solve = solveChallenge,
      onChange = () => {},
      now = () => Date.now(),
      random = Math.random,
      baseMs = 1000,
      capMs = 30000,
      renewLeadMs = 30000,
      minTicketLeftMs = 5000,
    } = {}
  ) {
    this.url = `/api/spaces/${encodeURIComponent(spaceId)}/join`;
    Object.assign(this, { fetchFn, solve, onChange, now, random, baseMs, capMs, renewLeadMs, minTicketLeftMs });
    this.state = 'idle';
    this.position = null;
    this.estimate = null;
    this.retryAt = 0; // backoff / queue: when the next POST goes out (ms)
    this.reason = ''; // backoff: why (429, 503, network)
    this.progress = 0; // challenge: hashes tried
    this.difficulty = 0;
    this.solvedBy = ''; // 'worker' or 'main thread'
    this.error = '';
    this.ticket = null;
    this.expiresAt = NaN; // local clock
    this.playlistUrl = null;
    this.open = false; // the server has no admission (join route 404): play without a ticket
    this.queueToken = null;
    this.renewals = 0;
    this.gen = 0; // bumped by join()/abort(): stale loops stop
    this.inflight = null; // the running join() promise
    this.renewTimer = null;
    this.wake = null; // ends the current wait early (abort)
    this.ctrl = null;
    this.solving = null;
  }

  /** What the page shows and the tests read. */
  snapshot() {
    return {
      state: this.state,
      position: this.position,
      estimate: this.estimate,
      ticket: !!this.ticket,
      open: this.open,
      retryInMs: this.retryAt ? Math.max(0, this.retryAt - this.now()) : 0,
      reason: this.reason,
      progress: this.progress,
      difficulty: this.difficulty,
      solvedBy: this.solvedBy,
      error: this.error,
      renewals: this.renewals,
    };
  }

  /** Admitted with a ticket that is still good for a while (or no admission at all). */
  get ready() {
    if (this.state !== 'admitted') return false;
    if (this.open || !this.ticket) return this.open;
    return !Number.isFinite(this.expiresAt) || this.expiresAt - this.now() > this.minTicketLeftMs;
  }

  /** Admitted (resolves true), aborted (false), or failed (throws). Reuses a running join. */
  ensure() {
    if (this.ready) {
      if (!this.open && !this.renewTimer) this.scheduleRenew();
      return Promise.resolve(true);
    }
    if (!this.inflight) {
      this.inflight = this.join().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  /** Stops joining and renewing (the queue token is kept for the next ensure()). */
  abort() {
    this.gen++;
    this.stopRenew();
    this.ctrl?.abort();
    this.solving?.cancel();
    this.wake?.();
    if (this.state !== 'admitted' || !this.ready) {
      this.state = this.state === 'error' ? 'error' : 'idle';
      if (this.state === 'idle' && !this.open) this.ticket = null;
      this.retryAt = 0;
    }
    this.emit();
  }

  /** The media server refused the ticket: forget it; the next ensure() joins again. */
  reset() {
    if (this.open) return;
    this.abort();
    this.ticket = null;
    this.expiresAt = NaN;
    this.state = 'idle';
    this.emit();
  }

  emit() {
    try {
      this.onChange(this.snapshot());
    } catch {
      /* a rendering error must not break joining */
    }
  }

  set(fields) {
    Object.assign(this, fields);
    this.emit();
  }

  wait(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = null;
    });
  }

  /** POST body → {status, json, retryAfterMs, date}; status 0 on network errors, null when aborted. */
  async post(body) {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    let res;
    try {
      res = await this.fetchFn(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        cache: 'no-store',
        signal: ctrl.signal,
      });
    } catch (err) {
      if (ctrl.signal.aborted) return null;
      return { status: 0, json: null, retryAfterMs: null, date: null, message: String(err?.message || err) };
    }
    let json = null;
    try {
      const text = await res.text();
      json = text ? JSON.parse(text) : null;
    } catch {
      if (ctrl.signal.aborted) return null;
    }
    const hdr = (k) => (res.headers && typeof res.headers.get === 'function' ? res.headers.get(k) : null);
    return { status: res.status, json, retryAfterMs: parseRetryAfter(hdr('Retry-After')), date: hdr('Date') };
  }

  /** The join loop (use ensure()). */
  async join() {
    const gen = ++this.gen;
    this.stopRenew();
    let body = this.queueToken ? { queue_token: this.queueToken } : {};
    let attempt = 0;
    let startedOver = false;
    let challenges = 0;
    this.set({ state: 'joining', error: '', retryAt: 0, reason: '', position: null, estimate: null });
    for (;;) {
      const r = await this.post(body);
      if (gen !== this.gen || !r) return false;
      const j = r.json && typeof r.json === 'object' ? r.json : {};
      const s = r.status;

      if (s === 200) {
        this.admit(j, r);
        return true;
      }
      if (NOT_ADMISSION.has(s)) {
        // An older server without the join route: play without a ticket.
        this.set({ state: 'admitted', open: true, ticket: null, queueToken: null, retryAt: 0, position: null });
        return true;
      }
      if (s === 202) {
        attempt = 0;
        if (typeof j.queue_token === 'string' && j.queue_token) this.queueToken = j.queue_token;
        body = this.queueToken ? { queue_token: this.queueToken } : {};
        const afterMs = Math.max(
          Number.isFinite(Number(j.retry_after)) && j.retry_after != null ? Number(j.retry_after) * 1000 : 0,
          r.retryAfterMs ?? 0
        );
        const waitMs = afterMs > 0 ? afterMs : 1000;
        this.set({
          state: 'queued',
          position: Number.isFinite(Number(j.position)) ? Number(j.position) : null,
          // null while the line stands still (a full node): no estimate.
          estimate: j.estimate_seconds != null && Number.isFinite(Number(j.estimate_seconds)) ? Number(j.estimate_seconds) : null,
          retryAt: this.now() + waitMs,
          reason: '',
        });
        await this.wait(waitMs);
        if (gen !== this.gen) return false;
        continue;
      }
      if (s === 401 && j.code === 'challenge' && j.challenge && typeof j.challenge.challenge === 'string') {
        if (++challenges > 5) return this.fail('Could not pass the browser check. Please try again later.');
        const { challenge, difficulty } = j.challenge;
        this.set({ state: 'challenge', progress: 0, difficulty: Number(difficulty) || 0, retryAt: 0, position: null });
        let last = 0;
        this.solving = this.solve(challenge, difficulty, {
          onProgress: (tried) => {
            this.progress = tried;
            if (this.now() - last > 250) {
              last = this.now();
              this.emit();
            }
          },
        });
        let nonce;
        try {
          nonce = await this.solving.promise;
        } catch (err) {
          if (gen !== this.gen) return false;
          return this.fail(`Could not check this browser: ${err?.message || err}`);
        } finally {
          this.solvedBy = this.solving?.via || '';
          this.solving = null;
        }
        if (gen !== this.gen || nonce == null) return false;
        // A waiter asked for a proof keeps their place in line.
        body = this.queueToken ? { queue_token: this.queueToken, pow: { challenge, nonce: String(nonce) } } : { pow: { challenge, nonce: String(nonce) } };
        this.set({ state: 'joining' });
        continue;
      }
      if (s === 401) {
        // Forged, expired or other-space queue token / ticket: start over once.
        if (!startedOver) {
          startedOver = true;
          body = {};
          this.set({ state: 'joining', queueToken: null, ticket: null, position: null, estimate: null });
          continue;
        }
        return this.fail(j.error || "The server didn't let this player in (401).");
      }
      if (s === 0 || s === 408 || s === 429 || s >= 500) {
        const delay = joinBackoff(attempt++, {
          baseMs: this.baseMs,
          capMs: this.capMs,
          retryAfterMs: r.retryAfterMs,
          random: this.random,
        });
        this.set({ state: 'backoff', retryAt: this.now() + delay, reason: s ? String(s) : 'network' });
        await this.wait(delay);
        if (gen !== this.gen) return false;
        continue;
      }
      return this.fail(j.error || `Couldn't join the space (${s}).`);
    }
  }

  fail(message) {
    this.set({ state: 'error', error: message, retryAt: 0 });
    const err = new Error(message);
    err.name = 'AdmissionError';
    throw err;
  }

  admit(j, r) {
    if (!j.ticket) {
      // 200 without a ticket: nothing to send, nothing to renew.
      this.set({ state: 'admitted', open: true, ticket: null, queueToken: null, retryAt: 0, position: null });
      return;
    }
    const exp = Date.parse(j.expires_at);
    const serverNow = r.date ? Date.parse(r.date) : NaN;
    // Lifetime by the server's clock (Date has 1 s resolution: be pessimistic).
    const ttl = Number.isFinite(exp) ? exp - (Number.isFinite(serverNow) ? serverNow + 1000 : this.now()) : NaN;
    this.set({
      state: 'admitted',
      ticket: j.ticket,
      expiresAt: Number.isFinite(ttl) ? this.now() + ttl : NaN,
      playlistUrl: typeof j.playlist_url === 'string' && j.playlist_url ? j.playlist_url : this.playlistUrl,
      queueToken: null,
      open: false,
      retryAt: 0,
      position: null,
      estimate: null,
      reason: '',
      error: '',
    });
    this.scheduleRenew();
  }

  stopRenew() {
    clearTimeout(this.renewTimer);
    this.renewTimer = null;
  }

  scheduleRenew(delayMs) {
    this.stopRenew();
    if (!this.ticket || !Number.isFinite(this.expiresAt)) return;
    const left = this.expiresAt - this.now();
    const lead = Math.min(this.renewLeadMs, left / 2);
    const delay = delayMs ?? Math.max(1000, left - lead);
    const gen = this.gen;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = null;
      if (gen === this.gen) this.renew(0);
    }, delay);
  }

  /** Renews the ticket in place (renewals are never queued). */
  async renew(attempt) {
    const gen = this.gen;
    const r = await this.post({ ticket: this.ticket });
    if (gen !== this.gen || !r) return;
    const j = r.json && typeof r.json === 'object' ? r.json : {};
    if (r.status === 200) {
      this.renewals++;
      this.admit(j, r);
      return;
    }
    if (NOT_ADMISSION.has(r.status)) {
      this.set({ open: true, ticket: null });
      return;
    }
    if (r.status === 0 || r.status === 408 || r.status === 429 || r.status >= 500 || r.status === 202) {
      // Keep the current ticket; try again (sooner than its expiry when possible).
      const delay = joinBackoff(attempt, {
        baseMs: this.baseMs,
        capMs: Math.min(this.capMs, Math.max(this.baseMs, (this.expiresAt - this.now()) / 2)),
        retryAfterMs: r.retryAfterMs ?? (r.status === 202 && j.retry_after ? j.retry_after * 1000 : null),
        random: this.random,
      });
      this.renewTimer = setTimeout(() => {
        this.renewTimer = null;
        if (gen === this.gen) this.renew(attempt + 1);
      }, delay);
      return;
    }
    // Refused (expired, forged…): join again from scratch; playback goes on meanwhile.
    this.ticket = null;
    this.expiresAt = NaN;
    this.state = 'idle';
    this.ensure().catch(() => {});
  }
}
