// Studio page: /studio/{id}#token=... for the host and invited speakers. The
// token rides in the fragment, which browsers never send: the page keeps it
// for this tab (sessionStorage, so a reload works) and removes it from the
// address bar.
// Publishes the microphone with WHIP (non-trickle), hears the other speakers
// on recvonly slots, and offers the host controls.
import {
  $,
  api,
  ApiError,
  analyserRMS,
  copyText,
  describeError,
  formatCount,
  formatDateTime,
  h,
  Poller,
  renderStage,
  showMessage,
  spaceIdFromPath,
  stateBadge,
} from './common.js';
import { recordingPanel } from './studio-recording.js';

const REMOTE_SLOTS = 8;
const ICE_GATHER_TIMEOUT_MS = 5000;

const spaceId = spaceIdFromPath('/studio/');
let token = takeToken();
const errorEl = $('#error');
const hostMsg = $('#host-msg');
const connStatus = $('#conn-status');
const sp = encodeURIComponent(spaceId);

/**
 * The studio token: from the link's fragment (#token=...), else from a
 * link of the older form (?token=...), else the one this tab kept for this
 * space. A token found in the address is kept in sessionStorage and removed
 * from the address bar, so it is neither bookmarked, nor shared by copying
 * the address, nor sent anywhere, and a reload still works.
 */
function takeToken() {
  const key = storageKey();
  const hash = new URLSearchParams(location.hash.replace(/^#/, ''));
  const query = new URLSearchParams(location.search);
  const found = hash.get('token') || query.get('token') || '';
  if (found) {
    keepToken(found);
    hash.delete('token');
    query.delete('token');
    const q = query.toString();
    const f = hash.toString();
    history.replaceState(history.state, '', location.pathname + (q ? `?${q}` : '') + (f ? `#${f}` : ''));
    return found;
  }
  try {
    return sessionStorage.getItem(key) || '';
  } catch {
    return '';
  }
}

// A studio link pasted into this tab's address bar over the current one
// changes only the fragment, which loads nothing: load the page again so
// it takes the new token.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.replace(/^#/, '')).get('token')) location.reload();
});

function storageKey() {
  return `podium.studio.token.${spaceId}`;
}

/** Keeps t as this tab's token for this space. */
function keepToken(t) {
  try {
    sessionStorage.setItem(storageKey(), t);
  } catch {
    // Storage refused (private mode): the page still works until a reload.
  }
}

let space = null;
let state = '';

// Stage session.
let pc = null;
let localStream = null;
let whipURL = ''; // session URL from the Location header
let myId = '';
let joined = false;
let joining = false;
let muted = false;
let mutedByServer = false;
let seenOnStage = false;
let missingPolls = 0;

// Audio analysis.
let audioCtx = null;
let micAnalyser = null;
let micBuf = null;
const remotes = new Map(); // mid -> { el, analyser, buf }

window.studio = {
  /** On stage: the answer is applied and the peer connection is connected. */
  joined: () => joined,
  /** My speaker id (last segment of the WHIP Location), '' when not on stage. */
  speakerId: () => myId,
  /** RMS (0..1) of my microphone as sent. */
  micLevel: () => analyserRMS(micAnalyser, micBuf),
  /** Max RMS (0..1) over the other speakers' audio I receive. */
  remoteLevel: () => {
    let max = 0;
    for (const r of remotes.values()) max = Math.max(max, analyserRMS(r.analyser, r.buf));
    return max;
  },
  /**
   * WebRTC figures of what I receive from the other speakers: mean jitter
   * buffer delay (ms), round-trip time to the server (ms), packets received
   * and lost. null when not on stage.
   */
  rtcStats: async () => {
    if (!pc) return null;
    const out = { jitterBufferMs: NaN, rttMs: NaN, packetsReceived: 0, packetsLost: 0 };
    let delay = 0;
    let emitted = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio' && r.packetsReceived > 0) {
        delay += r.jitterBufferDelay || 0;
        emitted += r.jitterBufferEmittedCount || 0;
        out.packetsReceived += r.packetsReceived;
        out.packetsLost += r.packetsLost || 0;
      }
      if (r.type === 'candidate-pair' && r.nominated && Number.isFinite(r.currentRoundTripTime)) {
        out.rttMs = r.currentRoundTripTime * 1000;
      }
    });
    if (emitted > 0) out.jitterBufferMs = (delay / emitted) * 1000;
    return out;
  },
};

