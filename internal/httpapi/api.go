// Package httpapi is podium's HTTP surface: the JSON API, WHIP signalling,
// the LL-HLS media routes and the pages, with one table mapping errors to
// statuses (errors.go).
package httpapi

import (
	"encoding/json"
	"github.com/podium-live/podium/internal/policy"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/obs"
	"github.com/podium-live/podium/internal/space"
)

// MaxBody bounds JSON request bodies.
const MaxBody = 64 << 10

// Pages serves the embedded UI.
type Pages interface {
	Handler() http.Handler
	ServePage(w http.ResponseWriter, r *http.Request, name string)
}

// Options configure the API.
type Options struct {
	// PublicURL is the base URL users reach this node at, e.g.
	// "https://podium.example". Empty = the node's address each request
	// arrived at (see base).
	PublicURL string
	// Conns reports the public listener's open connections, cap and
	// refusals, for the operator view.
	Conns func() (open, limit int, rejected uint64)
	// AdmitRate is the waiting rooms' admit rate, for the operator view.
	AdmitRate float64
	// Credentials issue, rotate and revoke tokens (tokens.go).
	Credentials Credentials
	// Moderators registers and withdraws moderators (moderation.go).
	Moderators *moderation.Moderators
	// Flaggers registers and withdraws trusted flaggers (moderation.go).
	Flaggers *moderation.Moderators
	// Notices receives Art. 16 notices (moderation.go).
	Notices *moderation.Notices
	// Cases lets moderators see and take cases (moderation.go).
	Cases *moderation.Cases
	// Decisions takes decisions and publishes statements (decisions.go).
	Decisions *moderation.Decisions
}

// Services are the parts of live the API calls.
type Services struct {
	Access     *live.Access
	Spaces     *live.Spaces
	Stage      *live.Runtime
	Recordings *live.Library
	// Replay serves /replay/.
	Replay http.Handler
	// Policies is what moderation has in force per space: which view of
	// the audio a listener in each territory gets (nil: none).
	Policies policy.Source
	// Territories resolves a request's territory (nil: always unknown).
	Territories Territories
}

// Territories resolves the territory of the client behind a request: from
// a country header when the request came through a trusted proxy, else
// from the operator's country database, else policy.Unknown.
type Territories interface {
	Territory(r *http.Request) policy.Territory
}

// API is the HTTP handler for everything podium serves on its main port.
type API struct {
	svc    *live.Spaces
	access *live.Access
	stage  *live.Runtime
	recs   *live.Library
	media  http.Handler
	replay http.Handler
	pages  Pages
	opts   Options
	log    *slog.Logger
	mux    *http.ServeMux
	adm    *Admission
	admin  adminState
	// policies and territories: views (nil: none) and territories (nil: unknown).
	policies    policy.Source
	territories Territories
}

