// Unit tests (node, no browser) for the listener admission client:
// backoff, proof of work, the join state machine and the operator view's
// rate/sparkline helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Admission, formatEstimate, joinBackoff, queueText } from '../src/join.js';
import { checkPow, leadingZeroBits, solvePow } from '../src/pow.js';
import { counterRates, formatRate, sparkline, sumRates } from '../src/metrics.js';

test('joinBackoff: full jitter within [0, min(cap, base*2^n)]', () => {
  const base = 1000;
  const cap = 30000;
  for (let n = 0; n < 12; n++) {
    const ceiling = Math.min(cap, base * 2 ** n);
    assert.equal(joinBackoff(n, { baseMs: base, capMs: cap, random: () => 0 }), 0);
    assert.ok(joinBackoff(n, { baseMs: base, capMs: cap, random: () => 0.999999 }) <= ceiling);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < 2000; i++) {
      const d = joinBackoff(n, { baseMs: base, capMs: cap });
      assert.ok(d >= 0 && d <= ceiling, `attempt ${n}: ${d} outside [0, ${ceiling}]`);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    // Full jitter: the whole range is used, not just its top.
    assert.ok(lo < ceiling * 0.1 && hi > ceiling * 0.9, `attempt ${n}: range [${lo}, ${hi}] of ${ceiling}`);
  }
  assert.ok(joinBackoff(1000, { baseMs: base, capMs: cap }) <= cap, 'huge attempt stays capped');
  assert.ok(joinBackoff(-3, { baseMs: base, capMs: cap }) <= base, 'negative attempt counts as 0');
});

test('joinBackoff: never sooner than Retry-After', () => {
  for (let n = 0; n < 10; n++) {
    for (const ra of [0, 500, 5000, 29000, 60000]) {
      for (let i = 0; i < 300; i++) {
        const d = joinBackoff(n, { baseMs: 1000, capMs: 30000, retryAfterMs: ra });
        assert.ok(d >= ra, `attempt ${n}, Retry-After ${ra}: ${d}`);
        assert.ok(d <= Math.max(ra, Math.min(30000, 1000 * 2 ** n)), `attempt ${n}, Retry-After ${ra}: ${d} too long`);
      }
    }
  }
  // Retry-After beyond the cap wins.
  assert.equal(joinBackoff(0, { retryAfterMs: 45000, random: () => 0.5 }), 45000);
  // The jitter wins when it is longer.
  assert.equal(joinBackoff(5, { baseMs: 1000, capMs: 30000, retryAfterMs: 1000, random: () => 0.5 }), 15000);
});

test('leadingZeroBits', () => {
  assert.equal(leadingZeroBits(new Uint8Array([0x80])), 0);
  assert.equal(leadingZeroBits(new Uint8Array([0x01])), 7);
  assert.equal(leadingZeroBits(new Uint8Array([0, 0x10, 0xff])), 11);
  assert.equal(leadingZeroBits(new Uint8Array([0, 0])), 16);
});

test('solvePow finds a nonce of difficulty 12, verified with node:crypto', async () => {
  const challenge = 'podium-test-challenge.v1.AbC123';
  let progressed = 0;
  const nonce = await solvePow(challenge, 12, { onProgress: (n) => (progressed = n) });
  assert.match(nonce, /^\d+$/, 'nonce is a decimal counter');
  const digest = createHash('sha256').update(`${challenge}:${nonce}`).digest();
  assert.ok(leadingZeroBits(digest) >= 12, `sha256 ${digest.toString('hex')} has fewer than 12 leading zero bits`);
  assert.ok(digest[0] === 0 && digest[1] >> 4 === 0, 'first 12 bits zero');
  // The smallest such nonce: every smaller one fails.
  for (let i = 0; i < Number(nonce); i++) {
    const d = createHash('sha256').update(`${challenge}:${i}`).digest();
    assert.ok(leadingZeroBits(d) < 12, `nonce ${i} already solves it`);
  }
  assert.ok(await checkPow(challenge, nonce, 12));
  assert.ok(!(await checkPow(challenge, String(Number(nonce) + 1), 40)));
  assert.ok(progressed >= 0);
});