function ctx() {
  if (!audioCtx) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) audioCtx = new Ctx();
  }
  audioCtx?.resume?.();
  return audioCtx;
}

function analyserFor(stream) {
  const c = ctx();
  if (!c) return { analyser: null, buf: null };
  const src = c.createMediaStreamSource(stream);
  const analyser = c.createAnalyser();
  analyser.fftSize = 1024;
  src.connect(analyser); // analysis only: not connected to the speakers
  return { analyser, buf: new Float32Array(analyser.fftSize) };
}

// ---- space and state --------------------------------------------------------

function renderState() {
  $('#state-badge').replaceChildren(stateBadge(state));
  const sched = $('#schedule');
  if (!space) return;
  if (state === 'scheduled') sched.textContent = `Scheduled for ${formatDateTime(space.scheduled_start)}. Join the stage, then start the space when you're ready.`;
  else if (state === 'live') sched.textContent = 'Live: listeners hear the stage now.';
  else if (state === 'interrupted') sched.textContent = 'Interrupted: the server stopped while the space was live.';
  else if (state === 'ended') sched.textContent = 'This space has ended.';
  $('#start').disabled = state !== 'scheduled' && state !== 'interrupted';
  $('#start').textContent = state === 'interrupted' ? 'Resume' : 'Start space';
  $('#end').disabled = state === 'ended';
  $('#join').disabled = joining || joined || state === 'ended';
  rec.render();
}

function setState(next) {
  if (!next || next === state) return;
  state = next;
  if (space) space.state = next;
  renderState();
  if (state === 'ended' && (joined || pc)) {
    teardown(false);
    connStatus.textContent = 'The space has ended; you left the stage.';
  }
  if (hostMsg.dataset.kind === 'ok') showMessage(hostMsg, ''); // "The space is live." is stale now
  if (state === 'ended') {
    showMessage($('#rec-error'), '');
    rec.load();
  }
}

// ---- joining the stage (WHIP) ------------------------------------------------

function waitIceGathering(conn) {
  if (conn.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      conn.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => conn.iceGatheringState === 'complete' && done();
    const t = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    conn.addEventListener('icegatheringstatechange', check);
  });
}

function preferOpus(transceiver) {
  const caps = window.RTCRtpSender?.getCapabilities?.('audio');
  if (!caps || typeof transceiver.setCodecPreferences !== 'function') return;
  const opus = caps.codecs.filter((c) => /opus/i.test(c.mimeType));
  if (opus.length) {
    try {
      transceiver.setCodecPreferences(opus);
    } catch {
      /* keep the browser's default order */
    }
  }
}