// New builds the API. media serves /hls/.
func New(sv Services, media http.Handler, pages Pages, adm *Admission, opts Options, log *slog.Logger) *API {
	a := &API{svc: sv.Spaces, access: sv.Access, stage: sv.Stage, recs: sv.Recordings, replay: sv.Replay,
		media: media, pages: pages, opts: opts, log: log, mux: http.NewServeMux(), adm: adm,
		policies: sv.Policies, territories: sv.Territories}
	a.admin.proc0 = obs.ReadProcess()
	m := a.mux
	m.HandleFunc("POST /api/spaces", a.createSpace)
	m.HandleFunc("GET /api/spaces", a.listSpaces)
	m.HandleFunc("GET /api/spaces/{id}", a.getSpace)
	m.HandleFunc("PATCH /api/spaces/{id}", a.patchSpace)
	m.HandleFunc("GET /api/spaces/{id}/recording", a.getRecording)
	m.HandleFunc("POST /api/spaces/{id}/recording/publish", a.publishRecording)
	m.HandleFunc("POST /api/spaces/{id}/recording/unpublish", a.unpublishRecording)
	m.HandleFunc("DELETE /api/spaces/{id}/recording", a.deleteRecording)
	m.HandleFunc("GET /api/recordings", a.listRecordings)
	m.HandleFunc("POST /api/spaces/{id}/start", a.startSpace)
	m.HandleFunc("POST /api/spaces/{id}/end", a.endSpace)
	m.HandleFunc("GET /api/spaces/{id}/live", a.liveStatus)
	m.HandleFunc("POST /api/spaces/{id}/invites", a.createInvite)
	m.HandleFunc("GET /api/spaces/{id}/invites", a.listInvites)
	m.HandleFunc("DELETE /api/spaces/{id}/invites/{invite}", a.revokeInvite)
	m.HandleFunc("POST /api/spaces/{id}/whip", a.whipJoin)
	m.HandleFunc("DELETE /api/spaces/{id}/whip/{speaker}", a.whipLeave)
	m.HandleFunc("PATCH /api/spaces/{id}/whip/{speaker}", a.whipPatch)
	m.HandleFunc("POST /api/spaces/{id}/speakers/{speaker}/mute", a.muteSpeaker)
	m.HandleFunc("POST /api/spaces/{id}/host-token", a.newHostToken)
	m.HandleFunc("POST /api/tokens/rotate", a.rotateKeys)
	m.HandleFunc("DELETE /api/tokens/{id}", a.revokeToken)
	m.HandleFunc("DELETE /api/spaces/{id}/speakers/{speaker}", a.kickSpeaker)
	a.moderationRoutes(m)
	m.HandleFunc("/api/", a.apiNotFound)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	m.HandleFunc("POST /api/spaces/{id}/join", a.join)
	a.liveModRoutes(m)
	m.HandleFunc("GET /api/admin/status", a.adminStatus)
	m.HandleFunc("POST /api/admin/attack", a.adminAttack)
	m.Handle("/hls/", http.HandlerFunc(a.serveMedia))
	m.Handle("/replay/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.replay.ServeHTTP(w, r) }))
	m.Handle("GET /assets/", pages.Handler())
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { pages.ServePage(w, r, "index") })
	m.HandleFunc("GET /s/{id}", func(w http.ResponseWriter, r *http.Request) { pages.ServePage(w, r, "listen") })
	m.HandleFunc("GET /studio/{id}", func(w http.ResponseWriter, r *http.Request) { pages.ServePage(w, r, "studio") })
	m.HandleFunc("GET /r/{id}", func(w http.ResponseWriter, r *http.Request) { pages.ServePage(w, r, "replay") })
	m.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) { pages.ServePage(w, r, "admin") })
	return a
}

// ServeHTTP adds CORS for API and media clients on other origins (a
// player page on a CDN host sends X-Podium-Ticket, which needs a
// preflight) and routes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	api := strings.HasPrefix(p, "/api/")
	if api || strings.HasPrefix(p, "/hls/") || strings.HasPrefix(p, "/replay/") {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if api {
			h.Set("Access-Control-Expose-Headers", "Location, Retry-After")
		}
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, PATCH, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range, "+TicketHeader)
			h.Set("Access-Control-Max-Age", "86400")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

func (a *API) apiNotFound(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, newError(http.StatusNotFound, "no_route", "no such API route: "+r.Method+" "+r.URL.Path))
}

// fail writes err as a JSON error; unexpected errors are logged, not shown.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := classify(err)
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSON(w, status, map[string]string{"error": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error","code":"internal"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// decode reads a JSON body of at most MaxBody bytes into v, rejecting
// unknown fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newError(http.StatusUnsupportedMediaType, "content_type", "Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, v)
	}
	if dec.More() {
		return newError(http.StatusBadRequest, "bad_json", "malformed JSON body: trailing data")
	}
	return nil
}

// authorize checks the request's bearer token for need in space id. The
// token comes from the Authorization header only: one in ?token= is
// refused (URLs end up in logs, histories and Referer headers; the only
// token a URL may carry is a replay preview, see previewFor).
func (a *API) authorize(r *http.Request, id string, need auth.Role) (auth.Claims, error) {
	tok := auth.FromHeader(r.Header.Get("Authorization"))
	if tok == "" && r.URL.Query().Has("token") {
		return auth.Claims{}, errTokenInURL
	}
	return a.access.Authorize(r.Context(), tok, id, need)
}

