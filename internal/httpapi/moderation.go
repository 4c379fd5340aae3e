package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/moderation"
)

// moderationRoutes registers the moderation API: the operator's
// moderator registry today.
func (a *API) moderationRoutes(m *http.ServeMux) {
	mods := func() *moderation.Moderators { return a.opts.Moderators }
	flaggers := func() *moderation.Moderators { return a.opts.Flaggers }
	m.HandleFunc("POST /api/moderators", a.addModerator(mods))
	m.HandleFunc("GET /api/moderators", a.listModerators(mods, "moderators"))
	m.HandleFunc("DELETE /api/moderators/{id}", a.revokeModerator(mods))
	m.HandleFunc("POST /api/flaggers", a.addModerator(flaggers))
	m.HandleFunc("GET /api/flaggers", a.listModerators(flaggers, "flaggers"))
	m.HandleFunc("DELETE /api/flaggers/{id}", a.revokeModerator(flaggers))
	m.HandleFunc("GET /api/moderation/me", a.moderatorMe)
	m.HandleFunc("GET /api/moderation/cases", a.listCases)
	m.HandleFunc("GET /api/moderation/cases/{id}", a.getCase)
	m.HandleFunc("POST /api/moderation/cases/{id}/assign", a.assignCase)
	m.HandleFunc("POST /api/notices", a.postNotice)
	m.HandleFunc("GET /api/notices/{id}", a.getNotice)
	a.decisionRoutes(m)
}

// postNotice: POST /api/notices (anyone, no credential) with a notice's
// JSON → 201 {id, status_url, secret} once the notice is stored; 400
// naming the first bad field, 404 for an unknown space.
func (a *API) postNotice(w http.ResponseWriter, r *http.Request) {
	if a.opts.Notices == nil {
		a.fail(w, r, errNoModeration)
		return
	}
	var n moderation.Notice
	if err := decode(w, r, &n); err != nil {
		a.fail(w, r, err)
		return
	}
	if n.ID != "" || !n.Received.IsZero() || n.State != "" || n.Lane != "" || n.Flagger != "" || n.SourceType != "" {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", "id, received, state, lane, flagger and source_type are set by the node"))
		return
	}
	// A credential, if any, must be a trusted flagger's (header only); the
	// notice then goes to the trusted lane.
	flagger := ""
	if r.Header.Get("Authorization") != "" {
		c, err := a.authorize(r, "", auth.RoleFlagger)
		if err == nil && c.Role != auth.RoleFlagger {
			err = newError(http.StatusForbidden, "forbidden", "only a trusted flagger's credential may come with a notice (send it without one)")
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		flagger = c.ID
	}
	if err := n.Check(); err != nil {
		a.fail(w, r, err)
		return
	}
	if _, err := a.svc.Space(r.Context(), n.Space); err != nil {
		a.fail(w, r, err)
		return
	}
	n, secret, err := a.opts.Notices.Submit(r.Context(), n, flagger)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{
		"id":         n.ID,
		"secret":     secret,
		"status_url": a.base(r) + "/notices/" + url.PathEscape(n.ID) + "#secret=" + url.QueryEscape(secret),
	})
}