async function join() {
  if (joining || joined) return;
  const name = $('#name').value.trim();
  if (!name) {
    $('#name').focus();
    return;
  }
  localStorage.setItem('podium.name', name);
  joining = true;
  renderState();
  showMessage(errorEl, '');
  connStatus.textContent = 'Asking for your microphone…';
  ctx(); // in the click: lets the AudioContext start

  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      video: false,
    });
  } catch (err) {
    joining = false;
    renderState();
    connStatus.textContent = 'Not on stage.';
    const why =
      err?.name === 'NotAllowedError'
        ? 'Microphone access was blocked. Allow it in your browser, then try again.'
        : err?.name === 'NotFoundError'
          ? 'No microphone was found.'
          : `Couldn't open the microphone: ${err?.message || err}`;
    showMessage(errorEl, why);
    return;
  }
  const track = localStream.getAudioTracks()[0];
  muted = false;
  mutedByServer = false;
  track.enabled = true;
  ({ analyser: micAnalyser, buf: micBuf } = analyserFor(localStream));

  connStatus.textContent = 'Connecting to the stage…';
  try {
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addEventListener('track', onRemoteTrack);
    pc.addEventListener('connectionstatechange', onConnectionState);
    const tx = pc.addTransceiver(track, { direction: 'sendonly', streams: [localStream] });
    preferOpus(tx);
    for (let i = 0; i < REMOTE_SLOTS; i++) pc.addTransceiver('audio', { direction: 'recvonly' });

    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGathering(pc);

    const res = await api('POST', `/api/spaces/${sp}/whip?name=${encodeURIComponent(name)}`, {
      token,
      body: pc.localDescription.sdp,
      contentType: 'application/sdp',
      raw: true,
    });
    const answer = await res.text();
    const loc = res.headers.get('Location');
    if (loc) {
      const u = new URL(loc, new URL(`/api/spaces/${sp}/whip`, location.href));
      whipURL = u.pathname + u.search;
      myId = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() || '');
    }
    if (!pc) return; // left while waiting
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    seenOnStage = false;
    missingPolls = 0;
    $('#join-form').hidden = true;
    $('#onstage').hidden = false;
    updateMuteButton();
    if (pc.connectionState === 'connected') markJoined();
    else connStatus.textContent = 'Connecting audio…';
  } catch (err) {
    const msg = err instanceof ApiError ? describeError(err, 'join the stage') : `Couldn't join the stage: ${err?.message || err}`;
    teardown(!!whipURL);
    showMessage(errorEl, msg);
  } finally {
    joining = false;
    renderState();
  }
}

function markJoined() {
  joined = true;
  connStatus.textContent = muted ? "You're on stage (muted)." : "You're on stage. Listeners hear you when the space is live.";
  renderState();
  livePoller.now();
}

function onConnectionState() {
  if (!pc) return;
  switch (pc.connectionState) {
    case 'connected':
      markJoined();
      break;
    case 'disconnected':
      connStatus.textContent = 'Connection unstable, trying to recover…';
      break;
    case 'failed':
      teardown(true);
      showMessage(errorEl, 'The connection to the stage was lost. Press "Join stage" to come back.');
      break;
  }
}

function onRemoteTrack(ev) {
  const mid = ev.transceiver?.mid ?? String(remotes.size);
  const old = remotes.get(mid);
  if (old) old.el.remove();
  const stream = ev.streams?.[0] || new MediaStream([ev.track]);
  const el = h('audio', { autoplay: true, 'data-mid': mid });
  el.srcObject = stream;
  $('#remote-audio').append(el);
  el.play?.().catch(() => {});
  const { analyser, buf } = analyserFor(new MediaStream([ev.track]));
  remotes.set(mid, { el, analyser, buf });
}

/** Leaves the stage locally; sendDelete also tells the server. */
function teardown(sendDelete) {
  if (sendDelete && whipURL) {
    api('DELETE', whipURL, { token, keepalive: true }).catch(() => {});
  }
  if (pc) {
    pc.removeEventListener('connectionstatechange', onConnectionState);
    pc.close();
    pc = null;
  }
  localStream?.getTracks().forEach((t) => t.stop());
  localStream = null;
  micAnalyser = null;
  for (const r of remotes.values()) r.el.remove();
  remotes.clear();
  whipURL = '';
  myId = '';
  joined = false;
  joining = false;
  muted = false;
  mutedByServer = false;
  $('#join-form').hidden = false;
  $('#onstage').hidden = true;
  $('#host-muted').hidden = true;
  connStatus.textContent = 'Not on stage.';
  renderState();
}

// ---- mute ---------------------------------------------------------------------

function applyLocalMute() {
  const track = localStream?.getAudioTracks()[0];
  if (track) track.enabled = !muted;
  updateMuteButton();
}

function updateMuteButton() {
  const b = $('#mute');
  b.textContent = muted ? 'Unmute' : 'Mute';
  b.setAttribute('aria-pressed', String(muted));
  b.classList.toggle('is-muted', muted);
  if (joined) connStatus.textContent = muted ? "You're on stage (muted)." : "You're on stage.";
}

