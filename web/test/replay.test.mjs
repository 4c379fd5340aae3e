// End-to-end test of the replay page against a real podium server and a real
// chromium: the host speaks (fake beeping microphone) for ~8 s, ends the
// space, publishes the recording; the replay page then starts at ?t=4s,
// plays sound, jumps to a speaker's turn from the timeline, and explains
// links past the end and unknown recordings.
//
//   cd web && npm run build && (cd .. && go build -o bin/podium ./cmd/podium)
//   npm run test:browser
//
// Environment: see helpers.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, hostStartsSpace, levelThreshold, podiumHarness, samplePeak, sleep } from './helpers.mjs';

const env = podiumHarness();
before(env.setup);
after(env.teardown);

let spaceId = '';
let recording = null; // the published recording

test('a published recording replays from ?t=, with a clickable speaker timeline', { timeout: 120000 }, async () => {
  const { space, hostToken, studio } = await hostStartsSpace(env, {
    title: 'Replay test space',
    description: 'Created by web/test/replay.test.mjs',
  });
  const sp = encodeURIComponent(space.id);
  assert.notEqual(space.record, false, 'spaces are recorded by default');

  // Talk for ~8 s, then end the space as the host.
  await sleep(8500);
  await studio.screenshot({ path: path.join(artifacts, 'studio-recording.png'), fullPage: true });
  const ended = await env.api('POST', `/api/spaces/${sp}/end`, null, hostToken);
  assert.equal(ended.status, 200, `end: ${ended.status} ${ended.text}`);

  // The recording is complete (the server may need a moment to finalize).
  let rec = null;
  await env.waitFor(
    'GET /recording to answer a complete recording',
    async () => {
      const r = await env.api('GET', `/api/spaces/${sp}/recording`, null, hostToken);
      if (r.status === 404 && !rec) {
        const before = await env.api('GET', `/api/spaces/${sp}`);
        if (!('record' in (before.json || {}))) throw new Error('this podium server does not support recordings yet');
      }
      if (r.status !== 200) throw new Error(`GET recording: ${r.status} ${r.text}`);
      rec = r.json;
      return rec.state === 'complete' && rec.duration_ms > 0;
    },
    20000
  );
  console.log(`recording: ${rec.duration_ms} ms, ${rec.size_bytes} bytes, ${rec.turns?.length} turns ` +
    `${JSON.stringify((rec.turns || []).slice(0, 3))}, gaps ${JSON.stringify(rec.gaps)}`);
  // ~8.5 s of talk; ?t=4s must fall well inside.
  assert.ok(rec.duration_ms >= 5500, `recording too short: ${rec.duration_ms} ms`);
  assert.ok(Array.isArray(rec.turns) && rec.turns.length > 0, `no speaker turns: ${JSON.stringify(rec.turns)}`);
  await studio.waitForSelector('#rec-after:not([hidden])', { timeout: 10000 });
  await studio.screenshot({ path: path.join(artifacts, 'studio-recording-ended.png'), fullPage: true });
  // The studio's replay and download links carry a preview token, never the host's.
  for (const sel of ['#rec-open', '#rec-download']) {
    const href = await studio.getAttribute(sel, 'href');
    assert.ok(href && !href.includes(hostToken), `studio ${sel} link carries the host token: ${href}`);
  }
  assert.match(await studio.textContent('#rec-visibility'), /Private/, 'the studio shows the recording as private');

  // Unpublished: the host's preview link plays, and its links carry no host token.
  const priv = await env.api('GET', `/api/spaces/${sp}/recording`, null, hostToken);
  for (const u of [priv.json.replay_url, priv.json.playlist_url, priv.json.download_url]) {
    assert.ok(u.includes('token=') && !u.includes(hostToken), `private link ${u}: want a preview token, not the host's`);
  }
  const preview = await env.context.newPage();
  await preview.goto(priv.json.replay_url);
  await preview.waitForSelector('#replay', { state: 'visible', timeout: 10000 });
  await preview.click('#play');
  await preview.waitForFunction(() => window.replay && window.replay.playing(), null, { timeout: 20000 });
  const dl = await preview.getAttribute('#download', 'href');
  assert.ok(dl && !dl.includes(hostToken), `preview page download link: ${dl}`);
  await preview.close();

  // Unpublished: anonymous visitors get the polite "not available".
  const anon = await env.api('GET', `/api/spaces/${sp}/recording`, null, '');
  assert.equal(anon.status, 404, `unpublished recording visible anonymously: ${anon.status}`);

  // The host publishes from the studio's recording panel.
  await studio.click('#rec-publish');
  await studio.waitForFunction(() => /Published/.test(document.querySelector('#rec-visibility')?.textContent || ''), null, { timeout: 10000 });
  assert.match(await studio.textContent('#rec-msg'), /published/i, 'the studio says the recording is published');
  await studio.close();
  const pub = await env.api('GET', `/api/spaces/${sp}/recording`, null, hostToken);
  assert.equal(pub.status, 200, `recording after publishing: ${pub.status} ${pub.text}`);
  assert.equal(pub.json?.published, true, `published from the studio, the API says: ${pub.text}`);
  spaceId = space.id;
  recording = pub.json;

  // Replay from 4 s.
  const page = await env.context.newPage();
  await page.goto(`${env.base}/r/${sp}?t=4s`);
  await page.waitForSelector('#replay', { state: 'visible', timeout: 10000 });
  assert.ok(await page.locator('#t-msg').isHidden(), 'a valid ?t= shows no warning');
  await page.click('#play');
  await page.waitForFunction(() => window.replay && window.replay.playing(), null, { timeout: 20000 });
  const t0 = await page.evaluate(() => window.replay.currentTime());
  assert.ok(t0 >= 3.5 && t0 <= 6, `playback should start near 4 s, at ${t0}`);
  const dur = await page.evaluate(() => window.replay.duration());
  assert.ok(Math.abs(dur - rec.duration_ms / 1000) < 3, `duration ${dur} vs recording ${rec.duration_ms} ms`);

  const peak = await samplePeak(page, 'replay', 'level', 2500);
  console.log(`replay peak RMS ${peak.toFixed(4)}, started at ${t0.toFixed(2)} s of ${dur.toFixed(2)} s`);
  assert.ok(peak > levelThreshold, `the replay is silent: peak RMS ${peak} <= ${levelThreshold}`);

  // The first turn bar of the timeline: seek somewhere else first so that the
  // jump is visible, then click it.
  const bar = page.locator('#timeline .turn').first();
  await bar.waitFor({ state: 'visible', timeout: 5000 });
  const start = Number(await bar.getAttribute('data-start'));
  assert.ok(Math.abs(start - rec.turns.slice().sort((a, b) => a.start_ms - b.start_ms)[0].start_ms / 1000) < 0.01, 'first bar is the first turn');
  const away = start < dur / 2 ? Math.min(start + 3, dur - 1) : 0.2;
  await page.evaluate((t) => window.replay.seek(t), away);
  await page.waitForFunction((s) => Math.abs(window.replay.currentTime() - s) > 1.5, start, { timeout: 5000 });
  await bar.click();
  await page.waitForFunction((s) => Math.abs(window.replay.currentTime() - s) <= 1, start, { timeout: 5000 });
  const t1 = await page.evaluate(() => window.replay.currentTime());
  assert.ok(Math.abs(t1 - start) <= 1, `after clicking the turn at ${start} s, at ${t1} s`);
  await page.waitForFunction(() => window.replay.playing(), null, { timeout: 10000 });

  await page.screenshot({ path: path.join(artifacts, 'replay.png'), fullPage: true });
  await page.close();
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});

