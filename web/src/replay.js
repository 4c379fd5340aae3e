// Replay page: /r/{id}[?t=1h02m10s][&token=PREVIEW]. Plays a space's recording
// (VOD HLS with hls.js, or native HLS), with a seek bar that marks the gaps,
// ±15 s, playback speed, a clickable "who spoke when" timeline, links to a
// moment, and the download.
import Hls from 'hls.js/light';
import {
  $,
  api,
  ApiError,
  analyserRMS,
  backoffDelay,
  withRetry,
  copyText,
  describeError,
  formatClock,
  formatDateTime,
  formatSpan,
  formatTimeParam,
  h,
  parseTimeParam,
  showMessage,
  spaceIdFromPath,
  speakersFromTurns,
  withToken,
} from './common.js';

const params = new URLSearchParams(location.search);
const spaceId = spaceIdFromPath('/r/');
const token = params.get('token') || '';
const sp = encodeURIComponent(spaceId);

const audio = $('#audio');
const playBtn = $('#play');
const seek = $('#seek');
const statusEl = $('#player-status');
const errorEl = $('#error');

let space = null;
let rec = null;
let hls = null;
let startAt = 0;
let scrubbing = false;
let lastMediaRecover = 0;
let loadAttempt = 0;
let durationSec = 0; // from the API; audio.duration wins once known

// WebAudio graph for the level hook (and nothing else): element → analyser → out.
let audioCtx = null;
let analyser = null;
let buf = null;

const useHlsJs = Hls.isSupported();
const canNative = !!audio.canPlayType && audio.canPlayType('application/vnd.apple.mpegurl') !== '';

// ---- test / debugging hooks -------------------------------------------------

window.replay = {
  /** Playback position in seconds. */
  currentTime: () => audio.currentTime || 0,
  /** Length of the recording in seconds. */
  duration: () => duration(),
  /** Whether audio is actually playing (not paused, not stalled). */
  playing: () => isPlaying(),
  /** RMS (0..1) of what is playing right now. */
  level: () => analyserRMS(analyser, buf),
  /** Moves the playback position (seconds). */
  seek: (sec) => seekTo(sec),
};

/** The API's duration_ms is the reference (the timeline is drawn against it);
 *  the media's own duration only when the API has none or, while still
 *  recording, once the media is longer. */
function duration() {
  const d = audio.duration;
  const media = Number.isFinite(d) && d > 0 ? d : 0;
  if (!(durationSec > 0)) return media;
  return rec?.state === 'recording' ? Math.max(durationSec, media) : durationSec;
}

function isPlaying() {
  return !audio.paused && !audio.ended && audio.readyState >= 3;
}

// ---- loading -----------------------------------------------------------------

function get(path) {
  return withRetry(() => api('GET', path, { token }), {
    capMs: 10000,
    tries: 5,
    onRetry: (err) => showMessage(errorEl, `${describeError(err)} Retrying…`),
  });
}

function showNotAvailable() {
  $('#loading').hidden = true;
  $('#replay').hidden = true;
  $('#notfound').hidden = false;
  document.title = 'Recording not available · podium';
}

function render() {
  const title = space?.title || 'Recording';
  $('#title').textContent = title;
  document.title = `${title} (replay) · podium`;
  const desc = $('#description');
  desc.textContent = space?.description || '';
  desc.hidden = !space?.description;

  const when = space?.started_at || space?.scheduled_start;
  const speakers = speakersFromTurns(rec.turns);
  const bits = [];
  if (when) bits.push(`Recorded ${formatDateTime(when)}`);
  bits.push(formatClock(durationSec));
  if (speakers.length) bits.push(`${speakers.length} ${speakers.length === 1 ? 'speaker' : 'speakers'}`);
  $('#meta').textContent = bits.join(' · ');

  let badge = null;
  if (rec.state === 'deleted') badge = h('span', { class: 'badge badge-deleted' }, 'Deleted');
  else if (rec.state === 'recording') badge = h('span', { class: 'badge badge-live' }, 'Recording');
  else if (!rec.published) badge = h('span', { class: 'badge badge-private' }, rec.publish_at ? 'Scheduled' : 'Private');
  $('#rec-badge').replaceChildren(...(badge ? [badge] : []));

  const note = $('#rec-note');
  if (rec.state === 'deleted') {
    const by = rec.deleted_by ? ` by the ${rec.deleted_by}` : '';
    showMessage(note, `This recording was deleted${rec.deleted_at ? ` on ${formatDateTime(rec.deleted_at)}` : ''}${by}.`, 'info');
    $('#player-card').hidden = true;
    $('#timeline').closest('.card').hidden = true;
    return;
  }
  if (rec.state === 'recording') showMessage(note, 'This space is still live: the recording grows as it goes.', 'info');
  else if (rec.state === 'interrupted')
    showMessage(note, 'The space was interrupted; this is the recording so far. It continues when the host resumes.', 'info');
  else if (!rec.published)
    showMessage(
      note,
      rec.publish_at
        ? `Private preview: this recording will be published ${formatDateTime(rec.publish_at)}.`
        : 'Private preview: this recording is not published. Only the host and the operator can hear it.',
      'info'
    );

  const dl = $('#download');
  // The server's links carry a short-lived preview token when the
  // recording is private: never the host's token.
  if (rec.download_url) dl.href = rec.download_url;
  else dl.hidden = true;

  renderSeekBar();
  renderTimeline(speakers);
}