test('queue text and estimates', () => {
  assert.equal(queueText(1234, 40), "You're in line: position 1,234 · about 40 s");
  assert.equal(queueText(3, null), "You're in line: position 3");
  assert.equal(formatEstimate(0.2), 'about 1 s');
  assert.equal(formatEstimate(150), 'about 3 min');
  assert.equal(formatEstimate(3900), 'about 1 h 5 min');
});

// ---- the join state machine against a scripted fake fetch ----------------------------

function fakeServer(script) {
  const calls = [];
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    calls.push({ url, body });
    const step = script.shift();
    if (!step) throw new Error(`unexpected join call ${JSON.stringify(body)}`);
    const next = typeof step === 'function' ? step(body) : step;
    if (next.networkError) throw new TypeError('Failed to fetch');
    return new Response(next.json === undefined ? '' : JSON.stringify(next.json), {
      status: next.status,
      headers: { 'Content-Type': 'application/json', ...(next.headers || {}) },
    });
  };
  return { fetch, calls };
}

const ticketAnswer = (ticket, ttlMs = 600000) => ({
  status: 200,
  json: { ticket, expires_at: new Date(Date.now() + ttlMs).toISOString(), playlist_url: '/hls/sp_1/index.m3u8' },
});

test('Admission: waiting room, then admitted', async () => {
  const { fetch, calls } = fakeServer([
    { status: 202, json: { queued: true, position: 3, estimate_seconds: 9, queue_token: 'q1', retry_after: 0.02 }, headers: { 'Retry-After': '0' } },
    { status: 202, json: { queued: true, position: 1, estimate_seconds: 2, queue_token: 'q2', retry_after: 0.02 } },
    ticketAnswer('t1'),
  ]);
  const seen = [];
  const a = new Admission('sp_1', { fetch, onChange: (s) => seen.push(`${s.state}${s.position ? ':' + s.position : ''}`) });
  assert.equal(await a.ensure(), true);
  assert.equal(a.ticket, 't1');
  assert.equal(a.playlistUrl, '/hls/sp_1/index.m3u8');
  assert.deepEqual(a.snapshot().ticket, true);
  assert.equal(calls[0].url, '/api/spaces/sp_1/join');
  assert.deepEqual(calls.map((c) => c.body), [{}, { queue_token: 'q1' }, { queue_token: 'q2' }]);
  assert.ok(seen.includes('queued:3') && seen.includes('queued:1') && seen.at(-1) === 'admitted', seen.join(' '));
  assert.ok(a.ready);
  a.abort();
  assert.ok(a.ready, 'pausing keeps a good ticket');
});

test('Admission: challenge solved, then admitted', async () => {
  let powBody = null;
  const { fetch } = fakeServer([
    { status: 401, json: { error: 'solve this', code: 'challenge', challenge: { challenge: 'ch.abc', difficulty: 8 } } },
    (body) => ((powBody = body), ticketAnswer('t1')),
  ]);
  const states = new Set();
  const a = new Admission('sp_1', { fetch, onChange: (s) => states.add(s.state) });
  assert.equal(await a.ensure(), true);
  assert.ok(states.has('challenge'));
  assert.equal(powBody.pow.challenge, 'ch.abc');
  const d = createHash('sha256').update(`ch.abc:${powBody.pow.nonce}`).digest();
  assert.ok(leadingZeroBits(d) >= 8);
  a.abort();
});

test('Admission: a line standing still gives no estimate; a waiter challenged keeps their place', async () => {
  let powBody = null;
  const { fetch } = fakeServer([
    { status: 202, json: { queued: true, position: 1, estimate_seconds: null, estimate_reason: 'full', queue_token: 'q1', retry_after: 0.02 } },
    { status: 401, json: { error: 'solve this', code: 'challenge', challenge: { challenge: 'ch.abc', difficulty: 4 } } },
    (body) => ((powBody = body), ticketAnswer('t1')),
  ]);
  const estimates = [];
  const a = new Admission('sp_1', { fetch, onChange: (s) => s.state === 'queued' && estimates.push(s.estimate) });
  assert.equal(await a.ensure(), true);
  assert.deepEqual(estimates, [null], 'a null estimate is no estimate, not 0 s');
  assert.equal(queueText(1, null), "You're in line: position 1");
  assert.equal(powBody.queue_token, 'q1');
  assert.equal(powBody.pow.challenge, 'ch.abc');
  a.abort();
});

