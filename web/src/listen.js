// Listener page: /s/{id}. Shows the space, who is on stage, and plays the
// LL-HLS mix with hls.js (or native HLS where there is no MSE).
import Hls from 'hls.js/light';
import {
  $,
  api,
  ApiError,
  backoffDelay,
  withRetry,
  describeError,
  formatCount,
  formatCountdown,
  formatDateTime,
  parseRetryAfter,
  Poller,
  analyserRMS,
  renderStage,
  showMessage,
  spaceIdFromPath,
  stateBadge,
} from './common.js';
import { Admission, queueText } from './join.js';

const spaceId = spaceIdFromPath('/s/');
const audio = $('#audio');
const playBtn = $('#play');
const statusEl = $('#player-status');
const errorEl = $('#error');

let space = null;
let state = '';
let wantPlay = false; // the user pressed Play (and not Pause since)
let hls = null;
let nativeMode = false;
let retryTimer = null;
let attempt = 0;
let lastMediaRecover = 0;
let livePoller = null;

// WebAudio graph: MediaElementSource → Analyser → Gain → destination.
let audioCtx = null;
let analyser = null;
let gain = null;
let buf = null;
let volume = 1;
let muted = false;

// Admission (POST /api/spaces/{id}/join): waiting room, browser check, ticket
// sent on every media request and renewed in place.
const admission = new Admission(spaceId, { onChange: renderAdmission });

const useHlsJs = Hls.isSupported();
const canNative = !!audio.canPlayType && audio.canPlayType('application/vnd.apple.mpegurl') !== '';

// ---- test / debugging hooks -------------------------------------------------

window.podium = {
  /** RMS (0..1) of what the audio element is playing right now. */
  level: () => analyserRMS(analyser, buf),
  /** Whether audio is actually playing (not paused, not stalled). */
  playing: () => isPlaying(),
  /** Distance to the live edge in seconds (hls.js), NaN when unknown. */
  latency: () => (hls && Number.isFinite(hls.latency) ? hls.latency : NaN),
  /**
   * Seconds from the moment the server mixed what is playing now to now:
   * the playlist's PROGRAM-DATE-TIME is the mixer's clock. NaN when unknown.
   */
  mixLatency: () =>
    hls && hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : NaN,
  /** Admission: {state, position, ticket (whether the player holds one), ...}. */
  admission: () => admission.snapshot(),
};

function isPlaying() {
  return !audio.paused && !audio.ended && audio.readyState >= 3 && audio.currentTime > 0;
}

// ---- space loading -----------------------------------------------------------