// ---- seek bar and gaps ---------------------------------------------------------

function pct(sec) {
  const d = duration();
  return d > 0 ? Math.max(0, Math.min(100, (sec / d) * 100)) : 0;
}

function renderSeekBar() {
  seek.max = String(Math.max(1, duration()));
  const layer = $('#gaps');
  const gaps = Array.isArray(rec.gaps) ? rec.gaps : [];
  layer.replaceChildren(
    ...gaps.map((g) => {
      const at = (Number(g.at_ms) || 0) / 1000;
      const tip = `interrupted for ${formatSpan(g.duration_ms)}${g.reason ? ` (${g.reason})` : ''}`;
      const b = h(
        'button',
        {
          type: 'button',
          class: 'gap-marker',
          title: tip,
          'data-tip': tip,
          'aria-label': `At ${formatClock(at)}: ${tip}. Jump there.`,
          onclick: () => seekTo(at),
        },
        h('span', { class: 'gap-tip', 'aria-hidden': 'true' }, tip)
      );
      b.style.left = `${pct(at)}%`;
      return b;
    })
  );
  for (const bar of document.querySelectorAll('.turn')) layoutTurn(bar);
  updateTime();
}

function layoutTurn(bar) {
  const a = Number(bar.dataset.start);
  const b = Number(bar.dataset.end);
  bar.style.left = `${pct(a)}%`;
  bar.style.width = `${Math.max(0, pct(b) - pct(a))}%`;
}

function updateTime() {
  const cur = audio.currentTime || 0;
  const d = duration();
  if (!scrubbing) seek.value = String(cur);
  const shown = scrubbing ? Number(seek.value) : cur;
  $('#cur').textContent = formatClock(shown);
  $('#dur').textContent = formatClock(d);
  seek.setAttribute('aria-valuetext', `${formatClock(shown)} of ${formatClock(d)}`);
  $('#seek-progress').style.setProperty('--p', String(pct(shown) / 100));
  for (const ph of document.querySelectorAll('.playhead')) ph.style.left = `${pct(shown)}%`;
  for (const bar of document.querySelectorAll('.turn')) {
    const on = shown >= Number(bar.dataset.start) && shown < Number(bar.dataset.end);
    bar.classList.toggle('current', on);
  }
}

seek.addEventListener('input', () => {
  scrubbing = true;
  updateTime();
});
// Keyboard: arrows ±5 s, Page Up/Down ±60 s, Home/End (step="any" would
// otherwise move by 1 % of the length).
seek.addEventListener('keydown', (e) => {
  const cur = audio.currentTime || 0;
  const moves = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -60, PageUp: 60 };
  let to = null;
  if (e.key in moves) to = cur + moves[e.key];
  else if (e.key === 'Home') to = 0;
  else if (e.key === 'End') to = duration();
  if (to == null) return;
  e.preventDefault();
  seekTo(to);
});
seek.addEventListener('change', () => {
  scrubbing = false;
  seekTo(Number(seek.value));
});

function seekTo(sec) {
  const d = duration();
  const t = Math.max(0, Math.min(Number(sec) || 0, d > 0 ? Math.max(0, d - 0.25) : Infinity));
  if (!hls && !audio.src) startAt = t;
  try {
    audio.currentTime = t;
  } catch {
    startAt = t;
  }
  updateTime();
}

// ---- speaker timeline ------------------------------------------------------------