test('Admission: busy answers back off (honouring Retry-After), network errors too', async () => {
  const { fetch } = fakeServer([
    { status: 503, json: { error: 'busy' }, headers: { 'Retry-After': '0.05' } },
    { networkError: true },
    { status: 429, json: { error: 'slow down' } },
    ticketAnswer('t1'),
  ]);
  const states = [];
  const a = new Admission('sp_1', { fetch, baseMs: 5, capMs: 20, onChange: (s) => states.push(s.state) });
  const t0 = Date.now();
  assert.equal(await a.ensure(), true);
  assert.ok(Date.now() - t0 >= 50, 'waited at least Retry-After');
  assert.equal(states.filter((s) => s === 'backoff').length, 3);
  a.abort();
});

test('Admission: a server without the join route plays without a ticket', async () => {
  const { fetch } = fakeServer([{ status: 404, json: { error: 'not found' } }]);
  const a = new Admission('sp_1', { fetch });
  assert.equal(await a.ensure(), true);
  assert.deepEqual([a.snapshot().state, a.snapshot().ticket, a.open], ['admitted', false, true]);
  assert.equal(await a.ensure(), true, 'no second call');
});

test('Admission: a refused queue token starts over once, then fails', async () => {
  const { fetch, calls } = fakeServer([
    { status: 401, json: { error: 'queue token expired', code: 'bad_queue_token' } },
    { status: 401, json: { error: 'forged ticket', code: 'bad_ticket' } },
  ]);
  const a = new Admission('sp_1', { fetch });
  a.queueToken = 'old';
  await assert.rejects(a.ensure(), /forged ticket/);
  assert.deepEqual(calls.map((c) => c.body), [{ queue_token: 'old' }, {}]);
  assert.equal(a.snapshot().state, 'error');
  assert.equal(a.snapshot().error, 'forged ticket');
});

test('Admission: the ticket is renewed before it expires and swapped in place', async () => {
  const { fetch, calls } = fakeServer([ticketAnswer('t1', 2500), ticketAnswer('t2', 600000)]);
  const a = new Admission('sp_1', { fetch });
  await a.ensure();
  assert.equal(a.ticket, 't1');
  // ~2.5 s left: renewal at max(1 s, left - min(30 s, left/2)) ≈ 1.25 s.
  const deadline = Date.now() + 4000;
  while (a.ticket !== 't2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(a.ticket, 't2');
  assert.deepEqual(calls[1].body, { ticket: 't1' });
  assert.equal(a.snapshot().state, 'admitted');
  assert.equal(a.snapshot().renewals, 1);
  a.abort();
});

test('Admission: abort while queued stops the loop', async () => {
  const { fetch, calls } = fakeServer([
    { status: 202, json: { queued: true, position: 9, queue_token: 'q1', retry_after: 30 } },
  ]);
  const a = new Admission('sp_1', { fetch });
  const p = a.ensure();
  while (a.state !== 'queued') await new Promise((r) => setTimeout(r, 5));
  a.abort();
  assert.equal(await p, false);
  assert.equal(calls.length, 1);
  assert.equal(a.queueToken, 'q1', 'the place in line is kept for the next Play');
});

// ---- operator view helpers -------------------------------------------------------

test('counterRates, sumRates, formatRate, sparkline', () => {
  const r = counterRates({ a: 10, b: 5, c: 9 }, { a: 30, b: 5, c: 1, d: 4 }, 2);
  assert.deepEqual(r, { a: 10, b: 0, c: null, d: null });
  assert.equal(sumRates(r), 10);
  assert.equal(sumRates({ x: null }), null);
  assert.deepEqual(counterRates(null, { a: 1 }, 1), { a: null });
  assert.equal(formatRate(0), '0/s');
  assert.equal(formatRate(2.34), '2.3/s');
  assert.equal(formatRate(1500), '1.5k/s');
  assert.equal(formatRate(null), '–');
  const end = 1_000_000;
  const s = sparkline(
    [
      { t: end - 400000, v: 99 }, // outside the window
      { t: end - 300000, v: 0 },
      { t: end - 150000, v: null },
      { t: end, v: 10 },
    ],
    { end, windowMs: 300000, width: 300, height: 40 }
  );
  assert.equal(s.points, '0.0,38.0 300.0,2.0');
  assert.equal(s.max, 10);
  assert.equal(sparkline([], { end }).points, '');
});