async function loadSpace() {
  try {
    return await withRetry(() => api('GET', `/api/spaces/${encodeURIComponent(spaceId)}`), {
      onRetry: (err) => showMessage(errorEl, `${describeError(err)} Retrying…`),
    });
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function showNotFound() {
  $('#loading').hidden = true;
  $('#space').hidden = true;
  $('#notfound').hidden = false;
  document.title = 'Space not found · podium';
  stopStream();
  livePoller?.stop();
}

function renderSpace() {
  $('#title').textContent = space.title || 'Untitled space';
  document.title = `${space.title || 'Space'} · podium`;
  const desc = $('#description');
  desc.textContent = space.description || '';
  desc.hidden = !space.description;
  renderState();
}

function renderState() {
  const badge = $('#state-badge');
  badge.replaceChildren(stateBadge(state));
  const sched = $('#schedule');
  if (state === 'scheduled') sched.textContent = `Scheduled for ${formatDateTime(space.scheduled_start)}`;
  else if (state === 'live') sched.textContent = space.started_at ? `Live since ${formatDateTime(space.started_at)}` : 'Live now';
  else if (state === 'ended') sched.textContent = space.ended_at ? `Ended ${formatDateTime(space.ended_at)}` : 'Ended';
  else if (state === 'interrupted') sched.textContent = 'Interrupted';
  $('#countdown-card').hidden = state !== 'scheduled';
  $('#ended-card').hidden = state !== 'ended';
  $('#interrupted-card').hidden = state !== 'interrupted';
  const note = $('#recorded-note');
  note.hidden = typeof space.record !== 'boolean';
  note.textContent = space.record ? '● This space is recorded' : 'This space is not recorded';
  if (state === 'ended') checkReplay();
  updateCountdown();
  updatePlayer();
}

// A published recording answers 200 to anyone; otherwise 404.
let replayChecked = false;
async function checkReplay() {
  if (replayChecked || space?.record === false) return;
  replayChecked = true;
  try {
    const rec = await api('GET', `/api/spaces/${encodeURIComponent(spaceId)}/recording`);
    if (rec && rec.state !== 'deleted') {
      $('#replay-link').href = rec.replay_url || space.replay_url || `/r/${encodeURIComponent(spaceId)}`;
      $('#replay-box').hidden = false;
    }
  } catch (err) {
    // Not published (404): nothing to show. Transient: try once more later.
    if (err instanceof ApiError && err.retryable) setTimeout(() => ((replayChecked = false), renderState()), 15000);
  }
}

function updateCountdown() {
  if (state !== 'scheduled' || !space) return;
  const t = Date.parse(space.scheduled_start);
  $('#countdown').textContent = Number.isNaN(t) ? 'soon' : formatCountdown(t - Date.now());
}

async function setState(next) {
  if (!next || next === state) return;
  const prev = state;
  state = next;
  if (prev) {
    // Refresh started_at / ended_at; the state itself comes from /live.
    try {
      const fresh = await api('GET', `/api/spaces/${encodeURIComponent(spaceId)}`);
      space = fresh;
      state = fresh.state === 'ended' || next === 'ended' ? 'ended' : next;
    } catch {
      /* keep what we have */
    }
  }
  renderState();
  if (state === 'live' && wantPlay) startStream();
  if (state === 'ended') {
    livePoller?.stop();
    if (!isPlaying()) admission.abort(); // nothing to wait in line for any more
    if (wantPlay) {
      statusEl.textContent = 'The space has ended.';
      // Let the last buffered seconds play out, then stop.
      setTimeout(() => {
        wantPlay = false;
        stopStream();
      }, 10000);
    }
  }
}

// ---- live status ------------------------------------------------------------

async function pollLive(signal) {
  const live = await api('GET', `/api/spaces/${encodeURIComponent(spaceId)}/live`, { signal });
  showMessage(errorEl, '');
  $('#listeners').textContent = formatCount(live.listeners);
  const speakers = Array.isArray(live.speakers) ? live.speakers : [];
  renderStage($('#stage'), speakers);
  $('#stage-empty').hidden = speakers.length > 0;
  await setState(live.state);
}

function onLiveError(err) {
  if (err instanceof ApiError && err.status === 404) {
    showNotFound();
    return false;
  }
  // Transient: keep the last picture, say so quietly.
  if (err instanceof ApiError && err.retryable) statusHint('Reconnecting to the space…');
  return true;
}

function statusHint(text) {
  if (!isPlaying()) statusEl.textContent = text;
}

// ---- player -----------------------------------------------------------------

function ensureAudioGraph() {
  if (audioCtx || !useHlsJs) return;
  // Created in the click handler so that the context may start (autoplay rules).
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  audioCtx = new Ctx();
  const src = audioCtx.createMediaElementSource(audio);
  analyser = audioCtx.createAnalyser();
  analyser.fftSize = 2048;
  buf = new Float32Array(analyser.fftSize);
  gain = audioCtx.createGain();
  src.connect(analyser);
  analyser.connect(gain);
  gain.connect(audioCtx.destination);
  applyVolume();
}

function applyVolume() {
  const v = muted ? 0 : volume;
  if (gain) gain.gain.value = v;
  else audio.volume = v;
  const muteBtn = $('#mute');
  muteBtn.classList.toggle('is-silent', v === 0);
  muteBtn.setAttribute('aria-pressed', String(muted));
  muteBtn.setAttribute('aria-label', muted ? 'Unmute' : 'Mute');
}

function playlistURL() {
  return space?.playlist_url || `/hls/${encodeURIComponent(spaceId)}/index.m3u8`;
}

/** The current ticket as the X-Podium-Ticket header (hls.js XHR loader). */
function ticketXhrSetup(xhr, url) {
  const t = admission.ticket;
  if (!t) return;
  if (!xhr.readyState) xhr.open('GET', url, true); // headers can only be set once opened
  xhr.setRequestHeader('X-Podium-Ticket', t);
}

/** Same for hls.js's fetch loader (used for progressive/low-latency loading when configured). */
function ticketFetchSetup(context, initParams) {
  const t = admission.ticket;
  if (t) {
    if (!(initParams.headers instanceof Headers)) initParams.headers = new Headers(initParams.headers || {});
    initParams.headers.set('X-Podium-Ticket', t);
  }
  return new Request(context.url, initParams);
}

function startStream() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (hls || (nativeMode && audio.src)) return;
  if (!admission.ready) {
    // Join first (waiting room, browser check…); play as soon as admitted.
    // The click on Play already unlocked the audio context and the page's
    // autoplay (sticky user activation), so playback can start by itself.
    statusEl.textContent = 'Joining…';
    admission.ensure().then(
      (ok) => {
        if (ok && wantPlay && state === 'live') startStream();
      },
      (err) => {
        if (!wantPlay) return;
        wantPlay = false;
        statusEl.textContent = describeError(err);
        updatePlayer();
      }
    );
    return;
  }
  admission.ensure(); // (re)arms the ticket's renewal
  if (useHlsJs) {
    hls = new Hls({
      xhrSetup: ticketXhrSetup,
      fetchSetup: ticketFetchSetup,
      lowLatencyMode: true,
      liveDurationInfinity: true,
      backBufferLength: 30,
      enableWorker: true,
      // Let hls.js retry a little on its own; a fatal error recreates the
      // player with our backoff (which honours Retry-After).
      manifestLoadPolicy: {
        default: {
          maxTimeToFirstByteMs: 10000,
          maxLoadTimeMs: 20000,
          timeoutRetry: { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 },
          errorRetry: { maxNumRetry: 1, retryDelayMs: 1000, maxRetryDelayMs: 4000 },
        },
      },
    });
    hls.on(Hls.Events.ERROR, onHlsError);
    hls.on(Hls.Events.MANIFEST_PARSED, () => playMedia());
    hls.on(Hls.Events.FRAG_LOADED, () => {
      attempt = 0;
    });
    hls.attachMedia(audio);
    hls.loadSource(admission.playlistUrl || playlistURL());
    statusEl.textContent = 'Connecting…';
  } else if (canNative) {
    nativeMode = true;
    audio.src = playlistURL();
    statusEl.textContent = 'Connecting…';
    playMedia();
  } else {
    statusEl.textContent = "Sorry, this browser can't play the live stream.";
  }
}

function stopStream() {
  clearTimeout(retryTimer);
  retryTimer = null;
  admission.abort();
  if (hls) {
    hls.destroy();
    hls = null;
  }
  if (nativeMode) {
    audio.removeAttribute('src');
    audio.load();
  }
  audio.pause();
  updatePlayer();
}

function playMedia() {
  if (!wantPlay) return;
  audioCtx?.resume?.();
  const p = audio.play();
  if (p && p.catch)
    p.catch((err) => {
      if (err?.name === 'NotAllowedError') {
        wantPlay = false;
        statusEl.textContent = 'Press Play to listen';
        updatePlayer();
      }
    });
}

function retryAfterOf(data) {
  const d = data?.networkDetails;
  try {
    if (d && typeof d.getResponseHeader === 'function') return parseRetryAfter(d.getResponseHeader('Retry-After'));
    if (d && d.headers && typeof d.headers.get === 'function') return parseRetryAfter(d.headers.get('Retry-After'));
  } catch {
    /* headers not readable */
  }
  return null;
}

function onHlsError(_evt, data) {
  if (!data.fatal) return;
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR && Date.now() - lastMediaRecover > 5000) {
    lastMediaRecover = Date.now();
    hls.recoverMediaError();
    return;
  }
  const code = data.response?.code;
  const retryAfterMs = retryAfterOf(data);
  // The media server refused the ticket (expired while asleep, other node's
  // key…): forget it, the restart joins again.
  if (code === 401 || code === 403) admission.reset();
  scheduleRestart(retryAfterMs, code);
}

