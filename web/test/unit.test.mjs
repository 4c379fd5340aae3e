// Unit tests for the pure helpers in src/common.js (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ApiError,
  formatBytes,
  formatClock,
  formatSpan,
  formatTimeParam,
  parseTimeParam,
  speakersFromTurns,
  withRetry,
  withToken,
} from '../src/common.js';

test('parseTimeParam accepts the documented forms', () => {
  for (const [v, want] of [
    ['1h02m10s', 3730],
    ['62m', 3720],
    ['90s', 90],
    ['90', 90],
    ['1:02:10', 3730],
    ['2:10', 130],
    ['4m5s', 245],
    ['99h', 356400],
    [' 1H2M ', 3720],
  ])
    assert.equal(parseTimeParam(v), want, v);
  for (const v of ['', 'abc', '1:75', '1:2:3:4', 'h', '-5', '1m2h', '5 s', null, undefined])
    assert.ok(Number.isNaN(parseTimeParam(v)), String(v));
});

test('formatTimeParam omits zero leading units and round-trips', () => {
  assert.equal(formatTimeParam(3730), '1h2m10s');
  assert.equal(formatTimeParam(245), '4m5s');
  assert.equal(formatTimeParam(75), '1m15s');
  assert.equal(formatTimeParam(3600), '1h0m0s');
  assert.equal(formatTimeParam(9.9), '9s');
  assert.equal(formatTimeParam(0), '0s');
  for (const s of [0, 5, 59, 60, 61, 3599, 3600, 3661, 86399]) assert.equal(parseTimeParam(formatTimeParam(s)), s);
});

test('clock, span, bytes, token', () => {
  assert.equal(formatClock(3730), '1:02:10');
  assert.equal(formatClock(3492), '58:12');
  assert.equal(formatClock(5.7), '0:05');
  assert.equal(formatSpan(45000), '45 s');
  assert.equal(formatSpan(125000), '2 min 5 s');
  assert.equal(formatSpan(3723000), '1 h 2 min');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(22000000), '21 MB');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(withToken('/a', 'x y'), '/a?token=x%20y');
  assert.equal(withToken('/a?b=1', 't'), '/a?b=1&token=t');
  assert.equal(withToken('/a', ''), '/a');
});

test('speakersFromTurns groups and totals by speaker, ordered by first turn', () => {
  const s = speakersFromTurns([
    { speaker: 'b', name: 'Bo', start_ms: 6000, end_ms: 8000 },
    { speaker: 'a', name: 'Ada', start_ms: 0, end_ms: 5400 },
    { speaker: 'a', name: 'Ada', start_ms: 9000, end_ms: 10000 },
  ]);
  assert.deepEqual(
    s.map((x) => [x.speaker, x.ms, x.turns.length]),
    [
      ['a', 6400, 2],
      ['b', 2000, 1],
    ]
  );
});

test('withRetry retries overload, stops at tries, throws the rest at once', async () => {
  let calls = 0;
  const ok = await withRetry(async () => {
    if (++calls < 2) throw new ApiError(503, 'busy', 'overloaded', 0);
    return 'done';
  });
  assert.equal(ok, 'done');
  assert.equal(calls, 2);

  calls = 0;
  await assert.rejects(
    withRetry(async () => { calls++; throw new ApiError(404, 'nope'); }),
    (err) => err.status === 404,
  );
  assert.equal(calls, 1, 'a 404 is not retried');

  calls = 0;
  let told = 0;
  await assert.rejects(
    withRetry(async () => { calls++; throw new ApiError(0, 'network'); }, { tries: 2, capMs: 10, onRetry: () => told++ }),
    (err) => err.status === 0,
  );
  assert.equal(calls, 2, 'stops after tries');
  assert.equal(told, 1);
});
