// End-to-end test of the web UI against a real podium server and a real
// chromium: the host joins the stage from the studio page with chromium's fake
// microphone (it beeps), starts the space, and a listener page plays the
// LL-HLS mix; the listener must hear more than silence.
//
//   cd web && npm run build && (cd .. && go build -o bin/podium ./cmd/podium)
//   npm run test:browser
//
// Environment: see helpers.mjs (PODIUM_BIN, PODIUM_URL, PODIUM_OPERATOR_TOKEN,
// CHROMIUM, LEVEL_THRESHOLD).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, hostStartsSpace, levelThreshold, podiumHarness, samplePeak } from './helpers.mjs';

const env = podiumHarness();
before(env.setup);
after(env.teardown);

test('host speaks in the studio, a listener hears it', { timeout: 75000 }, async () => {
  const { space, studio } = await hostStartsSpace(env, {
    title: 'Browser test space',
    description: 'Created by web/test/browser.test.mjs',
  });

  // Listener: press Play and wait for audio.
  const listener = await env.context.newPage();
  await listener.goto(`${env.base}/s/${encodeURIComponent(space.id)}`);
  await listener.waitForSelector('#play', { state: 'visible', timeout: 10000 });
  await listener.click('#play');
  await listener.waitForFunction(() => window.podium && window.podium.playing(), null, { timeout: 30000 });

  // Sample what the listener's <audio> plays for ~5 s (the fake mic beeps
  // briefly a couple of times a second, so sample often).
  const [max, micPeak] = await Promise.all([
    samplePeak(listener, 'podium', 'level'),
    samplePeak(studio, 'studio', 'micLevel'),
  ]);
  const [latency, mixLatency] = await listener.evaluate(() => [window.podium.latency(), window.podium.mixLatency()]);
  console.log(`listener peak RMS ${max.toFixed(4)} (studio mic peak ${micPeak.toFixed(4)}), ` +
    `hls latency ${Number(latency).toFixed(2)} s, mixer-to-ear ${Number(mixLatency).toFixed(2)} s`);

  await studio.waitForSelector('#stage li.speaker', { timeout: 5000 }).catch(() => {});
  await studio.screenshot({ path: path.join(artifacts, 'studio.png'), fullPage: true });
  await listener.screenshot({ path: path.join(artifacts, 'listener.png'), fullPage: true });

  assert.ok(max > levelThreshold, `listener heard silence: peak RMS ${max} <= ${levelThreshold}`);
  assert.ok(await listener.evaluate(() => window.podium.playing()), 'listener stopped playing');
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});

test('two speakers hear each other over WebRTC, never themselves', { timeout: 75000 }, async () => {
  const { space, hostToken, studio: host } = await hostStartsSpace(env, { title: 'Two speakers' });
  const inv = await env.api('POST', `/api/spaces/${space.id}/invites`, { name: 'Bea' }, hostToken);
  assert.equal(inv.status, 201, `invite: ${inv.status} ${inv.text}`);
  const guest = await env.context.newPage();
  await guest.goto(inv.json.url);
  // The studio reads the name the invite token carries (its payload).
  await guest.waitForFunction(() => document.querySelector('#name')?.value === 'Bea', null, { timeout: 5000 });
  await guest.fill('#name', 'Bea Guest');
  await guest.click('#join');
  await guest.waitForFunction(() => window.studio && window.studio.joined(), null, { timeout: 20000 });
  // Each hears the other's fake microphone through its listening slot.
  const [hostHears, guestHears] = await Promise.all([
    samplePeak(host, 'studio', 'remoteLevel'),
    samplePeak(guest, 'studio', 'remoteLevel'),
  ]);
  const st = await guest.evaluate(() => window.studio.rtcStats());
  console.log(`speaker-to-speaker: host hears ${hostHears.toFixed(4)}, guest hears ${guestHears.toFixed(4)}; ` +
    `guest's jitter buffer ${Number(st.jitterBufferMs).toFixed(1)} ms, rtt ${Number(st.rttMs).toFixed(1)} ms, ` +
    `${st.packetsReceived} packets received, ${st.packetsLost} lost`);
  assert.ok(hostHears > levelThreshold, `the host heard silence from the guest: ${hostHears}`);
  assert.ok(guestHears > levelThreshold, `the guest heard silence from the host: ${guestHears}`);
  assert.ok(st.packetsReceived > 100, `guest received only ${st.packetsReceived} packets`);
  await guest.close();
  await host.close();
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});

test('listener page for an unknown space says not found', { timeout: 15000 }, async () => {
  const page = await env.context.newPage();
  await page.goto(`${env.base}/s/sp_doesnotexist`);
  const box = page.locator('#notfound');
  await box.waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await box.innerText(), /not found/i);
  await page.screenshot({ path: path.join(artifacts, 'notfound.png') });
  await page.close();
  assert.deepEqual(env.pageErrors, [], 'uncaught errors in the pages');
});