function scheduleRestart(retryAfterMs, code) {
  if (hls) {
    hls.destroy();
    hls = null;
  }
  if (nativeMode) {
    audio.removeAttribute('src');
    audio.load();
  }
  if (!wantPlay || state === 'ended') {
    updatePlayer();
    return;
  }
  // Capped at 9 s: after an outage every player is back within 9 s of the
  // recovery, spread evenly over those seconds (docs/BENCHMARKS.md, retry
  // storm); the load tool's listeners use the same policy.
  const delay = backoffDelay(attempt++, { baseMs: 1000, capMs: 9000, retryAfterMs });
  statusEl.textContent =
    code === 503 || code === 429
      ? `The server is busy; retrying in ${Math.ceil(delay / 1000)} s…`
      : code === 404
        ? 'Waiting for the stream…'
        : `Connection lost; retrying in ${Math.ceil(delay / 1000)} s…`;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (wantPlay && state === 'live') startStream();
  }, delay);
}

// ---- admission (waiting room, browser check, busy) ----------------------------

function renderAdmission(snap = admission.snapshot()) {
  const box = $('#admission');
  if (!box) return;
  let text = '';
  let detail = '';
  let status = '';
  let progress = null;
  switch (snap.state) {
    case 'queued':
      text = queueText(snap.position, snap.estimate);
      detail = 'Lots of people are joining. Keep this page open: the audio starts by itself when it is your turn.';
      status = 'Waiting in line…';
      break;
    case 'challenge': {
      text = 'Checking your browser…';
      detail = 'A quick automatic check while the space is under heavy load. No action needed.';
      status = 'Checking your browser…';
      // Chance of having found it by now: 1 - e^(-tried / 2^difficulty).
      progress = 1 - Math.exp(-(snap.progress || 0) / 2 ** (snap.difficulty || 0));
      break;
    }
    case 'backoff':
      text = `Busy — retrying in ${Math.max(1, Math.ceil(snap.retryInMs / 1000))} s`;
      detail = 'The server is very busy right now; this page keeps trying by itself.';
      status = 'The server is busy…';
      break;
    case 'error':
      text = snap.error || "Couldn't join the space.";
      detail = 'Press Play to try again.';
      break;
    default:
      break;
  }
  const show = !!text && (wantPlay || snap.state === 'error');
  box.hidden = !show;
  box.dataset.state = snap.state;
  box.classList.toggle('alert', snap.state === 'error');
  const msg = $('#admission-msg');
  if (msg.textContent !== text) msg.textContent = text;
  const det = $('#admission-detail');
  if (det.textContent !== detail) det.textContent = detail;
  const bar = $('#admission-progress');
  bar.hidden = progress == null;
  if (progress != null) bar.value = Math.min(0.99, progress);
  if (show && status && wantPlay && !isPlaying()) statusEl.textContent = status;
}