function renderTimeline(speakers) {
  const box = $('#timeline');
  box.replaceChildren(
    ...speakers.map((s) =>
      h(
        'div',
        { class: 'tl-row', dataset: { speaker: s.speaker } },
        h('div', { class: 'tl-who' }, h('span', { class: 'name' }, s.name), h('span', { class: 'muted small' }, formatSpan(s.ms))),
        h(
          'div',
          { class: 'tl-track', role: 'group', 'aria-label': `${s.name}'s turns` },
          h('span', { class: 'playhead', 'aria-hidden': 'true' }),
          ...s.turns.map((t) => {
            const a = (Number(t.start_ms) || 0) / 1000;
            const b = Math.max(a, (Number(t.end_ms) || 0) / 1000);
            const bar = h('button', {
              type: 'button',
              class: 'turn',
              dataset: { start: String(a), end: String(b) },
              title: `${s.name}: ${formatClock(a)}–${formatClock(b)}`,
              'aria-label': `${s.name} from ${formatClock(a)} to ${formatClock(b)}. Play from here.`,
              onclick: () => {
                seekTo(a);
                play();
              },
            });
            layoutTurn(bar);
            return bar;
          })
        )
      )
    )
  );
  $('#timeline-empty').hidden = speakers.length > 0;
}

// ---- player ----------------------------------------------------------------------

function playlistURL() {
  return rec.playlist_url || withToken(new URL(`/replay/${sp}/index.m3u8`, location.href).href, token);
}

function ensureAudioGraph() {
  if (audioCtx) {
    audioCtx.resume?.();
    return;
  }
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    audioCtx = new Ctx();
    const src = audioCtx.createMediaElementSource(audio);
    analyser = audioCtx.createAnalyser();
    analyser.fftSize = 2048;
    buf = new Float32Array(analyser.fftSize);
    src.connect(analyser);
    analyser.connect(audioCtx.destination);
    audioCtx.resume?.();
  } catch {
    /* level() stays 0; playback is unaffected */
  }
}

function attach() {
  if (hls || audio.src) return;
  if (useHlsJs) {
    hls = new Hls({
      lowLatencyMode: false,
      startPosition: startAt,
      enableWorker: true,
      backBufferLength: 120,
      maxBufferLength: 60,
    });
    hls.on(Hls.Events.ERROR, onHlsError);
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      loadAttempt = 0;
      if (!(durationSec > 0) && hls.levels?.[0]?.details?.totalduration) durationSec = hls.levels[0].details.totalduration;
    });
    hls.on(Hls.Events.LEVEL_LOADED, (_e, data) => {
      const total = data?.details?.totalduration;
      if (Number.isFinite(total) && total > 0 && !(durationSec > 0)) {
        durationSec = total;
        renderSeekBar();
      }
    });
    hls.attachMedia(audio);
    hls.loadSource(playlistURL());
  } else if (canNative) {
    audio.src = playlistURL();
  } else {
    statusEl.textContent = "Sorry, this browser can't play the recording.";
    playBtn.disabled = true;
  }
}

audio.addEventListener('loadedmetadata', () => {
  // hls.js starts at startPosition by itself; native HLS needs the seek.
  if (startAt > 0 && audio.currentTime < 0.5) {
    try {
      audio.currentTime = startAt;
    } catch {
      /* not seekable yet */
    }
  }
  renderSeekBar();
});

function onHlsError(_evt, data) {
  if (!data.fatal) return;
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR && Date.now() - lastMediaRecover > 5000) {
    lastMediaRecover = Date.now();
    hls.recoverMediaError();
    return;
  }
  const pos = audio.currentTime || startAt;
  const code = data.response?.code;
  hls.destroy();
  hls = null;
  if (code === 404 || code === 401 || code === 403) {
    statusEl.textContent =
      code === 404 ? 'The recording files are not available.' : 'This recording needs a valid link (token) to play.';
    updatePlayer();
    return;
  }
  const delay = backoffDelay(loadAttempt++, { baseMs: 1000, capMs: 20000 });
  statusEl.textContent = `Couldn't load the recording; retrying in ${Math.ceil(delay / 1000)} s…`;
  setTimeout(() => {
    startAt = pos;
    attach();
    if (wantPlay) play();
  }, delay);
}

let wantPlay = false;

function play() {
  wantPlay = true;
  ensureAudioGraph();
  attach();
  const p = audio.play();
  if (p && p.catch)
    p.catch((err) => {
      if (err?.name === 'NotAllowedError') {
        wantPlay = false;
        statusEl.textContent = 'Press Play to listen';
      }
      updatePlayer();
    });
  updatePlayer();
}

function pause() {
  wantPlay = false;
  audio.pause();
  updatePlayer();
}

function updatePlayer() {
  const on = wantPlay && !audio.ended;
  playBtn.classList.toggle('is-playing', on);
  playBtn.setAttribute('aria-pressed', String(on));
  playBtn.querySelector('.label').textContent = on ? 'Pause' : 'Play';
  if (audio.ended) statusEl.textContent = 'The end. Thanks for listening!';
  else if (!wantPlay && audio.currentTime > 0) statusEl.textContent = `Paused at ${formatClock(audio.currentTime)}`;
  else if (!wantPlay && startAt > 0) statusEl.textContent = `Press Play to listen from ${formatClock(startAt)}`;
  else if (!wantPlay) statusEl.textContent = 'Press Play to listen';
}

