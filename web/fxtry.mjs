import puppeteer from 'puppeteer-core';
const url = process.argv[2];
const t0 = Date.now();
const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
  userDataDir: '/tmp/fx/profile',
  extraPrefsFirefox: {
    'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0,
    'app.update.enabled': false, 'toolkit.telemetry.enabled': false,
  },
  dumpio: false,
});
console.log('launched', Date.now() - t0, await browser.version());
const page = await browser.newPage();
page.on('console', (m) => console.log('console:', m.type(), m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
await page.setViewport({ width: 1100, height: 900 });
await page.goto(url);
await page.waitForSelector('#play', { visible: true, timeout: 10000 });
await page.click('#play');
try {
  await page.waitForFunction(() => window.podium && window.podium.playing(), { timeout: 20000 });
  console.log('playing', Date.now() - t0);
} catch (e) { console.log('not playing', e.message, await page.evaluate(() => [document.querySelector('#player-status').textContent, document.querySelector('#audio').readyState, document.querySelector('#audio').error?.message])); }
const r = await page.evaluate(async () => { let m = 0; const end = performance.now() + 5000; while (performance.now() < end) { m = Math.max(m, window.podium.level() || 0); await new Promise(r => setTimeout(r, 15)); } return [m, window.podium.latency(), window.podium.mixLatency()]; });
console.log('result', r);
await page.screenshot({ path: '/tmp/fx/shot.png', fullPage: true });
await browser.close();
console.log('done', Date.now() - t0);