async function setMuted(next) {
  if (!myId) return;
  const prev = muted;
  muted = next;
  if (!next) $('#host-muted').hidden = true;
  applyLocalMute();
  try {
    const res = await api('POST', `/api/spaces/${sp}/speakers/${encodeURIComponent(myId)}/mute`, { token, body: { muted: next } });
    mutedByServer = next;
    if (!next && res && res.host_muted) {
      // Only the host lifts their mute: stay muted and say so.
      muted = true;
      mutedByServer = true;
      applyLocalMute();
      $('#host-muted').hidden = false;
    }
  } catch (err) {
    muted = prev;
    applyLocalMute();
    showMessage(errorEl, describeError(err, next ? 'mute you' : 'unmute you'));
  }
}

// ---- live status ----------------------------------------------------------------

async function pollLive(signal) {
  const live = await api('GET', `/api/spaces/${sp}/live`, { signal });
  setState(live.state);
  rec.setLiveRecorded(typeof live.recorded === 'boolean' ? live.recorded : null);
  const recErr = typeof live.recording_error === 'string' && live.recording_error && state !== 'ended' ? live.recording_error : '';
  showMessage(
    $('#rec-error'),
    recErr ? `⚠ Recording problem: ${recErr}. The recording is paused; listeners still hear the space live.` : ''
  );
  rec.render();
  $('#listeners').textContent = formatCount(live.listeners);
  const speakers = Array.isArray(live.speakers) ? live.speakers : [];
  renderStage($('#stage'), speakers, { meId: myId, extra: speakerControls });
  $('#stage-empty').hidden = speakers.length > 0;

  if (!myId || !joined) return;
  const me = speakers.find((s) => s.id === myId);
  if (me) {
    seenOnStage = true;
    missingPolls = 0;
    const byHost = typeof me.host_muted === 'boolean' ? me.host_muted : me.muted;
    if (byHost && !muted) {
      // Muted by the host: reflect it locally (and stop sending).
      muted = true;
      mutedByServer = true;
      applyLocalMute();
      $('#host-muted').hidden = false;
    } else if (!byHost && mutedByServer && muted) {
      // Unmuted on the server side: follow, keep the track muted until the
      // speaker chooses, but drop the notice.
      mutedByServer = false;
      $('#host-muted').hidden = true;
    }
  } else if (seenOnStage && ++missingPolls >= 3) {
    teardown(false);
    showMessage(errorEl, 'You were removed from the stage by the host.', 'info');
  }
}

function speakerControls(s, box) {
  if (s.id === myId) {
    box.replaceChildren();
    return;
  }
  if (!box.firstChild) {
    box.append(
      h('button', { class: 'btn btn-small', type: 'button', 'data-act': 'mute', onclick: () => hostMute(s.id, box) }),
      h('button', { class: 'btn btn-small btn-danger', type: 'button', 'data-act': 'remove', onclick: () => hostRemove(s.id, s.name) })
    );
  }
  const mb = box.querySelector('[data-act=mute]');
  mb.textContent = s.muted ? 'Unmute' : 'Mute';
  mb.dataset.muted = s.muted ? '1' : '';
  mb.setAttribute('aria-label', `${s.muted ? 'Unmute' : 'Mute'} ${s.name || 'speaker'}`);
  box.querySelector('[data-act=remove]').setAttribute('aria-label', `Remove ${s.name || 'speaker'} from the stage`);
  box.querySelector('[data-act=remove]').textContent = 'Remove';
}

async function hostMute(id, box) {
  const next = !box.querySelector('[data-act=mute]').dataset.muted;
  await hostAction(() => api('POST', `/api/spaces/${sp}/speakers/${encodeURIComponent(id)}/mute`, { token, body: { muted: next } }), next ? 'mute this speaker' : 'unmute this speaker');
  livePoller.now();
}

async function hostRemove(id) {
  await hostAction(() => api('DELETE', `/api/spaces/${sp}/speakers/${encodeURIComponent(id)}`, { token }), 'remove this speaker');
  livePoller.now();
}