playBtn.addEventListener('click', () => (wantPlay && !audio.ended ? pause() : play()));
$('#back15').addEventListener('click', () => seekTo((audio.currentTime || 0) - 15));
$('#fwd15').addEventListener('click', () => seekTo((audio.currentTime || 0) + 15));

for (const b of document.querySelectorAll('[data-rate]')) {
  b.addEventListener('click', () => {
    const rate = Number(b.dataset.rate) || 1;
    audio.defaultPlaybackRate = rate;
    audio.playbackRate = rate;
    for (const o of document.querySelectorAll('[data-rate]')) o.setAttribute('aria-pressed', String(o === b));
  });
}

audio.addEventListener('timeupdate', updateTime);
audio.addEventListener('durationchange', renderSeekBar);
audio.addEventListener('seeked', updateTime);
audio.addEventListener('playing', () => {
  statusEl.textContent = 'Playing';
  updatePlayer();
});
audio.addEventListener('waiting', () => {
  if (wantPlay) statusEl.textContent = 'Buffering…';
});
audio.addEventListener('pause', updatePlayer);
audio.addEventListener('ended', () => {
  wantPlay = false;
  updatePlayer();
});
audio.addEventListener('ratechange', () => {
  // Keep the speed across hls.js' media recovery.
  const r = audio.playbackRate;
  for (const o of document.querySelectorAll('[data-rate]')) o.setAttribute('aria-pressed', String(Number(o.dataset.rate) === r));
});

// Space bar / k toggles, j / l skip 15 s, unless typing or on a control.
document.addEventListener('keydown', (e) => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const tag = e.target?.tagName;
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || tag === 'BUTTON' || tag === 'A') return;
  if (e.key === ' ' || e.key === 'k') {
    e.preventDefault();
    playBtn.click();
  } else if (e.key === 'j') seekTo((audio.currentTime || 0) - 15);
  else if (e.key === 'l') seekTo((audio.currentTime || 0) + 15);
});

// ---- link to a moment ----------------------------------------------------------------

function momentURL() {
  const base = rec?.replay_url || new URL(`/r/${sp}`, location.href).href;
  const u = new URL(base, location.href);
  u.search = '';
  u.searchParams.set('t', formatTimeParam(audio.currentTime || startAt || 0));
  return u.href;
}

$('#copy-moment').addEventListener('click', async () => {
  const url = momentURL();
  const input = $('#moment-url');
  input.value = url;
  const ok = await copyText(url, input);
  input.hidden = ok;
  const msg = $('#copy-msg');
  msg.textContent = ok
    ? `Link copied (${formatClock(audio.currentTime || startAt || 0)})${rec && !rec.published ? ' — it works once the recording is published' : ''}.`
    : 'Copy this link:';
  if (!ok) input.select();
  setTimeout(() => {
    if (ok) msg.textContent = '';
  }, 4000);
});

// ---- start ----------------------------------------------------------------------

function applyStartParam() {
  const raw = params.get('t');
  if (raw == null || raw === '') return;
  const t = parseTimeParam(raw);
  const d = duration();
  const msg = $('#t-msg');
  if (!Number.isFinite(t) || t < 0) {
    showMessage(
      msg,
      `That link's time ("${raw}") isn't one we understand (try 1h02m10s, 62m, 90s or 1:02:10); starting at the beginning.`,
      'info'
    );
    startAt = 0;
  } else if (d > 0 && t >= d) {
    showMessage(
      msg,
      `That link points past the end of the recording (${formatClock(t)} > ${formatClock(d)}); starting at the beginning.`,
      'info'
    );
    startAt = 0;
  } else {
    startAt = t;
  }
}

async function main() {
  if (!spaceId) {
    showNotAvailable();
    return;
  }
  let spaceRes;
  try {
    [spaceRes, rec] = await Promise.all([
      get(`/api/spaces/${sp}`).catch((err) => err),
      get(`/api/spaces/${sp}/recording`),
    ]);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 403 || err.status === 401)) {
      showNotAvailable();
      return;
    }
    $('#loading').hidden = true;
    showMessage(errorEl, describeError(err, 'load the recording'));
    return;
  }
  if (!rec) {
    showNotAvailable();
    return;
  }
  space = spaceRes instanceof Error ? null : spaceRes;
  showMessage(errorEl, '');
  durationSec = Math.max(0, (Number(rec.duration_ms) || 0) / 1000);
  $('#loading').hidden = true;
  $('#replay').hidden = false;
  applyStartParam();
  render();
  if (rec.state === 'deleted') return;
  attach();
  if (startAt > 0) seekTo(startAt);
  updatePlayer();
}

main();
