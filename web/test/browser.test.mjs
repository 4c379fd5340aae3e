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

test('studio links keep the token out of every URL sent; a new host link replaces the old one', { timeout: 60000 }, async () => {
  const created = await env.api('POST', '/api/spaces', { title: 'Links' });
  assert.equal(created.status, 201, `create space: ${created.status} ${created.text}`);
  const { space, host_url: hostURL, host_token: oldToken } = created.json;
  const link = new URL(hostURL);
  assert.equal(link.search, '', `host_url ${hostURL} has a query`);
  assert.equal(link.hash, `#token=${oldToken}`, `host_url ${hostURL}: want the token in the fragment`);

  const page = await env.context.newPage();
  // Every request the page makes: none may carry a token in its URL or Referer.
  const sent = [];
  page.on('request', (req) => sent.push({ url: req.url(), referer: req.headers().referer || '' }));
  const noTokenSent = (tok, when) => {
    for (const r of sent) {
      assert.ok(!r.url.includes(tok) && !r.referer.includes(tok), `${when}: a request carried the token: ${r.url} (Referer ${r.referer})`);
      assert.ok(!/[?&]token=/.test(r.url), `${when}: a request has ?token=: ${r.url}`);
    }
  };
  const works = async (when) => {
    await page.waitForSelector('#studio:not([hidden])', { timeout: 10000 });
    // The invites list loads only with a valid host token.
    await page.waitForFunction(() => document.querySelector('#invites-empty')?.textContent === 'No invites yet.', null, { timeout: 10000 })
      .catch(async () => assert.fail(`${when}: invites did not load: ${await page.textContent('#invites-empty')}`));
    const href = await page.evaluate(() => location.href);
    assert.ok(!href.includes('token'), `${when}: the address bar still carries the token: ${href}`);
    assert.equal(href, `${env.base}/studio/${space.id}`, `${when}: address`);
  };
  await page.goto(hostURL);
  await works('after load');
  await page.reload();
  await works('after a reload');
  noTokenSent(oldToken, 'load and reload');

  // A new host link: two clicks (the first arms it), then the link is shown.
  await page.click('#new-host-link');
  await page.click('#new-host-link');
  await page.waitForSelector('#host-link-result:not([hidden])', { timeout: 10000 });
  const newURL = await page.inputValue('#host-link-url');
  const newToken = new URLSearchParams(new URL(newURL).hash.slice(1)).get('token');
  assert.ok(newToken && newToken !== oldToken && new URL(newURL).search === '', `new host link ${newURL}`);
  // The old token is refused from now on; the new one works.
  const invites = `/api/spaces/${space.id}/invites`;
  assert.equal((await env.api('GET', invites, undefined, oldToken)).status, 401, 'old host token after a new host link');
  assert.equal((await env.api('GET', invites, undefined, newToken)).status, 200, 'new host token');
  // The page goes on with the new token: it invites a speaker, and the
  // invite link carries its token in the fragment too.
  await page.fill('#invite-name', 'Cy');
  await page.click('#invite-form button[type=submit]');
  await page.waitForSelector('#invite-result:not([hidden])', { timeout: 10000 });
  const inv = new URL(await page.inputValue('#invite-url'));
  assert.ok(inv.search === '' && inv.hash.startsWith('#token='), `invite link ${inv.href}`);
  await page.reload();
  await page.waitForFunction(() => document.querySelectorAll('#invites li.invite').length === 1, null, { timeout: 10000 });
  noTokenSent(oldToken, 'after the new link');
  noTokenSent(newToken, 'after the new link');
  await page.screenshot({ path: path.join(artifacts, 'studio-host-link.png'), fullPage: true });

  // The old link opened elsewhere says so; the new one works there.
  const other = await env.context.newPage();
  await other.goto(hostURL);
  await other.waitForFunction(() => /invalid|expired|revoked|401/i.test(document.querySelector('#invites-empty')?.textContent || ''), null, { timeout: 10000 })
    .catch(async () => assert.fail(`the old link still loads invites: ${await other.textContent('#invites-empty')}`));
  // The new link pasted over the old one (only the fragment changes): the
  // page takes the new token.
  await Promise.all([other.waitForEvent('load'), other.goto(newURL)]);
  await other.waitForFunction(() => document.querySelectorAll('#invites li.invite').length === 1, null, { timeout: 10000 });
  assert.equal(await other.evaluate(() => location.href), `${env.base}/studio/${space.id}`, 'address after the new link');
  await other.close();
  await page.close();
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