// getNotice: GET /api/notices/{id} with Authorization: Bearer SECRET →
// the notice and its state; 404 for an unknown id or a wrong secret alike.
func (a *API) getNotice(w http.ResponseWriter, r *http.Request) {
	if a.opts.Notices == nil {
		a.fail(w, r, errNoModeration)
		return
	}
	secret := auth.FromHeader(r.Header.Get("Authorization"))
	if secret == "" {
		if r.URL.Query().Has("secret") || r.URL.Query().Has("token") {
			a.fail(w, r, errTokenInURL)
			return
		}
		a.fail(w, r, newError(http.StatusUnauthorized, "token_missing", "send the notice's secret in the header Authorization: Bearer SECRET"))
		return
	}
	n, err := a.opts.Notices.Get(r.Context(), r.PathValue("id"), secret)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	out := noticeJSON{Notice: n}
	if a.opts.Decisions != nil {
		d, err := a.opts.Decisions.OfCase(r.Context(), n.ID)
		if err == nil {
			j := a.toDecisionJSON(r, d)
			out.Decision = &j
			if len(j.StatementURLs) > 0 {
				out.StatementURL = j.StatementURLs[0]
			}
		} else if !errors.Is(err, moderation.ErrNotFound) {
			a.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// noticeJSON is a notice as its notifier sees it, with the decision on it.
type noticeJSON struct {
	moderation.Notice
	Decision     *decisionJSON `json:"decision"`
	StatementURL string        `json:"statement_url,omitempty"`
}

// moderatorMe: GET /api/moderation/me (moderator) → the moderator the
// credential names, so a moderation client can check its token.
func (a *API) moderatorMe(w http.ResponseWriter, r *http.Request) {
	id, ok := a.moderator(w, r)
	if !ok {
		return
	}
	if a.opts.Moderators == nil {
		a.fail(w, r, errNoModeration)
		return
	}
	m, err := a.opts.Moderators.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !m.Active() {
		a.fail(w, r, newError(http.StatusUnauthorized, "token_revoked", "this moderator was withdrawn"))
		return
	}
	writeJSON(w, http.StatusOK, toModeratorJSON(m))
}

// moderatorJSON is a moderator as the API shows it.
type moderatorJSON struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked"`
	Token   string     `json:"token,omitempty"`
}

func toModeratorJSON(m moderation.Moderator) moderatorJSON {
	j := moderatorJSON{ID: m.ID, Name: m.Name, Created: m.Created}
	if !m.Revoked.IsZero() {
		t := m.Revoked
		j.Revoked = &t
	}
	return j
}

// errNoModeration answers moderation routes on a node built without it.
var errNoModeration = newError(http.StatusNotFound, "not_found", "moderation is not enabled on this node")

// operatorModerators authorizes the operator and returns the registry.
func (a *API) operatorModerators(w http.ResponseWriter, r *http.Request, reg func() *moderation.Moderators) (*moderation.Moderators, bool) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	ms := reg()
	if ms == nil {
		a.fail(w, r, errNoModeration)
		return nil, false
	}
	return ms, true
}

// addModerator: POST /api/moderators (or /api/flaggers) {name} → 201
// {id, name, created, revoked: null, token}; the token is shown only here.
func (a *API) addModerator(reg func() *moderation.Moderators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.addRegistrant(w, r, reg) }
}

func (a *API) addRegistrant(w http.ResponseWriter, r *http.Request, reg func() *moderation.Moderators) {
	ms, ok := a.operatorModerators(w, r, reg)
	if !ok {
		return
	}
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	m, tok, err := ms.Add(r.Context(), req.Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	j := toModeratorJSON(m)
	j.Token = tok
	writeJSON(w, http.StatusCreated, j)
}

// listModerators: GET /api/moderators → {moderators: [...]} (no tokens);
// GET /api/flaggers → {flaggers: [...]}.
func (a *API) listModerators(reg func() *moderation.Moderators, key string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.listRegistrants(w, r, reg, key) }
}

func (a *API) listRegistrants(w http.ResponseWriter, r *http.Request, reg func() *moderation.Moderators, key string) {
	ms, ok := a.operatorModerators(w, r, reg)
	if !ok {
		return
	}
	list, err := ms.List(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]moderatorJSON, 0, len(list))
	for _, m := range list {
		out = append(out, toModeratorJSON(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{key: out})
}

// revokeModerator: DELETE /api/moderators/{id} (or /api/flaggers/{id}) →
// 200 the registrant, its token refused from now on.
func (a *API) revokeModerator(reg func() *moderation.Moderators) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { a.revokeRegistrant(w, r, reg) }
}

func (a *API) revokeRegistrant(w http.ResponseWriter, r *http.Request, reg func() *moderation.Moderators) {
	ms, ok := a.operatorModerators(w, r, reg)
	if !ok {
		return
	}
	m, err := ms.Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toModeratorJSON(m))
}

