package httpapi

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/space"
)

type turnJSON struct {
	Speaker string `json:"speaker"`
	Name    string `json:"name"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

type gapJSON struct {
	AtMS       int64  `json:"at_ms"`
	DurationMS int64  `json:"duration_ms"`
	Reason     string `json:"reason"`
}

type recordingJSON struct {
	SpaceID     string     `json:"space_id"`
	Title       string     `json:"title,omitempty"`
	State       string     `json:"state"`
	DurationMS  int64      `json:"duration_ms"`
	SizeBytes   int64      `json:"size_bytes"`
	Published   bool       `json:"published"`
	PublishAt   *time.Time `json:"publish_at"`
	Turns       []turnJSON `json:"turns"`
	Gaps        []gapJSON  `json:"gaps"`
	Error       string     `json:"error,omitempty"`
	DeletedAt   *time.Time `json:"deleted_at"`
	DeletedBy   string     `json:"deleted_by,omitempty"`
	PlaylistURL string     `json:"playlist_url,omitempty"`
	DownloadURL string     `json:"download_url,omitempty"`
	ReplayURL   string     `json:"replay_url,omitempty"`
	StartMS     *int64     `json:"start_ms,omitempty"`
	// The requester's territory and view, what their view withholds and
	// labels, and whether it leaves them anything to hear.
	Territory      string         `json:"territory"`
	View           string         `json:"view"`
	Withheld       []withheldJSON `json:"withheld"`
	Labels         []withheldJSON `json:"labels"`
	Available      bool           `json:"available"`
	WithheldReason string         `json:"withheld_reason,omitempty"`
}

// recordingJSON describes a recording; preview (a preview token, "" for
// none) is added to the links of a recording that is not public.
// withheldJSON is a restriction as the requester's view shows it.
type withheldJSON struct {
	FromMS       int64    `json:"from_ms"`
	ToMS         int64    `json:"to_ms"`
	Territories  []string `json:"territories"`
	Text         string   `json:"text"`
	StatementURL string   `json:"statement_url"`
}

func (a *API) recordingJSON(r *http.Request, info live.RecordingInfo, preview string) recordingJSON {
	b := a.base(r)
	territory := a.territory(r)
	var p *policy.Policy
	if a.policies != nil {
		p = a.policies.Policy(info.Space.ID)
	}
	v := p.For(territory)
	out := recordingJSON{
		SpaceID: info.Space.ID, State: info.State, DurationMS: info.Duration.Milliseconds(), SizeBytes: info.Size,
		Published: info.Public, PublishAt: timePtr(info.Pub.PublishAt), Error: info.Error,
		DeletedAt: timePtr(info.Pub.DeletedAt), DeletedBy: info.Pub.DeletedBy,
		Turns: []turnJSON{}, Gaps: []gapJSON{},
		Territory: string(territory), View: v.ID, Withheld: []withheldJSON{}, Labels: []withheldJSON{}, Available: info.State != live.RecDeleted,
	}
	for _, x := range v.Restrictions {
		j := withheldJSON{FromMS: x.From.Milliseconds(), ToMS: x.To.Milliseconds(), Territories: []string{}, Text: x.Text, StatementURL: "/statements/" + x.ID}
		for _, t := range x.Territories {
			j.Territories = append(j.Territories, string(t))
		}
		switch x.Kind {
		case policy.WithholdRange:
			out.Withheld = append(out.Withheld, j)
		case policy.Label:
			out.Labels = append(out.Labels, j)
		case policy.WithholdRecording:
			j.FromMS, j.ToMS = 0, info.Duration.Milliseconds()
			out.Withheld = append(out.Withheld, j)
			if out.Available {
				out.Available, out.WithheldReason = false, cmp.Or(x.Text, "withheld where you are")
			}
		}
	}
	for _, t := range info.Turns {
		out.Turns = append(out.Turns, turnJSON{Speaker: t.SpeakerID, Name: t.Name, StartMS: t.Start.Milliseconds(), EndMS: t.End.Milliseconds()})
	}
	for _, g := range info.Gaps {
		out.Gaps = append(out.Gaps, gapJSON{AtMS: g.At.Milliseconds(), DurationMS: g.Wall.Milliseconds(), Reason: g.Reason})
	}
	if out.Available {
		q := ""
		if !info.Public && preview != "" {
			q = "?token=" + url.QueryEscape(preview)
		}
		dir := b + "/replay/" + info.Space.ID + "/"
		if v.ID != policy.None {
			dir += v.ID + "/" // view 0 keeps the URLs without a view, which mean the same
		}
		out.PlaylistURL = dir + "index.m3u8" + q
		out.DownloadURL = dir + "recording.opus" + q
		out.ReplayURL = b + "/r/" + info.Space.ID + q
	}
	return out
}

// canSeeRecording reports whether r may see the recording described by
// info: anyone once public, otherwise its host, an operator or the holder
// of a preview token for it. preview is the preview token for the links:
// the caller's own if it came with one (a preview never begets a longer
// one), a fresh one for a host or operator.
func (a *API) canSeeRecording(r *http.Request, info live.RecordingInfo) (ok bool, preview string) {
	if info.Public {
		return true, ""
	}
	if tok, ok := a.previewFor(r, info.Space.ID); ok {
		return true, tok
	}
	if _, err := a.authorize(r, info.Space.ID, auth.RoleHost); err != nil {
		return false, ""
	}
	return true, a.preview(info)
}

// preview signs a preview token for a recording.
func (a *API) preview(info live.RecordingInfo) string {
	return a.opts.Credentials.Preview(info.Space.ID, previewTTL(info.Duration))
}

// previewOrHost reports whether r carries a preview for space id or the
// credential of its host (or an operator).
func (a *API) previewOrHost(r *http.Request, id string) bool {
	if _, ok := a.previewFor(r, id); ok {
		return true
	}
	_, err := a.authorize(r, id, auth.RoleHost)
	return err == nil
}

func (a *API) getRecording(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	// Visibility first (cached: no database read, no scan), so an
	// anonymous read of a private recording costs nothing. A preview for
	// it may read it (the replay page of a private link sends one).
	if !a.access.ReplayPublic(r.Context(), id) {
		if !a.previewOrHost(r, id) {
			a.fail(w, r, space.ErrNotFound)
			return
		}
	}
	info, err := a.recs.Recording(r.Context(), id)
	if err != nil && !(errors.Is(err, space.ErrNotFound) && info.State == live.RecDeleted) {
		a.fail(w, r, err)
		return
	}
	ok, preview := a.canSeeRecording(r, info)
	if !ok {
		// Never a hint that an unpublished recording exists.
		a.fail(w, r, space.ErrNotFound)
		return
	}
	out := a.recordingJSON(r, info, preview)
	if t := r.URL.Query().Get("t"); t != "" {
		d, err := parseOffset(t)
		if err != nil {
			a.fail(w, r, newError(http.StatusBadRequest, "bad_time", err.Error()))
			return
		}
		if d > info.Duration {
			a.fail(w, r, newError(http.StatusBadRequest, "beyond_end", "t is beyond the end of the recording ("+info.Duration.Round(time.Second).String()+")"))
			return
		}
		ms := d.Milliseconds()
		out.StartMS = &ms
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) patchSpace(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	var req struct {
		Record *bool `json:"record"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Record == nil {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", `body must be {"record": true|false}`))
		return
	}
	sp, err := a.svc.SetRecord(r.Context(), id, *req.Record)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.spaceJSON(r, sp))
}

