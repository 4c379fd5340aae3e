// Listener admission and the operator view in a real chromium.
//
// Media comes from a real `podium demo` (PODIUM_BIN): a live space with two
// synthetic speakers. In front of it runs a small node proxy, written here,
// that serves the freshly built pages (../internal/web/dist, with the
// server's Content-Security-Policy), records every /hls/ request's
// X-Podium-Ticket header (and refuses media without a ticket it issued), and
// either answers POST /api/spaces/{id}/join itself from a script that follows
// the documented contract (docs/API.md, "Joining (admission)") or, when the
// demo server has the join route, passes it through to the real server.
//
// Tests:
//  - against the real join route (only when the server has it): Play →
//    admitted with a ticket, every media request carries it, sound;
//  - waiting room: 202 position 3, 202 position 1, then 200 with a short
//    ticket: the page shows both positions, starts playing by itself, hears
//    sound, and renews the ticket in place (media switches to the new one
//    without restarting); screenshot test-artifacts/waiting-room.png;
//  - challenge: 401 "challenge" difficulty 10 is solved in the page's worker
//    and checked here with node:crypto, then the page plays;
//  - /admin against a canned GET /api/admin/status: token errors, numbers,
//    rates, sparklines, the attack-mode switch; screenshot
//    test-artifacts/admin.png.
//
// Environment: PODIUM_BIN, CHROMIUM, LEVEL_THRESHOLD (see helpers.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { artifacts, CHROMIUM_ARGS, chromiumPath, freePort, levelThreshold, samplePeak, sleep, startDemo, webDir } from './helpers.mjs';

const distDir = path.resolve(webDir, '../internal/web/dist');
const OPERATOR = 'op-test-token';

