// The studio's recording panel: the record switch before the space starts,
// the indicator while live, and after it ends the recording's facts,
// publication (now or scheduled), unpublication and deletion. The studio
// page gives it what it knows of the space (ctx) and calls render when that
// changes, setLiveRecorded with /live's answer, and load once ended.
import {
  $,
  api,
  ApiError,
  describeError,
  formatBytes,
  formatClock,
  formatDateTime,
  formatSpan,
  h,
  showMessage,
  speakersFromTurns,
} from './common.js';

/**
 * @param {{sp: string, token: () => string, space: () => any, state: () => string,
 *          updateSpace: (s: object) => void, hostError: (err: any, action: string) => string}} ctx
 */
export function recordingPanel(ctx) {
  let liveRecorded = null; // /live's "recorded" when it sends one
  let recording = null; // GET .../recording answer (ended spaces)
  let recLoading = false;
  let recRetry = null;
  let recPolls = 0;
  const recMsg = $('#rec-msg');

  function render() {
    const space = ctx.space();
    const state = ctx.state();
    if (!space && !state) return;
    const record = space?.record !== false;
    const live = state === 'live';
    $('#rec-indicator').hidden = !(live && (liveRecorded === true || (liveRecorded !== false && space?.record === true)));
    $('#interrupted-banner').hidden = state !== 'interrupted';
    const before = $('#rec-before');
    before.hidden = state !== 'scheduled';
    const box = $('#record');
    if (!box.dataset.busy) box.checked = record;
    const status = $('#rec-status');
    if (state === 'scheduled') status.textContent = '';
    else if (state === 'live')
      status.textContent = record ? 'This space is being recorded.' : 'Recording was switched off for this space.';
    else if (state === 'interrupted')
      status.textContent = record ? 'The recording so far is kept; it continues when you resume.' : 'This space is not recorded.';
    $('#rec-after').hidden = state !== 'ended' || !recording;
    if (state !== 'ended') $('#rec-visibility').replaceChildren();
  }

  $('#record').addEventListener('change', async () => {
    const box = $('#record');
    const want = box.checked;
    box.disabled = true;
    box.dataset.busy = '1';
    showMessage(recMsg, '');
    try {
      const s = await api('PATCH', `/api/spaces/${ctx.sp}`, { token: ctx.token(), body: { record: want } });
      if (s && typeof s === 'object') ctx.updateSpace(s);
      showMessage(recMsg, want ? 'This space will be recorded.' : 'This space will not be recorded.', 'ok');
    } catch (err) {
      box.checked = !want;
      const msg =
        err instanceof ApiError && err.status === 409
          ? "Recording can't be switched any more: the space has already started."
          : ctx.hostError(err, 'change the recording setting');
      showMessage(recMsg, msg, err instanceof ApiError && err.status === 403 ? 'info' : 'error');
    } finally {
      box.disabled = false;
      delete box.dataset.busy;
      render();
    }
  });

  async function load() {
    if (recLoading) return;
    recLoading = true;
    clearTimeout(recRetry);
    const status = $('#rec-status');
    try {
      recording = await api('GET', `/api/spaces/${ctx.sp}/recording`, { token: ctx.token() });
      renderDetails();
      // Just ended: the recording may still be finalizing.
      if (recording?.state === 'recording' && recPolls++ < 30) recRetry = setTimeout(load, 2000);
    } catch (err) {
      recording = null;
      if (err instanceof ApiError && err.status === 404)
        status.textContent = ctx.space()?.record === false ? 'Recording was switched off: this space was not recorded.' : 'There is no recording of this space.';
      else if (err instanceof ApiError && err.status === 403) status.textContent = 'The recording is managed by the host of this space.';
      else {
        status.textContent = describeError(err, 'load the recording');
        if (err instanceof ApiError && err.retryable) recRetry = setTimeout(load, 5000);
      }
    } finally {
      recLoading = false;
      render();
    }
  }

  function visibility(r) {
    if (r.state === 'deleted') return ['Deleted', 'deleted'];
    if (r.published) return ['Published', 'published'];
    if (r.publish_at) return ['Scheduled', 'scheduled'];
    return ['Private', 'private'];
  }

  function renderDetails() {
    const r = recording;
    if (!r) return;
    const [vis, cls] = visibility(r);
    $('#rec-visibility').replaceChildren(h('span', { class: `badge badge-${cls}` }, vis));
    const deleted = r.state === 'deleted';
    const status = $('#rec-status');
    if (deleted) {
      const by = r.deleted_by ? ` by the ${r.deleted_by}` : '';
      status.textContent = `The recording was deleted${r.deleted_at ? ` on ${formatDateTime(r.deleted_at)}` : ''}${by}. Its files are gone.`;
    } else if (r.published) status.textContent = 'Published: anyone with the replay link can listen.';
    else if (r.publish_at) status.textContent = `Private until ${formatDateTime(r.publish_at)}, then published automatically.`;
    else status.textContent = 'Private: only you (and the operator) can listen until you publish it.';
    if (r.state === 'recording') status.textContent += ' Finishing the recording…';

    const gaps = Array.isArray(r.gaps) ? r.gaps : [];
    const facts = [
      ['State', r.state || '–'],
      ['Visibility', r.publish_at && !r.published && !deleted ? `Scheduled for ${formatDateTime(r.publish_at)}` : vis],
      ['Duration', formatClock((Number(r.duration_ms) || 0) / 1000)],
      ['Size', formatBytes(r.size_bytes)],
      [
        'Gaps',
        gaps.length
          ? gaps
              .map((g) => `at ${formatClock((Number(g.at_ms) || 0) / 1000)}, interrupted for ${formatSpan(g.duration_ms)}${g.reason ? ` (${g.reason})` : ''}`)
              .join('; ')
          : 'none',
      ],
    ];
    if (deleted) facts.push(['Deleted', `${formatDateTime(r.deleted_at) || '–'}${r.deleted_by ? ` by ${r.deleted_by}` : ''}`]);
    if (r.error) facts.push(['Problem', r.error]);
    $('#rec-facts').replaceChildren(...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));

    const speakers = speakersFromTurns(r.turns);
    $('#rec-speakers').replaceChildren(
      ...speakers.map((s) =>
        h('li', {}, h('span', {}, s.name), h('span', { class: 'muted' }, `${formatSpan(s.ms)} · ${s.turns.length} ${s.turns.length === 1 ? 'turn' : 'turns'}`))
      )
    );
    $('#rec-speakers-box').hidden = deleted || speakers.length === 0;

    $('#rec-actions').hidden = deleted;
    $('#rec-publish').hidden = !!r.published;
    $('#rec-unpublish').hidden = !r.published && !r.publish_at;
    $('#rec-unpublish').textContent = r.published ? 'Unpublish' : 'Cancel scheduled publication';
    $('#rec-schedule-form').hidden = !!r.published;
    // A private recording's links carry a short-lived, read-only preview
    // token (from the server), never this page's host token.
    $('#rec-open').href = r.replay_url || `/r/${ctx.sp}`;
    $('#rec-download').href = r.download_url || '#';
    $('#rec-download').hidden = !r.download_url;
    if (!$('#rec-at').value) $('#rec-at').value = localInput(new Date(Date.now() + 3600e3));
  }

  function localInput(d) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  async function recordingAction(fn, action, okText) {
    showMessage(recMsg, '');
    for (const b of document.querySelectorAll('#rec-actions button')) b.disabled = true;
    try {
      const r = await fn();
      if (r && typeof r === 'object') recording = r;
      else await load();
      renderDetails();
      showMessage(recMsg, okText, 'ok');
    } catch (err) {
      showMessage(recMsg, ctx.hostError(err, action), err instanceof ApiError && err.status === 403 ? 'info' : 'error');
    } finally {
      for (const b of document.querySelectorAll('#rec-actions button')) b.disabled = false;
      render();
    }
  }

  $('#rec-publish').addEventListener('click', () =>
    recordingAction(() => api('POST', `/api/spaces/${ctx.sp}/recording/publish`, { token: ctx.token(), body: {} }), 'publish the recording', 'The recording is published.')
  );
  $('#rec-unpublish').addEventListener('click', () =>
    recordingAction(() => api('POST', `/api/spaces/${ctx.sp}/recording/unpublish`, { token: ctx.token(), body: {} }), 'unpublish the recording', 'The recording is private again.')
  );
  $('#rec-schedule-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const at = new Date($('#rec-at').value);
    if (Number.isNaN(at.getTime())) {
      showMessage(recMsg, 'Please pick a valid date and time.');
      return;
    }
    if (at.getTime() <= Date.now()) {
      showMessage(recMsg, 'That time has passed: pick a time in the future, or use "Publish now".');
      return;
    }
    recordingAction(
      () => api('POST', `/api/spaces/${ctx.sp}/recording/publish`, { token: ctx.token(), body: { at: at.toISOString() } }),
      'schedule the publication',
      `The recording will be published ${formatDateTime(at.toISOString())}.`
    );
  });
  $('#rec-delete').addEventListener('click', () => {
    if (!window.confirm('Delete this recording for good? Its audio files are removed and cannot be recovered.')) return;
    recordingAction(
      async () => {
        await api('DELETE', `/api/spaces/${ctx.sp}/recording`, { token: ctx.token() });
        return null; // 204: reload to show who deleted it and when
      },
      'delete the recording',
      'The recording was deleted.'
    );
  });

  return {
    render,
    load,
    /** @param {boolean|null} v /live's "recorded", null when it sends none */
    setLiveRecorded(v) {
      liveRecorded = v;
    },
  };
}
