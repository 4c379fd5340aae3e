// The listener page in a real Firefox: Debian's firefox-esr driven over
// WebDriver BiDi by puppeteer-core (which never downloads a browser).
//
// A `podium demo` server (a live space with two synthetic speakers) is the
// source; the test opens its listener page in Firefox, clicks Play (a trusted
// click, so Firefox's default autoplay policy applies), waits for playback
// and samples window.podium.level() for ~5 s: the listener must hear more
// than silence.
//
// With PODIUM_URL (+ PODIUM_OPERATOR_TOKEN) set, the demo server is not
// started: the operator creates a space and the host speaks into it from the
// studio page in chromium (fake microphone), as browser.test.mjs does.
//
// Environment: FIREFOX (default /usr/bin/firefox-esr, then /usr/bin/firefox),
// and those of helpers.mjs (PODIUM_BIN, PODIUM_URL, PODIUM_OPERATOR_TOKEN,
// CHROMIUM, LEVEL_THRESHOLD). A missing Firefox fails the test (`make deps`
// installs firefox-esr).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import puppeteer from 'puppeteer-core';
import { artifacts, grace, hostStartsSpace, levelThreshold, podiumHarness, startDemo } from './helpers.mjs';

const firefoxCandidates = process.env.FIREFOX ? [process.env.FIREFOX] : ['/usr/bin/firefox-esr', '/usr/bin/firefox'];
const firefoxPath = firefoxCandidates.find((p) => existsSync(p));

// Firefox preferences on top of puppeteer's own test profile (which already
// turns off updates, safebrowsing, health reports and remote settings): no
// network traffic of its own, since the test machine may have no internet.
const FIREFOX_PREFS = {
  // Nothing phones home.
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.normandy.enabled': false,
  'app.shield.optoutstudies.enabled': false,
  'browser.aboutwelcome.enabled': false,
  'browser.discovery.enabled': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.ping-centre.telemetry': false,
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.safebrowsing.update.enabled': false,
  'browser.search.geoip.url': '',
  'captivedetect.canonicalURL': '',
  'datareporting.policy.dataSubmissionEnabled': false,
  'extensions.blocklist.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.predictor.enabled': false,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'services.settings.server': 'data:,',
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  // Test machines have no sound device (no /dev/snd, no PulseAudio): without
  // one Firefox's AudioContext never leaves "suspended", so the page's WebAudio
  // graph (media element -> analyser -> destination) would only ever see
  // silence. cubeb's mock backend is a running audio clock without a device,
  // like chromium's fake audio output in headless mode.
  'media.cubeb.force_mock_context': true,
  // Autoplay prefs are left at Firefox's defaults on purpose: the test clicks
  // Play like a user, so the page must start audio under the real policy.
};

let demo = null; // podium demo server (default)
let env = null; // chromium harness against PODIUM_URL
let browser = null; // firefox
const pageErrors = [];

before(async () => {
  await mkdir(artifacts, { recursive: true });
  assert.ok(
    firefoxPath,
    `Firefox not found (looked for ${firefoxCandidates.join(', ')}): install it with "make deps" ` +
      '(Debian package firefox-esr) or point FIREFOX at a Firefox >= 128 binary'
  );
});

after(async () => {
  if (browser) {
    const proc = browser.process();
    await Promise.race([browser.close().catch(() => {}), grace(5000)]);
    if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  }
  await env?.teardown();
  await demo?.stop();
});

test('a listener in Firefox hears the live space', { timeout: 60000 }, async () => {
  // The source: a live space with someone speaking.
  let spaceURL;
  let base;
  if (process.env.PODIUM_URL) {
    env = podiumHarness();
    await env.setup();
    const { space } = await hostStartsSpace(env, {
      title: 'Firefox test space',
      description: 'Created by web/test/firefox.test.mjs',
    });
    base = env.base;
    spaceURL = `${env.base}/s/${encodeURIComponent(space.id)}`;
  } else {
    demo = await startDemo();
    base = demo.base;
    spaceURL = demo.spaceURL;
  }
  const spaceId = spaceURL.split('/s/')[1];
  const info = await (await fetch(`${base}/api/spaces/${spaceId}`)).json();
  assert.equal(info.state, 'live', `the space is not live: ${JSON.stringify(info)}`);

  const t0 = Date.now();
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: firefoxPath,
      headless: true,
      extraPrefsFirefox: FIREFOX_PREFS,
      env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1' },
      timeout: 30000,
      protocolTimeout: 30000,
    });
  } catch (err) {
    assert.fail(`could not launch Firefox (${firefoxPath}) over WebDriver BiDi: ${err.message}`);
  }
  const version = await browser.version();
  console.log(`${version} (${firefoxPath}) started in ${Date.now() - t0} ms`);

  const page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`firefox console error: ${msg.text()}`);
  });
  await page.setViewport({ width: 1100, height: 900 });
  await page.goto(spaceURL);
  await page.waitForSelector('#play', { visible: true, timeout: 10000 });
  await page.click('#play');
  try {
    await page.waitForFunction(() => window.podium && window.podium.playing(), { timeout: 20000, polling: 100 });
  } catch (err) {
    const state = await page
      .evaluate(() => {
        const a = document.querySelector('#audio');
        return `status "${document.querySelector('#player-status')?.textContent}", readyState ${a.readyState}, ` +
          `paused ${a.paused}, currentTime ${a.currentTime}, error ${a.error ? a.error.code + ' ' + a.error.message : 'none'}`;
      })
      .catch((e) => e.message);
    await page.screenshot({ path: path.join(artifacts, 'listener-firefox.png'), fullPage: true }).catch(() => {});
    assert.fail(`Firefox listener did not start playing: ${err.message}; ${state}`);
  }

  // Sample what the listener's <audio> plays for ~5 s.
  const [max, latency, mixLatency, opusMSE] = await page.evaluate(async () => {
    let max = 0;
    const end = performance.now() + 5000;
    while (performance.now() < end) {
      max = Math.max(max, Number(window.podium.level()) || 0);
      await new Promise((r) => setTimeout(r, 15));
    }
    return [
      max,
      window.podium.latency(),
      window.podium.mixLatency(),
      window.MediaSource ? MediaSource.isTypeSupported('audio/mp4; codecs="opus"') : false,
    ];
  });
  console.log(
    `firefox listener peak RMS ${max.toFixed(4)}, hls latency ${Number(latency).toFixed(2)} s, ` +
      `mixer-to-ear ${Number(mixLatency).toFixed(2)} s, MSE opus-in-mp4 ${opusMSE}`
  );
  await page.screenshot({ path: path.join(artifacts, 'listener-firefox.png'), fullPage: true });

  assert.ok(max > levelThreshold, `Firefox listener heard silence: peak RMS ${max} <= ${levelThreshold}`);
  assert.ok(await page.evaluate(() => window.podium.playing()), 'Firefox listener stopped playing');
  assert.deepEqual(pageErrors, [], 'uncaught errors in the Firefox page');
  if (env) assert.deepEqual(env.pageErrors, [], 'uncaught errors in the chromium pages');
});