// ---- host controls ----------------------------------------------------------------

function hostError(err, action) {
  if (err instanceof ApiError && err.status === 403) {
    return `Only the host of this space can ${action}.`;
  }
  return describeError(err, action);
}

async function hostAction(fn, action) {
  showMessage(hostMsg, '');
  try {
    const r = await fn();
    return r ?? true;
  } catch (err) {
    showMessage(hostMsg, hostError(err, action), err instanceof ApiError && err.status === 403 ? 'info' : 'error');
    return null;
  }
}

let endArmed = 0;
$('#end').addEventListener('click', async () => {
  const b = $('#end');
  if (Date.now() - endArmed > 4000) {
    endArmed = Date.now();
    b.textContent = 'Click again to end for everyone';
    setTimeout(() => (b.textContent = 'End space'), 4000);
    return;
  }
  endArmed = 0;
  b.textContent = 'End space';
  const sp2 = await hostAction(() => api('POST', `/api/spaces/${sp}/end`, { token }), 'end the space');
  if (sp2 && sp2.state) {
    space = sp2;
    setState(sp2.state);
  }
});

$('#start').addEventListener('click', async () => {
  const s = await hostAction(() => api('POST', `/api/spaces/${sp}/start`, { token }), 'start the space');
  if (s && s.state) {
    space = s;
    setState(s.state);
    showMessage(hostMsg, state === 'live' ? 'The space is live.' : `The space is ${state}.`, 'ok');
  }
});

$('#invite-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('#invite-name').value.trim();
  if (!name) return;
  const ttl = Number($('#invite-ttl').value) || 86400;
  const inv = await hostAction(() => api('POST', `/api/spaces/${sp}/invites`, { token, body: { name, ttl_seconds: ttl } }), 'invite speakers');
  if (inv && inv.url) {
    $('#invite-url').value = inv.url;
    $('#invite-result').hidden = false;
    $('#invite-name').value = '';
    loadInvites();
  }
});

$('#copy-invite').addEventListener('click', async () => {
  const ok = await copyText($('#invite-url').value, $('#invite-url'));
  $('#copy-invite').textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => ($('#copy-invite').textContent = 'Copy'), 2000);
});

$('#copy-listener').addEventListener('click', async () => {
  const ok = await copyText($('#listener-link').href);
  $('#copy-listener').textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => ($('#copy-listener').textContent = 'Copy'), 2000);
});

let hostLinkArmed = 0;
$('#new-host-link').addEventListener('click', async () => {
  const b = $('#new-host-link');
  if (Date.now() - hostLinkArmed > 4000) {
    hostLinkArmed = Date.now();
    b.textContent = 'Click again: the current host link stops working';
    setTimeout(() => (b.textContent = 'New host link'), 4000);
    return;
  }
  hostLinkArmed = 0;
  b.textContent = 'New host link';
  const r = await hostAction(() => api('POST', `/api/spaces/${sp}/host-token`, { token }), 'get a new host link');
  if (r && r.host_token && r.host_url) {
    // The previous host token is revoked: this page goes on with the new one.
    token = r.host_token;
    keepToken(token);
    $('#host-link-url').value = r.host_url;
    $('#host-link-result').hidden = false;
    showMessage(hostMsg, 'New host link made: the previous one no longer works. Keep this one private.', 'ok');
  }
});

$('#copy-host-link').addEventListener('click', async () => {
  const ok = await copyText($('#host-link-url').value, $('#host-link-url'));
  $('#copy-host-link').textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => ($('#copy-host-link').textContent = 'Copy'), 2000);
});

