import puppeteer from 'puppeteer-core';
const url = process.argv[2];
const browser = await puppeteer.launch({
  browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true,
  extraPrefsFirefox: { 'media.autoplay.default': 0, 'media.autoplay.blocking_policy': 0, ...JSON.parse(process.env.PREFS || '{}') },
  dumpio: !!process.env.DUMPIO,
});
const page = await browser.newPage();
page.on('console', (m) => console.log('console:', m.type(), m.text()));
await page.goto(url);
await page.waitForSelector('#play', { visible: true, timeout: 10000 });
console.log(await page.evaluate(async () => {
  const ctx = new AudioContext();
  await ctx.resume().catch(()=>{});
  const t1 = ctx.currentTime; await new Promise(r => setTimeout(r, 500));
  const osc = ctx.createOscillator(); const an = ctx.createAnalyser(); osc.connect(an); an.connect(ctx.destination); osc.start();
  await new Promise(r => setTimeout(r, 500));
  const b = new Float32Array(2048); an.getFloatTimeDomainData(b); let s=0; for (const x of b) s+=x*x;
  return JSON.stringify({ state: ctx.state, t1, t2: ctx.currentTime, sr: ctx.sampleRate, oscRms: Math.sqrt(s/b.length) });
}));
await page.click('#play');
await page.waitForFunction(() => window.podium && window.podium.playing(), { timeout: 20000 });
await new Promise(r => setTimeout(r, 3000));
console.log(await page.evaluate(() => { const a = document.querySelector('#audio'); return JSON.stringify({ ct: a.currentTime, rs: a.readyState, level: window.podium.level(), vol: a.volume, muted: a.muted, moz: a.mozHasAudio }); }));
await browser.close();
