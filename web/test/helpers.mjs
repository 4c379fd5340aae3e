// Shared harness for the browser tests: starts a podium server (or uses
// PODIUM_URL), launches chromium with a fake microphone, and offers API and
// waiting helpers.
//
// Environment:
//   PODIUM_BIN       podium binary (default ../bin/podium relative to web/)
//   PODIUM_URL       test an already running server instead of starting one
//                    (then PODIUM_OPERATOR_TOKEN is its operator token)
//   CHROMIUM         browser executable (default /usr/bin/chromium)
//   LEVEL_THRESHOLD  minimum peak RMS heard by a player (default 0.01)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const artifacts = path.join(webDir, 'test-artifacts');
export const podiumBin = path.resolve(webDir, process.env.PODIUM_BIN || '../bin/podium');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
export const levelThreshold = Number(process.env.LEVEL_THRESHOLD || 0.01);

export const CHROMIUM_ARGS = [
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

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
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

/**
 * A podium server + chromium for one test file. Use as
 *   const env = podiumHarness(); before(env.setup); after(env.teardown);
 * then env.base, env.operatorToken, env.context, env.pageErrors, env.api(),
 * env.waitFor().
 */
export function podiumHarness() {
  let server = null; // child process
  let serverLog = '';
  let dataDir = '';
  let profileDir = '';

  const env = {
    base: process.env.PODIUM_URL ? process.env.PODIUM_URL.replace(/\/$/, '') : '',
    operatorToken: process.env.PODIUM_OPERATOR_TOKEN || '',
    context: null,
    pageErrors: [],
    serverLog: () => serverLog,

    /** Polls fn until it returns something truthy; fails with the server's log. */
    async waitFor(what, fn, timeoutMs) {
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
    },

    /** Calls the API; token defaults to the operator's. → {status, json, text}. */
    async api(method, p, body, token = env.operatorToken) {
      const res = await fetch(env.base + p, {
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
    },

    async setup() {
      await mkdir(artifacts, { recursive: true });
      if (!env.base) {
        assert.ok(
          existsSync(podiumBin),
          `podium binary not found at ${podiumBin}: build it with "go build -o bin/podium ./cmd/podium" in the repository root, or set PODIUM_BIN`
        );
        const port = await freePort();
        dataDir = await mkdtemp(path.join(os.tmpdir(), 'podium-web-test-'));
        env.base = `http://127.0.0.1:${port}`;
        server = spawn(podiumBin, ['serve', '--addr', `127.0.0.1:${port}`, '--data', dataDir, '--debug-addr='], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const log = (b) => {
          serverLog += b.toString();
          if (serverLog.length > 200000) serverLog = serverLog.slice(-100000);
        };
        server.stdout.on('data', log);
        server.stderr.on('data', log);
        await env.waitFor(
          'the server to answer GET /api/spaces',
          async () => (await fetch(`${env.base}/api/spaces`)).status === 200,
          20000
        );
        env.operatorToken = (
          await env.waitFor('operator.token', () => readFile(path.join(dataDir, 'operator.token'), 'utf8'), 5000)
        ).trim();
      }
      assert.ok(env.operatorToken, 'no operator token');

      profileDir = await mkdtemp(path.join(os.tmpdir(), 'podium-chromium-'));
      env.context = await chromium.launchPersistentContext(profileDir, {
        executablePath: chromiumPath,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1100, height: 900 },
        permissions: ['microphone'],
      });
      env.context.on('page', (page) => {
        page.on('pageerror', (err) => env.pageErrors.push(`${page.url()}: ${err.message}`));
      });
    },

    async teardown() {
      await env.context?.close().catch(() => {});
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        const exited = await Promise.race([
          new Promise((r) => server.once('exit', () => r(true))),
          sleep(5000).then(() => false),
        ]);
        if (!exited) server.kill('SIGKILL');
      }
      if (profileDir) await rm(profileDir, { recursive: true, force: true }).catch(() => {});
      if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    },
  };
  return env;
}

/**
 * Creates a space as the operator, joins its stage from the studio page with
 * chromium's fake (beeping) microphone and starts it.
 * → {space, hostURL, hostToken, studio}
 */
export async function hostStartsSpace(env, { title, description = '' }) {
  const created = await env.api('POST', '/api/spaces', {
    title,
    description,
    scheduled_start: new Date(Date.now() + 3600e3).toISOString(),
  });
  assert.equal(created.status, 201, `create space: ${created.status} ${created.text}`);
  const { space, host_url: hostURL, host_token: hostToken } = created.json;
  assert.ok(space?.id && hostURL, `create space answer: ${created.text}`);

  const studio = await env.context.newPage();
  await studio.goto(hostURL);
  await studio.fill('#name', 'Ada Host');
  await studio.click('#join');
  await studio.waitForFunction(() => window.studio && window.studio.joined(), null, { timeout: 20000 });
  assert.ok(await studio.evaluate(() => window.studio.speakerId()), 'no speaker id after joining');

  await studio.click('#start');
  await env.waitFor(
    'the space to be live',
    async () => (await env.api('GET', `/api/spaces/${space.id}`)).json?.state === 'live',
    10000
  );
  return { space, hostURL, hostToken: hostToken || new URLSearchParams(new URL(hostURL).hash.slice(1)).get('token'), studio };
}

/** Peak of window[hook][fn]() sampled every 15 ms for ms milliseconds. */
export function samplePeak(page, hook, fn, ms = 5000) {
  return page.evaluate(
    async ([hook, fn, ms]) => {
      const read = () => window[hook][fn]();
      let max = 0;
      const end = performance.now() + ms;
      while (performance.now() < end) {
        max = Math.max(max, Number(read()) || 0);
        await new Promise((r) => setTimeout(r, 15));
      }
      return max;
    },
    [hook, fn, ms]
  );
}

// Like sleep(), but does not keep node alive once everything else is done.
export const grace = (ms) => new Promise((r) => setTimeout(r, ms).unref());

/** A `podium demo` server on a free port → {base, spaceURL, stop()}. */
export async function startDemo() {
  assert.ok(
    existsSync(podiumBin),
    `podium binary not found at ${podiumBin}: build it with "go build -o bin/podium ./cmd/podium" in the repository root, or set PODIUM_BIN`
  );
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'podium-demo-test-'));
  const proc = spawn(podiumBin, ['demo', '--addr', `127.0.0.1:${port}`, '--data', dataDir, '--debug-addr='], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const exited = await Promise.race([
        new Promise((r) => proc.once('exit', () => r(true))),
        grace(5000).then(() => false),
      ]);
      if (!exited) proc.kill('SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };
  const spaceURL = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`podium demo printed no listener URL within 20 s\n--- log ---\n${log.slice(-4000)}`)), 20000);
    const onData = (b) => {
      log += b.toString();
      if (log.length > 200000) log = log.slice(-100000);
      const m = log.match(/open (http:\/\/\S+\/s\/sp_\w+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`podium demo exited (${code ?? sig})\n--- log ---\n${log.slice(-4000)}`));
    });
  }).catch(async (err) => {
    await stop();
    throw err;
  });
  return { base: `http://127.0.0.1:${port}`, spaceURL, stop, log: () => log };
}