// guard checks that the space in the path exists (404 first, so unknown
// spaces look the same to everyone) and that the caller holds need in it.
// It answers the error itself and reports whether to go on.
func (a *API) guard(w http.ResponseWriter, r *http.Request, need auth.Role) (string, auth.Claims, bool) {
	sp, c, ok := a.guardSpace(w, r, need)
	return sp.ID, c, ok
}

// guardSpace is guard returning the space as read.
func (a *API) guardSpace(w http.ResponseWriter, r *http.Request, need auth.Role) (space.Space, auth.Claims, bool) {
	id := r.PathValue("id")
	sp, err := a.svc.Space(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return space.Space{ID: id}, auth.Claims{}, false
	}
	c, err := a.authorize(r, id, need)
	if err != nil {
		a.fail(w, r, err)
		return sp, c, false
	}
	return sp, c, true
}

// base returns the public base URL for links: PublicURL, else the
// address of this node the request arrived at (the connection's local
// address), never the request's Host header, which the client chooses
// (Host: evil.example would otherwise put invites on evil.example).
func (a *API) base(r *http.Request) string {
	if a.opts.PublicURL != "" {
		return strings.TrimSuffix(a.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + localHost(r)
}

type spaceJSON struct {
	ID             string      `json:"id"`
	Title          string      `json:"title"`
	Description    string      `json:"description"`
	State          space.State `json:"state"`
	ScheduledStart time.Time   `json:"scheduled_start"`
	StartedAt      *time.Time  `json:"started_at"`
	EndedAt        *time.Time  `json:"ended_at"`
	ListenerURL    string      `json:"listener_url"`
	PlaylistURL    string      `json:"playlist_url"`
	Record         bool        `json:"record"`
	RecordingURL   string      `json:"recording_url"`
	ReplayURL      string      `json:"replay_url"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *API) spaceJSON(r *http.Request, sp space.Space) spaceJSON {
	b := a.base(r)
	return spaceJSON{
		ID: sp.ID, Title: sp.Title, Description: sp.Description, State: sp.State,
		ScheduledStart: sp.ScheduledStart, StartedAt: timePtr(sp.StartedAt), EndedAt: timePtr(sp.EndedAt),
		ListenerURL: b + "/s/" + sp.ID, PlaylistURL: b + "/hls/" + sp.ID + "/index.m3u8",
		Record: sp.Record, RecordingURL: b + "/api/spaces/" + sp.ID + "/recording", ReplayURL: b + "/r/" + sp.ID,
	}
}

func (a *API) createSpace(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		Title          string    `json:"title"`
		Description    string    `json:"description"`
		ScheduledStart time.Time `json:"scheduled_start"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	sp, host, err := a.svc.Create(r.Context(), req.Title, req.Description, req.ScheduledStart)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"space":      a.spaceJSON(r, sp),
		"host_token": host,
		"host_url":   a.studioURL(r, sp.ID, host),
	})
}

func (a *API) listSpaces(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Spaces(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]spaceJSON, len(list))
	for i, sp := range list {
		out[i] = a.spaceJSON(r, sp)
	}
	writeJSON(w, http.StatusOK, map[string]any{"spaces": out})
}

func (a *API) getSpace(w http.ResponseWriter, r *http.Request) {
	sp, err := a.svc.Space(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.spaceJSON(r, sp))
}

func (a *API) hostAction(w http.ResponseWriter, r *http.Request, do func(*http.Request, string) (space.Space, error)) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	sp, err := do(r, id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.spaceJSON(r, sp))
}

func (a *API) startSpace(w http.ResponseWriter, r *http.Request) {
	a.hostAction(w, r, func(r *http.Request, id string) (space.Space, error) { return a.svc.Start(r.Context(), id) })
}

func (a *API) endSpace(w http.ResponseWriter, r *http.Request) {
	a.hostAction(w, r, func(r *http.Request, id string) (space.Space, error) { return a.svc.End(r.Context(), id) })
}