test('a link past the end says so and starts at the beginning', { timeout: 30000 }, async (t) => {
  if (!spaceId) return t.skip('needs the recording from the previous test');
  const page = await env.context.newPage();
  await page.goto(`${env.base}/r/${encodeURIComponent(spaceId)}?t=99h`);
  const msg = page.locator('#t-msg');
  await msg.waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await msg.innerText(), /past the end of the recording \(99:00:00 > \d+:\d\d\); starting at the beginning/);
  assert.ok((await page.evaluate(() => window.replay.currentTime())) < 0.5, 'starts at the beginning');
  await page.screenshot({ path: path.join(artifacts, 'replay-past-end.png') });
  await page.close();
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});

test('the replay playlist covers the whole recording', { timeout: 15000 }, async (t) => {
  if (!recording) return t.skip('needs the recording from the first test');
  const res = await fetch(recording.playlist_url);
  assert.equal(res.status, 200, `playlist: ${res.status}`);
  const playlist = await res.text();
  assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
  assert.match(playlist, /#EXT-X-ENDLIST/);
  const listed = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce((a, m) => a + Number(m[1]), 0);
  const want = recording.duration_ms / 1000;
  console.log(`playlist lists ${listed.toFixed(3)} s in ${playlist.match(/#EXTINF/g)?.length || 0} segments (recording: ${want} s)`);
  assert.ok(Math.abs(listed - want) <= 0.5, `the playlist lists ${listed.toFixed(3)} s but the recording is ${want} s long`);
});

test('replay of an unknown space says not available', { timeout: 15000 }, async () => {
  const page = await env.context.newPage();
  await page.goto(`${env.base}/r/sp_doesnotexist`);
  const box = page.locator('#notfound');
  await box.waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await box.innerText(), /not available/i);
  await page.close();
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});