function updatePlayer() {
  const playing = isPlaying();
  playBtn.classList.toggle('is-playing', wantPlay);
  playBtn.setAttribute('aria-pressed', String(wantPlay));
  playBtn.querySelector('.label').textContent = wantPlay ? 'Pause' : 'Play';
  playBtn.disabled = state === 'ended' && !wantPlay;
  const live = $('#live-indicator');
  live.hidden = !(playing && state === 'live');
  const lat = hls && Number.isFinite(hls.latency) ? hls.latency : NaN;
  const target = hls && Number.isFinite(hls.targetLatency) ? hls.targetLatency : 3;
  const behind = playing && Number.isFinite(lat) && lat > target + 3;
  live.classList.toggle('behind', behind);
  $('#go-live').hidden = !behind;
  $('#latency').textContent = playing && Number.isFinite(lat) ? `${lat.toFixed(1)} s behind live` : '';
  if (!wantPlay) {
    if (state === 'ended') statusEl.textContent = 'This space has ended.';
    else if (!retryTimer) statusEl.textContent = 'Press Play to listen';
  } else if (state === 'scheduled') {
    statusEl.textContent = 'Waiting for the space to start…';
  } else if (state === 'interrupted' && !playing) {
    statusEl.textContent = 'Interrupted: waiting for the space to resume…';
  }
}

playBtn.addEventListener('click', () => {
  if (wantPlay) {
    wantPlay = false;
    stopStream();
    return;
  }
  wantPlay = true;
  attempt = 0;
  ensureAudioGraph();
  audioCtx?.resume?.();
  if (state === 'live') startStream();
  else if (state === 'ended' && hls) playMedia();
  updatePlayer();
});

$('#go-live').addEventListener('click', () => {
  if (hls && Number.isFinite(hls.liveSyncPosition)) audio.currentTime = hls.liveSyncPosition;
  else if (audio.seekable.length) audio.currentTime = Math.max(0, audio.seekable.end(audio.seekable.length - 1) - 1);
});

$('#volume').addEventListener('input', (e) => {
  volume = Number(e.target.value);
  muted = volume === 0;
  applyVolume();
});

$('#mute').addEventListener('click', () => {
  muted = !muted;
  if (!muted && volume === 0) {
    volume = 1;
    $('#volume').value = '1';
  }
  applyVolume();
});

audio.addEventListener('playing', () => {
  attempt = 0;
  statusEl.textContent = state === 'ended' ? 'The space has ended.' : 'Playing live';
  updatePlayer();
});
audio.addEventListener('waiting', () => {
  if (wantPlay) statusEl.textContent = 'Buffering…';
});
audio.addEventListener('pause', updatePlayer);
audio.addEventListener('ended', () => {
  wantPlay = false;
  stopStream();
});
audio.addEventListener('error', () => {
  if (nativeMode && wantPlay) scheduleRestart(null, 0);
});

// ---- start ------------------------------------------------------------------

async function main() {
  if (!spaceId) {
    showNotFound();
    return;
  }
  try {
    space = await loadSpace();
  } catch (err) {
    $('#loading').hidden = true;
    showMessage(errorEl, describeError(err, 'load this space'));
    return;
  }
  if (!space) {
    showNotFound();
    return;
  }
  showMessage(errorEl, '');
  $('#loading').hidden = true;
  $('#space').hidden = false;
  state = space.state;
  renderSpace();
  livePoller = new Poller(pollLive, 1000, { onError: onLiveError, capMs: 15000 }).start();
  setInterval(() => {
    updateCountdown();
    updatePlayer();
    if (admission.state === 'backoff' || admission.state === 'queued') renderAdmission();
  }, 1000);
}

main();