func (a *API) publishRecording(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	var req struct {
		At *time.Time `json:"at"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	var at time.Time
	if req.At != nil {
		at = *req.At
	}
	info, err := a.recs.Publish(r.Context(), id, at)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.recordingJSON(r, info, a.preview(info)))
}

func (a *API) unpublishRecording(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	info, err := a.recs.Unpublish(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.recordingJSON(r, info, a.preview(info)))
}

func (a *API) deleteRecording(w http.ResponseWriter, r *http.Request) {
	id, c, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	if err := a.recs.Delete(r.Context(), id, string(c.Role)); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listRecordings(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	list, err := a.recs.Recordings(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]recordingJSON, len(list))
	for i, info := range list {
		out[i] = a.recordingJSON(r, info, "")
		out[i].Title = info.Space.Title
	}
	writeJSON(w, http.StatusOK, map[string]any{"recordings": out})
}

// ReplayPolicy is the replay server's policy over access, built before the
// replay server and the API: public recordings to anyone, private ones to
// the holder of a preview token for them (in the header or ?token=: players
// cannot set headers) and to their host and operators (header only). The
// replay server copies ?token= into the playlist's URIs, so a request with
// any other ?token= is refused: the URIs only ever carry a preview token.
func ReplayPolicy(access *live.Access, creds Credentials) func(r *http.Request, id string) (public, ok bool) {
	a := &API{access: access, opts: Options{Credentials: creds}} // only its authorization is used
	return a.replayPolicy
}

func (a *API) replayPolicy(r *http.Request, id string) (public, ok bool) {
	if a.access.ReplayPublic(r.Context(), id) {
		return true, true
	}
	if q := r.URL.Query().Get("token"); q != "" {
		// Whatever else the request carries: the replay server copies
		// ?token= into the playlist, so it must be a preview.
		if !a.isPreview(q, id) {
			return false, false
		}
	} else if _, ok := a.previewFor(r, id); !ok {
		if _, err := a.authorize(r, id, auth.RoleHost); err != nil {
			return false, false
		}
	}
	return false, a.access.ReplayVisible(r.Context(), id)
}

// ReplayOriginal reports whether a replay request carries (in its
// Authorization header) a verified credential that may hear a space's
// original audio whatever the policy (legal hold): a moderator's or the
// operator's.
func ReplayOriginal(access *live.Access, creds Credentials) func(r *http.Request, id string) bool {
	a := &API{access: access, opts: Options{Credentials: creds}} // only its authorization is used
	return func(r *http.Request, id string) bool {
		c, err := a.authorize(r, id, auth.RoleModerator)
		return err == nil && (c.Role == auth.RoleOperator || c.Role == auth.RoleModerator)
	}
}