// moderator authorizes a moderator's credential (header only) and returns
// the moderator's id: the one every action they take records.
func (a *API) moderator(w http.ResponseWriter, r *http.Request) (string, bool) {
	c, err := a.authorize(r, "", auth.RoleModerator)
	if err == nil && c.Role != auth.RoleModerator {
		err = newError(http.StatusForbidden, "forbidden", "a moderator credential is required (the operator registers moderators, it does not decide cases)")
	}
	if err != nil {
		a.fail(w, r, err)
		return "", false
	}
	return c.ID, true
}

// caseJSON is a case as moderators see it.
type caseJSON struct {
	ID         string            `json:"id"`
	Lane       string            `json:"lane"`
	State      string            `json:"state"`
	Space      string            `json:"space"`
	Received   time.Time         `json:"received"`
	AgeSeconds int64             `json:"age_seconds"`
	Deadline   time.Time         `json:"deadline"`
	Overdue    bool              `json:"overdue"`
	Assignee   *string           `json:"assignee"`
	AssignedAt *time.Time        `json:"assigned_at"`
	Notice     moderation.Notice `json:"notice"`
}

func toCaseJSON(c moderation.Case, now time.Time) caseJSON {
	j := caseJSON{ID: c.Notice.ID, Lane: c.Notice.Lane, State: c.Notice.State, Space: c.Notice.Space,
		Received: c.Notice.Received, AgeSeconds: int64(now.Sub(c.Notice.Received) / time.Second),
		Deadline: c.Deadline(), Overdue: now.After(c.Deadline()), Notice: c.Notice}
	if c.Assignee != "" {
		who, at := c.Assignee, c.AssignedAt
		j.Assignee, j.AssignedAt = &who, &at
	}
	return j
}

// moderatorCases authorizes a moderator and returns the cases and their id.
func (a *API) moderatorCases(w http.ResponseWriter, r *http.Request) (*moderation.Cases, string, bool) {
	id, ok := a.moderator(w, r)
	if !ok {
		return nil, "", false
	}
	if a.opts.Cases == nil {
		a.fail(w, r, errNoModeration)
		return nil, "", false
	}
	return a.opts.Cases, id, true
}

// listCases: GET /api/moderation/cases?lane=trusted|notices&state=open
// (moderator) → {cases: [...]}, oldest first.
func (a *API) listCases(w http.ResponseWriter, r *http.Request) {
	cs, _, ok := a.moderatorCases(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	list, err := cs.List(r.Context(), q.Get("lane"), q.Get("state"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	now := time.Now()
	out := make([]caseJSON, 0, len(list))
	for _, c := range list {
		out = append(out, toCaseJSON(c, now))
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"cases": out})
}

// getCase: GET /api/moderation/cases/{id} (moderator) → the case.
func (a *API) getCase(w http.ResponseWriter, r *http.Request) {
	cs, _, ok := a.moderatorCases(w, r)
	if !ok {
		return
	}
	c, err := cs.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, toCaseJSON(c, time.Now()))
}

// assignCase: POST /api/moderation/cases/{id}/assign (moderator), body
// {assignee?: moderator id; default the caller} → the case; 409 when it is
// no longer open, 400 when the assignee is not an active moderator.
func (a *API) assignCase(w http.ResponseWriter, r *http.Request) {
	cs, me, ok := a.moderatorCases(w, r)
	if !ok {
		return
	}
	var req struct {
		Assignee string `json:"assignee"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	who := me
	if req.Assignee != "" && req.Assignee != me {
		m, err := a.opts.Moderators.Get(r.Context(), req.Assignee)
		if err != nil || !m.Active() {
			a.fail(w, r, newError(http.StatusBadRequest, "invalid", "assignee: not an active moderator"))
			return
		}
		who = m.ID
	}
	c, err := cs.Assign(r.Context(), r.PathValue("id"), who, me)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toCaseJSON(c, time.Now()))
}