function leadingZeroBits(buf) {
  let n = 0;
  for (const b of buf) {
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

/** The pages' Content-Security-Policy, read from internal/web/web.go. */
async function pageCSP() {
  const src = await readFile(path.resolve(webDir, '../internal/web/web.go'), 'utf8');
  const m = /const pageCSP = ([\s\S]*?)\n\n/.exec(src);
  assert.ok(m, 'pageCSP not found in internal/web/web.go');
  return [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]).join('');
}

const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

function sendJSON(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

/** A canned, slowly moving operator status (counters grow on every call). */
function cannedStatus(n, attack) {
  const k = n + 1;
  return {
    time: new Date(Date.now()).toISOString(),
    attack_mode: attack,
    attack_auto: false,
    shed_level: attack ? 2 : 1,
    listeners: 1200 + ((k * 37) % 90),
    conns_open: 1300 + ((k * 11) % 40),
    conns_max: 16000,
    conns_rejected: 12 * k,
    spaces: [
      { id: 'sp_big', title: 'Friday town hall', listeners: 1180, speakers: 2, queue: 35 + (k % 7), admit_rate: 50 },
      { id: 'sp_small', title: 'Late night jazz', listeners: 20 + (k % 5), speakers: 1, queue: 0, admit_rate: 50 },
    ],
    admissions: { admitted: 5000 + 48 * k, queued: 120 + 9 * k, challenged: attack ? 30 * k : 0, rejected: 3 + k },
    requests: { ingest: 100 * k, listener: 50000 + 4100 * k, chat: 0, join: 5000 + 55 * k, anonymous: 300 + 900 * k },
    shed: { ingest: 0, listener: 0, chat: 0, join: 12 + 4 * k, anonymous: 400 + (300 + ((k * 97) % 200)) * k },
    limited: { listener: 0, join: 30 + 2 * k, anonymous: 1000 + 150 * k },
    top_talkers: [
      { prefix: '203.0.113.0/24', requests: 90000 + 800 * k, rejected: 85000 + 790 * k },
      { prefix: '2001:db8:42::/48', requests: 12000 + 50 * k, rejected: 300 },
    ],
    process: { cpu_percent: 35.2, rss_bytes: 123456789, goroutines: 2400, open_files: 1350 },
  };
}

/**
 * The proxy in front of the demo server. mock.script: the next join answers
 * ({queued, retryAfter, estimate, gate}, {challenge: difficulty}, 'admit');
 * an empty script admits.
 */
async function startMock(upstream, csp) {
  const port = await freePort();
  const mock = {
    base: `http://127.0.0.1:${port}`,
    passthroughJoin: false,
    upstreamAdmission: false, // the upstream server has the join route
    joinPath: '',
    script: [],
    ticketTtlMs: 600000,
    tickets: new Set(),
    issued: [],
    joins: [], // request bodies
    renewals: 0,
    pending: null, // outstanding challenge {challenge, difficulty}
    powVerified: 0,
    hls: [], // {path, ticket, valid}
    statusCalls: 0,
    attack: false,
    attackPosts: [],
    errors: [],
  };
  let q = 0;
  let t = 0;

  const issueTicket = (res) => {
    const ticket = `tk-${++t}-${randomBytes(6).toString('hex')}`;
    mock.tickets.add(ticket);
    mock.issued.push(ticket);
    sendJSON(res, 200, {
      ticket,
      expires_at: new Date(Date.now() + mock.ticketTtlMs).toISOString(),
      playlist_url: null,
    });
  };

  async function join(req, res) {
    const raw = await readBody(req);
    let body = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return sendJSON(res, 400, { error: 'bad JSON', code: 'bad_request' });
    }
    mock.joins.push(body);
    if (body.ticket) {
      if (!mock.tickets.has(body.ticket)) return sendJSON(res, 401, { error: 'unknown ticket', code: 'bad_ticket' });
      mock.renewals++;
      return issueTicket(res);
    }
    if (body.pow) {
      const ch = mock.pending;
      const ok =
        ch &&
        body.pow.challenge === ch.challenge &&
        /^\d{1,20}$/.test(String(body.pow.nonce)) &&
        leadingZeroBits(createHash('sha256').update(`${ch.challenge}:${body.pow.nonce}`).digest()) >= ch.difficulty;
      if (!ok) {
        mock.errors.push(`bad proof of work ${JSON.stringify(body.pow)} for ${JSON.stringify(ch)}`);
        return sendJSON(res, 401, { error: 'proof of work does not solve the challenge', code: 'bad_pow' });
      }
      mock.powVerified++;
      mock.pending = null;
    }
    const step = mock.script.shift() || 'admit';
    if (step.gate) await step.gate;
    if (step.queued) {
      if (q > 0 && body.queue_token !== `q-${q}`) mock.errors.push(`join ${JSON.stringify(body)}: expected queue_token q-${q}`);
      const token = `q-${++q}`;
      return sendJSON(
        res,
        202,
        { queued: true, position: step.queued, estimate_seconds: step.estimate ?? step.queued * 2, queue_token: token, retry_after: step.retryAfter ?? 1 },
        { 'Retry-After': String(step.retryAfter ?? 1) }
      );
    }
    if (step.challenge) {
      mock.pending = { challenge: `ch.${randomBytes(12).toString('base64url')}`, difficulty: step.challenge };
      return sendJSON(res, 401, { error: 'solve the challenge first', code: 'challenge', challenge: mock.pending });
    }
    if (step.status) return sendJSON(res, step.status, { error: 'busy' }, step.headers || {});
    q = 0;
    return issueTicket(res);
  }

  async function serveFile(res, rel, type) {
    const file = path.join(distDir, rel);
    if (!file.startsWith(distDir) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-cache' };
    if (type.startsWith('text/html')) {
      headers['Content-Security-Policy'] = csp;
      headers['Referrer-Policy'] = 'no-referrer';
    }
    res.writeHead(200, headers);
    res.end(await readFile(file));
  }

  // API answers carry absolute URLs (playlist_url, listener_url…) of the
  // demo server: rewrite them to this proxy so that media goes through it.
  // When the upstream server has admission itself, media forwarded for a
  // mock-admitted page carries a real ticket of the proxy's own instead of the
  // mock's (which the server would refuse as forged).
  let upTicket = null; // {ticket, until}
  async function upstreamTicket() {
    if (upTicket && upTicket.until - Date.now() > 30000) return upTicket.ticket;
    const r = await fetch(`${upstream}${mock.joinPath}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(upTicket ? { ticket: upTicket.ticket } : {}),
    });
    const j = await r.json().catch(() => ({}));
    if (r.status !== 200 || !j.ticket) {
      upTicket = null;
      throw new Error(`upstream join answered ${r.status} ${JSON.stringify(j)}`);
    }
    upTicket = { ticket: j.ticket, until: Date.parse(j.expires_at) || Date.now() + 60000 };
    return upTicket.ticket;
  }

  async function proxy(req, res, record) {
    const url = new URL(req.url, upstream);
    const rewrite = url.pathname.startsWith('/api/');
    const headers = { ...req.headers, host: url.host };
    if (record && !mock.passthroughJoin) {
      delete headers['x-podium-ticket'];
      if (mock.upstreamAdmission) headers['x-podium-ticket'] = await upstreamTicket();
    }
    if (rewrite) delete headers['accept-encoding'];
    const up = http.request(url, { method: req.method, headers }, (ur) => {
      if (record) record.status = ur.statusCode;
      if (rewrite && /json/.test(ur.headers['content-type'] || '')) {
        const chunks = [];
        ur.on('data', (c) => chunks.push(c));
        ur.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8').split(upstream).join(mock.base);
          const h = { ...ur.headers };
          delete h['content-length'];
          res.writeHead(ur.statusCode, h);
          res.end(body);
        });
        return;
      }
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err.message));
      else res.destroy();
    });
    req.pipe(up);
    res.on('close', () => up.destroy());
  }

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, mock.base);
      const p = url.pathname;
      if (req.method === 'POST' && /^\/api\/spaces\/[^/]+\/join$/.test(p)) {
        if (mock.passthroughJoin) {
          mock.joins.push({ passthrough: true });
          return proxy(req, res);
        }
        return await join(req, res);
      }
      if (p.startsWith('/s/')) return await serveFile(res, 'listen.html', 'text/html; charset=utf-8');
      if (p === '/admin') return await serveFile(res, 'admin.html', 'text/html; charset=utf-8');
      if (p.startsWith('/assets/')) {
        const type = p.endsWith('.js') ? 'text/javascript; charset=utf-8' : p.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/octet-stream';
        return await serveFile(res, p.slice(1), type);
      }
      if (p === '/api/admin/status' || p === '/api/admin/attack') {
        const auth = req.headers.authorization || '';
        if (!auth.startsWith('Bearer ')) return sendJSON(res, 401, { error: 'missing operator token', code: 'unauthorized' });
        if (auth !== `Bearer ${OPERATOR}`) return sendJSON(res, 401, { error: 'invalid token', code: 'unauthorized' });
        if (p === '/api/admin/attack') {
          const body = JSON.parse((await readBody(req)) || '{}');
          mock.attackPosts.push(body);
          mock.attack = !!body.on;
        }
        return sendJSON(res, 200, cannedStatus(mock.statusCalls++, mock.attack));
      }
      if (p.startsWith('/hls/')) {
        const ticket = req.headers['x-podium-ticket'] || '';
        const rec = { path: p + url.search, ticket, valid: mock.passthroughJoin ? !!ticket : mock.tickets.has(ticket), at: Date.now() };
        mock.hls.push(rec);
        if (!rec.valid) return sendJSON(res, 401, { error: 'no valid ticket', code: 'ticket_required' });
        return await proxy(req, res, rec);
      }
      return proxy(req, res);
    } catch (err) {
      mock.errors.push(String(err?.stack || err));
      if (!res.headersSent) res.writeHead(500).end('mock error');
    }
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  mock.close = () =>
    new Promise((r) => {
      server.closeAllConnections?.();
      server.close(() => r());
    });
  return mock;
}

let demo = null;
let mock = null;
let browser = null;
let spaceId = '';
let realJoin = false;
const pageErrors = [];

before(async () => {
  await mkdir(artifacts, { recursive: true });
  assert.ok(existsSync(path.join(distDir, 'listen.html')) && existsSync(path.join(distDir, 'admin.html')), 'UI not built: run npm run build');
  demo = await startDemo();
  spaceId = demo.spaceURL.split('/s/')[1];
  // Does the real server have the join route?
  const probe = await fetch(`${demo.base}/api/spaces/${spaceId}/join`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  realJoin = probe.status !== 404 && probe.status !== 405;
  console.log(`podium demo at ${demo.base}, space ${spaceId}; real join route: ${realJoin ? `yes (${probe.status})` : 'no (404): mock only'}`);
  mock = await startMock(demo.base, await pageCSP());
  mock.upstreamAdmission = realJoin;
  mock.joinPath = `/api/spaces/${spaceId}/join`;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close().catch(() => {});
  await mock?.close();
  await demo?.stop();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/401|Unauthorized/.test(msg.text())) console.log(`console error: ${msg.text()}`);
  });
  // Record every text the admission panel shows (some last only milliseconds).
  await page.addInitScript(() => {
    window.__admissionTexts = [];
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.querySelector('#admission-msg');
      if (!el) return;
      new MutationObserver(() => {
        const t = el.textContent;
        if (t && window.__admissionTexts.at(-1) !== t) window.__admissionTexts.push(t);
      }).observe(el, { childList: true, characterData: true, subtree: true });
    });
  });
  return page;
}

async function waitPlaying(page, ms = 25000) {
  try {
    await page.waitForFunction(() => window.podium && window.podium.playing(), null, { timeout: ms, polling: 100 });
  } catch (err) {
    const st = await page.evaluate(() => ({
      status: document.querySelector('#player-status')?.textContent,
      admission: window.podium?.admission(),
      texts: window.__admissionTexts,
    }));
    assert.fail(`the listener did not start playing: ${err.message}\n${JSON.stringify(st)}\nmock errors: ${mock.errors.join('; ')}`);
  }
}

test('against the real join route: admitted with a ticket carried by every media request', { timeout: 60000 }, async (t) => {
  if (!realJoin) {
    t.skip('the podium binary has no join route (404)');
    return;
  }
  mock.passthroughJoin = true;
  mock.hls.length = 0;
  const page = await newPage();
  try {
    await page.goto(`${mock.base}/s/${spaceId}`);
    await page.click('#play');
    await waitPlaying(page);
    const peak = await samplePeak(page, 'podium', 'level', 3000);
    const adm = await page.evaluate(() => window.podium.admission());
    console.log(`real server: admission ${JSON.stringify(adm)}, peak RMS ${peak.toFixed(4)}, ${mock.hls.length} media requests`);
    assert.equal(adm.state, 'admitted');
    assert.equal(adm.ticket, true, 'no ticket from the real server');
    assert.ok(mock.hls.length > 0);
    assert.deepEqual(mock.hls.filter((r) => !r.ticket).map((r) => r.path), [], 'media requests without X-Podium-Ticket');
    assert.ok(peak > levelThreshold, `silence: ${peak}`);
  } finally {
    mock.passthroughJoin = false;
    await page.context().close();
  }
});

test('waiting room: position 3, then 1, then plays by itself with a ticket renewed in place', { timeout: 90000 }, async () => {
  let release;
  const gate = new Promise((r) => (release = r));
  mock.script = [{ queued: 3, retryAfter: 1, estimate: 4 }, { queued: 1, retryAfter: 1, estimate: 1, gate }, 'admit'];
  mock.ticketTtlMs = 9000; // renewed ~4.5 s after admission (half its life when under a minute)
  mock.hls.length = 0;
  mock.joins.length = 0;
  mock.renewals = 0;
  const page = await newPage();
  try {
    await page.goto(`${mock.base}/s/${spaceId}`);
    await page.waitForSelector('#play', { state: 'visible', timeout: 10000 });
    assert.equal((await page.evaluate(() => window.podium.admission())).state, 'idle');
    await page.click('#play');

    // The waiting room at position 3 (the next answer is held until the screenshot is taken).
    await page.waitForFunction(() => /position 3\b/.test(document.querySelector('#admission-msg')?.textContent || ''), null, { timeout: 10000 });
    assert.ok(await page.isVisible('#admission'), 'waiting-room panel hidden');
    const snap = await page.evaluate(() => window.podium.admission());
    assert.deepEqual([snap.state, snap.position, snap.ticket], ['queued', 3, false]);
    assert.match(await page.innerText('#admission-msg'), /^You're in line: position 3 · about 4 s$/);
    assert.equal(mock.hls.length, 0, 'media requested before admission');
    await page.screenshot({ path: path.join(artifacts, 'waiting-room.png'), fullPage: true });
    release();

    await waitPlaying(page);
    const texts = await page.evaluate(() => window.__admissionTexts);
    const i3 = texts.findIndex((s) => /position 3\b/.test(s));
    const i1 = texts.findIndex((s) => /position 1\b/.test(s));
    assert.ok(i3 >= 0 && i1 > i3, `waiting room texts: ${JSON.stringify(texts)}`);
    assert.deepEqual(mock.joins.slice(0, 3), [{}, { queue_token: 'q-1' }, { queue_token: 'q-2' }]);
    const adm = await page.evaluate(() => window.podium.admission());
    assert.deepEqual([adm.state, adm.ticket], ['admitted', true]);
    assert.ok(await page.isHidden('#admission'), 'waiting-room panel still shown while playing');

    const peak = await samplePeak(page, 'podium', 'level', 3000);
    console.log(`after the waiting room: peak RMS ${peak.toFixed(4)}, texts ${JSON.stringify(texts)}`);
    assert.ok(peak > levelThreshold, `listener heard silence: ${peak} <= ${levelThreshold}`);

    // Renewal: {ticket} POSTed before expiry; media switches to the new ticket without a restart.
    await page.waitForFunction(() => window.podium.admission().renewals >= 1, null, { timeout: 15000, polling: 200 });
    const [first, second] = mock.issued.slice(-2);
    assert.ok(mock.joins.some((b) => b.ticket === first), 'renewal did not send the ticket');
    const playlistStarts = () => mock.hls.filter((r) => /index\.m3u8$/.test(r.path)).length; // fresh loads carry no _HLS_ params
    const startsBefore = playlistStarts();
    const deadline = Date.now() + 8000;
    while (!mock.hls.some((r) => r.ticket === second) && Date.now() < deadline) await sleep(100);
    assert.ok(mock.hls.some((r) => r.ticket === second), 'media never used the renewed ticket');
    assert.equal(playlistStarts(), startsBefore, 'the player restarted to use the renewed ticket');
    assert.ok(await page.evaluate(() => window.podium.playing()), 'stopped playing around the renewal');

    const bad = mock.hls.filter((r) => !r.valid);
    assert.deepEqual(bad.map((r) => `${r.path} "${r.ticket}"`), [], 'media requests without a valid X-Podium-Ticket');
    console.log(`${mock.hls.length} media requests, all with a ticket; ${mock.renewals} renewal(s)`);
    assert.deepEqual(mock.errors, []);
  } finally {
    mock.ticketTtlMs = 600000;
    await page.context().close();
  }
});

test('challenge: the proof of work (difficulty 10) is solved in the page, then it plays', { timeout: 60000 }, async () => {
  mock.script = [{ challenge: 10 }, 'admit'];
  mock.hls.length = 0;
  mock.powVerified = 0;
  const page = await newPage();
  try {
    await page.goto(`${mock.base}/s/${spaceId}`);
    await page.click('#play');
    await waitPlaying(page);
    const texts = await page.evaluate(() => window.__admissionTexts);
    assert.ok(texts.some((s) => /Checking your browser/.test(s)), `texts: ${JSON.stringify(texts)}`);
    assert.equal(mock.powVerified, 1, `proof of work not verified: ${mock.errors.join('; ')}`);
    assert.equal((await page.evaluate(() => window.podium.admission())).solvedBy, 'worker', 'not solved in the Web Worker');
    assert.deepEqual(mock.hls.filter((r) => !r.valid).map((r) => r.path), [], 'media without a valid ticket');
    const peak = await samplePeak(page, 'podium', 'level', 2500);
    assert.ok(peak > levelThreshold, `silence after the challenge: ${peak}`);
    assert.deepEqual(mock.errors, []);
  } finally {
    await page.context().close();
  }
});

test('busy answers: the page backs off, says so, and gets in', { timeout: 60000 }, async () => {
  mock.script = [{ status: 503, headers: { 'Retry-After': '2' } }, 'admit'];
  const page = await newPage();
  try {
    await page.goto(`${mock.base}/s/${spaceId}`);
    await page.click('#play');
    await page.waitForFunction(() => /^Busy — retrying in [12] s$/.test(document.querySelector('#admission-msg')?.textContent || ''), null, { timeout: 5000 });
    await waitPlaying(page);
  } finally {
    await page.context().close();
  }
});

test('admin page: token, live numbers, rates, sparklines, attack switch', { timeout: 60000 }, async () => {
  mock.attack = false;
  mock.attackPosts.length = 0;
  const page = await newPage();
  try {
    await page.goto(`${mock.base}/admin`);
    await page.waitForSelector('#error:not([hidden])', { timeout: 10000 });
    assert.match(await page.innerText('#error'), /operator token/i);

    await page.fill('#op-token', 'wrong-token');
    await page.click('#token-save');
    await page.waitForFunction(() => /401/.test(document.querySelector('#error').textContent), null, { timeout: 5000 });

    await page.fill('#op-token', OPERATOR);
    await page.click('#token-save');
    await page.waitForSelector('#dash:not([hidden])', { timeout: 5000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('podium.operatorToken')), OPERATOR);
    assert.ok(await page.isHidden('#error'), 'error still shown');
    // Rates need two samples; the sparklines a few.
    await page.waitForFunction(() => window.podiumAdmin.history().length >= 4, null, { timeout: 10000 });
    assert.match(await page.innerText('#v-listeners'), /^1,2\d\d$/);
    assert.match(await page.innerText('#v-conns-max'), /16,000/);
    assert.match(await page.innerText('#v-shed-rate'), /\/s$/);
    assert.notEqual(await page.innerText('#v-shed-rate'), '–');
    const classes = await page.innerText('#classes');
    assert.match(classes, /anonymous/i);
    assert.match(classes, /\d\/s/);
    assert.match(await page.innerText('#spaces'), /Friday town hall/);
    assert.match(await page.innerText('#talkers'), /203\.0\.113\.0\/24/);
    assert.match(await page.innerText('#process'), /117\.7 MB|118 MB/);
    const pts = await page.getAttribute('#spark-listeners polyline', 'points');
    assert.ok(pts.split(' ').length >= 3, `sparkline points: ${pts}`);

    // Attack mode: confirmation, POST {on: true}, shown as on.
    assert.equal(await page.getAttribute('#attack', 'aria-checked'), 'false');
    page.once('dialog', (d) => d.dismiss());
    await page.click('#attack');
    await sleep(300);
    assert.equal(mock.attackPosts.length, 0, 'switched without confirmation');
    page.once('dialog', (d) => d.accept());
    await page.click('#attack');
    await page.waitForFunction(() => document.querySelector('#attack').getAttribute('aria-checked') === 'true', null, { timeout: 5000 });
    assert.deepEqual(mock.attackPosts, [{ on: true }]);
    assert.match(await page.innerText('#v-attack'), /ON/);
    await sleep(1500);
    await page.screenshot({ path: path.join(artifacts, 'admin.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'uncaught errors in the pages');
  } finally {
    await page.context().close();
  }
});