async function loadInvites() {
  const ul = $('#invites');
  try {
    const r = await api('GET', `/api/spaces/${sp}/invites`, { token });
    const list = r?.invites || [];
    ul.replaceChildren(
      ...list.map((inv) => {
        const expired = inv.expires_at && Date.parse(inv.expires_at) < Date.now();
        const status = inv.revoked ? 'revoked' : expired ? 'expired' : `valid until ${formatDateTime(inv.expires_at)}`;
        return h(
          'li',
          { class: inv.revoked || expired ? 'invite inactive' : 'invite' },
          h('span', { class: 'name' }, inv.name || inv.id),
          h('span', { class: 'muted small' }, status),
          inv.revoked || expired
            ? null
            : h('button', {
                class: 'btn btn-small btn-danger',
                type: 'button',
                'aria-label': `Revoke invite for ${inv.name || inv.id}`,
                onclick: async () => {
                  await hostAction(() => api('DELETE', `/api/spaces/${sp}/invites/${encodeURIComponent(inv.id)}`, { token }), 'revoke invites');
                  loadInvites();
                },
              }, 'Revoke')
        );
      })
    );
    $('#invites-empty').hidden = list.length > 0;
    $('#invites-empty').textContent = 'No invites yet.';
  } catch (err) {
    ul.replaceChildren();
    $('#invites-empty').hidden = false;
    $('#invites-empty').textContent =
      err instanceof ApiError && err.status === 403
        ? 'Invites are managed by the host of this space.'
        : `Couldn't load invites: ${describeError(err)}`;
  }
}

// ---- recording (studio-recording.js) ----------------------------------------

const rec = recordingPanel({
  sp,
  token: () => token,
  space: () => space,
  state: () => state,
  updateSpace: (s) => {
    space = { ...space, ...s };
  },
  hostError,
});

// ---- wiring ---------------------------------------------------------------------

$('#join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  join();
});
$('#mute').addEventListener('click', () => setMuted(!muted));
$('#leave').addEventListener('click', () => {
  teardown(true);
  connStatus.textContent = 'You left the stage.';
});
window.addEventListener('pagehide', () => {
  if (whipURL) teardown(true);
});

function meterLoop() {
  const rms = analyserRMS(micAnalyser, micBuf);
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  const pct = Math.max(0, Math.min(100, ((db + 60) / 60) * 100));
  $('#meter-fill').style.width = `${pct.toFixed(0)}%`;
  $('#meter-fill').parentElement.setAttribute('aria-valuenow', pct.toFixed(0));
  requestAnimationFrame(meterLoop);
}

const livePoller = new Poller(pollLive, 500, {
  capMs: 10000,
  onError: (err) => {
    if (err instanceof ApiError && err.status === 404) {
      showNotFound();
      return false;
    }
    return true;
  },
});

/** The display name an invite token carries, if it is readable ('' if not). */
function tokenName(t) {
  try {
    // KEY.PAYLOAD.SIG (PAYLOAD.SIG before key ids): the payload is next to last.
    const parts = t.split('.');
    const part = parts[parts.length - 2].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
    return typeof claims?.n === 'string' ? claims.n.slice(0, 64) : '';
  } catch {
    return '';
  }
}

function showNotFound() {
  $('#studio').hidden = true;
  $('#notfound').hidden = false;
  document.title = 'Space not found · podium';
}

async function main() {
  $('#name').value = tokenName(token) || localStorage.getItem('podium.name') || '';
  if (!spaceId) {
    showNotFound();
    return;
  }
  if (!token) {
    $('#notoken').hidden = false;
    return;
  }
  try {
    space = await api('GET', `/api/spaces/${sp}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      showNotFound();
      return;
    }
    showMessage(errorEl, describeError(err, 'load the space'));
    // Still show the studio: the live poller keeps trying.
  }
  $('#studio').hidden = false;
  if (space) {
    $('#title').textContent = space.title || 'Studio';
    document.title = `Studio: ${space.title || spaceId} · podium`;
    const listener = space.listener_url || new URL(`/s/${sp}`, location.href).href;
    $('#listener-link').href = listener;
    $('#listener-link').textContent = listener;
    state = space.state;
  } else {
    const listener = new URL(`/s/${sp}`, location.href).href;
    $('#listener-link').href = listener;
    $('#listener-link').textContent = listener;
  }
  renderState();
  if (state === 'ended') rec.load();
  livePoller.start();
  loadInvites();
  requestAnimationFrame(meterLoop);
}

main();