func (a *API) liveStatus(w http.ResponseWriter, r *http.Request) {
	b, err := a.status(r, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=1")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// status is the /live document: the venue's when the space is open here,
// otherwise nobody on stage and nobody listening here.
func (a *API) status(r *http.Request, id string) ([]byte, error) {
	state, err := a.svc.SpaceState(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if b, ok := a.stage.Status(id, state); ok {
		return b, nil
	}
	sp, err := a.svc.Space(r.Context(), id)
	if err != nil {
		return nil, err
	}
	return json.Marshal(live.LiveStatus{State: sp.State, Speakers: []live.SpeakerState{}, Recorded: sp.Record && sp.State == space.Live})
}

type inviteJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expires_at"`
	Revoked   bool      `json:"revoked"`
	Token     string    `json:"token,omitempty"`
	URL       string    `json:"url,omitempty"`
}

func (a *API) createInvite(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	var req struct {
		Name       string `json:"name"`
		TTLSeconds int64  `json:"ttl_seconds"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	ttl, err := space.InviteTTL(req.TTLSeconds)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	inv, tok, err := a.svc.NewInvite(r.Context(), id, req.Name, ttl)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, inviteJSON{ID: inv.ID, Name: inv.Name, ExpiresAt: inv.ExpiresAt, Token: tok,
		URL: a.studioURL(r, id, tok)})
}

func (a *API) listInvites(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	list, err := a.svc.Invites(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]inviteJSON, len(list))
	for i, inv := range list {
		out[i] = inviteJSON{ID: inv.ID, Name: inv.Name, ExpiresAt: inv.ExpiresAt, Revoked: inv.Revoked()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"invites": out})
}

func (a *API) revokeInvite(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	if err := a.svc.RevokeInvite(r.Context(), id, r.PathValue("invite")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) whipJoin(w http.ResponseWriter, r *http.Request) {
	sp, c, ok := a.guardSpace(w, r, auth.RoleSpeaker)
	if !ok {
		return
	}
	id := sp.ID
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/sdp" {
		a.fail(w, r, newError(http.StatusUnsupportedMediaType, "content_type", "Content-Type must be application/sdp"))
		return
	}
	offer, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ingest.MaxOfferBytes))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	spk, answer, err := a.stage.Join(r.Context(), sp, c, r.URL.Query().Get("name"), offer)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/sdp")
	h.Set("Location", "/api/spaces/"+id+"/whip/"+spk)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

// speakerAction authorizes a request about one speaker: the host may act on
// anyone, a speaker only on their own session.
func (a *API) speakerAction(w http.ResponseWriter, r *http.Request, need auth.Role, do func(auth.Claims) error) {
	_, c, ok := a.guard(w, r, need)
	if !ok {
		return
	}
	if err := do(c); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) whipLeave(w http.ResponseWriter, r *http.Request) {
	a.speakerAction(w, r, auth.RoleSpeaker, func(c auth.Claims) error {
		return a.stage.Leave(r.PathValue("id"), r.PathValue("speaker"), c)
	})
}

func (a *API) whipPatch(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "DELETE")
	a.fail(w, r, newError(http.StatusMethodNotAllowed, "no_trickle", "trickle ICE is not supported: the answer carries every candidate"))
}

func (a *API) muteSpeaker(w http.ResponseWriter, r *http.Request) {
	id, c, ok := a.guard(w, r, auth.RoleSpeaker)
	if !ok {
		return
	}
	spk := r.PathValue("speaker")
	var req struct {
		Muted *bool `json:"muted"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Muted == nil {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", `body must be {"muted": true|false}`))
		return
	}
	info, err := a.stage.Mute(id, spk, *req.Muted, c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": spk, "muted": info.Muted(), "self_muted": info.SelfMuted, "host_muted": info.HostMuted})
}

func (a *API) kickSpeaker(w http.ResponseWriter, r *http.Request) {
	a.speakerAction(w, r, auth.RoleHost, func(auth.Claims) error {
		id := r.PathValue("id")
		info, err := a.stage.Remove(id, r.PathValue("speaker"))
		if err != nil || info.Invite == "" {
			return err
		}
		// The stage barred the invite at once; revoking it makes the
		// removal hold across restarts.
		return a.svc.BarInvite(r.Context(), id, info.Invite)
	})
}
