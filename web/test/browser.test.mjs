// End-to-end test of the web UI against a real podium server and a real
// chromium: the host joins the stage from the studio page with chromium's fake
// microphone (it beeps), starts the space, and a listener page plays the
// LL-HLS mix; the listener must hear more than silence.
//
//   cd web && npm run build && (cd .. && go build -o bin/podium ./cmd/podium)
//   npm run test:browser
//
// Environment:
//   PODIUM_BIN       podium binary (default ../bin/podium relative to web/)
//   PODIUM_URL       test an already running server instead of starting one
//                    (then PODIUM_OPERATOR_TOKEN is its operator token)
//   CHROMIUM         browser executable (default /usr/bin/chromium)
//   LEVEL_THRESHOLD  minimum peak RMS heard by the listener (default 0.01)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const artifacts = path.join(webDir, 'test-artifacts');
const podiumBin = path.resolve(webDir, process.env.PODIUM_BIN || '../bin/podium');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const levelThreshold = Number(process.env.LEVEL_THRESHOLD || 0.01);

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

let server = null; // child process
let serverLog = '';
let base = process.env.PODIUM_URL ? process.env.PODIUM_URL.replace(/\/$/, '') : '';
let operatorToken = process.env.PODIUM_OPERATOR_TOKEN || '';
let dataDir = '';
let profileDir = '';
let context = null;
const pageErrors = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (server && server.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}\n--- server log ---\n${serverLog.slice(-4000)}`);
}

async function apiCall(method, p, body, token = operatorToken) {
  const res = await fetch(base + p, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

before(async () => {
  await mkdir(artifacts, { recursive: true });
  if (!base) {
    assert.ok(
      existsSync(podiumBin),
      `podium binary not found at ${podiumBin}: build it with "go build -o bin/podium ./cmd/podium" in the repository root, or set PODIUM_BIN`
    );
    const port = await freePort();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'podium-web-test-'));
    base = `http://127.0.0.1:${port}`;
    server = spawn(podiumBin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', dataDir, '--debug-addr='], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = (b) => {
      serverLog += b.toString();
      if (serverLog.length > 200000) serverLog = serverLog.slice(-100000);
    };
    server.stdout.on('data', log);
    server.stderr.on('data', log);
    await waitFor(
      'the server to answer GET /api/spaces',
      async () => {
        const res = await fetch(`${base}/api/spaces`);
        return res.status === 200;
      },
      20000
    );
    operatorToken = (await waitFor('operator.token', () => readFile(path.join(dataDir, 'operator.token'), 'utf8'), 5000)).trim();
  }
  assert.ok(operatorToken, 'no operator token');

  profileDir = await mkdtemp(path.join(os.tmpdir(), 'podium-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1100, height: 900 },
    permissions: ['microphone'],
  });
  context.on('page', (page) => {
    page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    const exited = await Promise.race([new Promise((r) => server.once('exit', () => r(true))), sleep(5000).then(() => false)]);
    if (!exited) server.kill('SIGKILL');
  }
  if (profileDir) await rm(profileDir, { recursive: true, force: true }).catch(() => {});
  if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
});

test('host speaks in the studio, a listener hears it', { timeout: 75000 }, async () => {
  // Create the space as the operator.
  const created = await apiCall('POST', '/api/spaces', {
    title: 'Browser test space',
    description: 'Created by web/test/browser.test.mjs',
    scheduled_start: new Date(Date.now() + 3600e3).toISOString(),
  });
  assert.equal(created.status, 201, `create space: ${created.status} ${created.text}`);
  const { space, host_url: hostURL } = created.json;
  assert.ok(space?.id && hostURL, `create space answer: ${created.text}`);

  // Studio: join the stage with the fake microphone, then start the space.
  const studio = await context.newPage();
  await studio.goto(hostURL);
  await studio.fill('#name', 'Ada Host');
  await studio.click('#join');
  await studio.waitForFunction(() => window.studio && window.studio.joined(), null, { timeout: 20000 });
  assert.ok(await studio.evaluate(() => window.studio.speakerId()), 'no speaker id after joining');

  await studio.click('#start');
  await waitFor(
    'the space to be live',
    async () => (await apiCall('GET', `/api/spaces/${space.id}`)).json?.state === 'live',
    10000
  );

  // Listener: press Play and wait for audio.
  const listener = await context.newPage();
  await listener.goto(`${base}/s/${encodeURIComponent(space.id)}`);
  await listener.waitForSelector('#play', { state: 'visible', timeout: 10000 });
  await listener.click('#play');
  await listener.waitForFunction(() => window.podium && window.podium.playing(), null, { timeout: 30000 });

  // Sample what the listener's <audio> plays for ~5 s (the fake mic beeps
  // briefly a couple of times a second, so sample often).
  const samplePeak = (page, hook, fn) =>
    page.evaluate(async ([hook, fn]) => {
      const read = () => window[hook][fn]();
      let max = 0;
      const end = performance.now() + 5000;
      while (performance.now() < end) {
        max = Math.max(max, Number(read()) || 0);
        await new Promise((r) => setTimeout(r, 15));
      }
      return max;
    }, [hook, fn]);
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
  assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
});

test('listener page for an unknown space says not found', { timeout: 15000 }, async () => {
  const page = await context.newPage();
  await page.goto(`${base}/s/sp_doesnotexist`);
  const box = page.locator('#notfound');
  await box.waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await box.innerText(), /not found/i);
  await page.screenshot({ path: path.join(artifacts, 'notfound.png') });
  await page.close();
  assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
});
