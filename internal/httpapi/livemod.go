package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/policy"
)

// liveModRoutes registers the live moderation routes: the audience delay
// and the dump.
func (a *API) liveModRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/spaces/{id}/delay", a.setDelay)
	m.HandleFunc("POST /api/spaces/{id}/dump", a.dump)
}

// authorizeLiveMod admits those who may hear the undelayed feed, set the
// delay and dump: the space's host, the operator and moderators.
func (a *API) authorizeLiveMod(r *http.Request, id string) (auth.Claims, error) {
	c, err := a.authorize(r, id, auth.RoleHost)
	if err != nil && c.Role == auth.RoleModerator {
		return a.authorize(r, id, auth.RoleModerator)
	}
	return c, err
}

// guardLiveMod is guard for authorizeLiveMod.
func (a *API) guardLiveMod(w http.ResponseWriter, r *http.Request) (string, auth.Claims, bool) {
	id := r.PathValue("id")
	if _, err := a.svc.Space(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return id, auth.Claims{}, false
	}
	c, err := a.authorizeLiveMod(r, id)
	if err != nil {
		a.fail(w, r, err)
		return id, c, false
	}
	return id, c, true
}

// setDelay sets the audience delay: the host's choice, or the floor the
// operator or a moderator imposes, which the host cannot go below.
func (a *API) setDelay(w http.ResponseWriter, r *http.Request) {
	id, c, ok := a.guardLiveMod(w, r)
	if !ok {
		return
	}
	var req struct {
		Seconds *int `json:"seconds"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Seconds == nil {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", `body must be {"seconds": 0|10|30}`))
		return
	}
	d, err := a.stage.SetDelay(id, *req.Seconds, c.Role == auth.RoleOperator || c.Role == auth.RoleModerator)
	switch {
	case errors.Is(err, live.ErrBadDelay):
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", "seconds: "+err.Error()))
		return
	case errors.Is(err, live.ErrDelayFloor):
		a.fail(w, r, newError(http.StatusConflict, "delay_floor", err.Error()))
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"delay_seconds": int(d.Effective / time.Second),
		"host_seconds": int(d.Host / time.Second), "floor_seconds": int(d.Floor / time.Second)})
}

// dump silences the newest seconds of the delay line before the audience
// hears them and answers the wall-clock range dumped (host, operator,
// moderators).
func (a *API) dump(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guardLiveMod(w, r)
	if !ok {
		return
	}
	var req struct {
		Seconds *int `json:"seconds"`
	}
	if err := decode(w, r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	if req.Seconds == nil {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", `body must be {"seconds": N}, 1 ≤ N ≤ the delay`))
		return
	}
	from, to, err := a.stage.Dump(id, *req.Seconds)
	if errors.Is(err, live.ErrBadDump) {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", "seconds: "+err.Error()))
		return
	} else if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from.UTC(), "to": to.UTC(), "seconds": *req.Seconds})
}

// hlsView returns the view segment of a media path, "" when it has none.
// It allocates nothing.
func hlsView(path string) string {
	rest, ok := strings.CutPrefix(path, "/hls/")
	if !ok {
		return ""
	}
	_, rest, _ = strings.Cut(rest, "/")
	view, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return view
}

// monitorAllowed checks that a request for the undelayed monitor feed
// carries a host's, a moderator's or the operator's credential for the
// space (header only), answering the error itself.
func (a *API) monitorAllowed(w http.ResponseWriter, r *http.Request, sp string) bool {
	if _, err := a.authorizeLiveMod(r, sp); err != nil {
		w.Header().Set("Cache-Control", "private, no-store")
		a.fail(w, r, err)
		return false
	}
	return true
}

// viewMatches checks that the view in a media URL is the requester's: the
// territory from the ticket (fromTicket), else from Territories, else
// Unknown, looked up in the space's policy. Otherwise it answers 409
// view_changed naming theirs (the player renews its ticket and switches).
// A match allocates nothing.
func (a *API) viewMatches(w http.ResponseWriter, r *http.Request, sp string, t policy.Territory, fromTicket bool) bool {
	if a.policies == nil {
		return true
	}
	p := a.policies.Policy(sp)
	if p == nil {
		return true
	}
	if !fromTicket && a.territories != nil {
		t = a.territories.Territory(r)
	}
	want := p.For(t).ID
	got := hlsView(r.URL.Path)
	if got == "" {
		got = policy.None
	}
	if got == want {
		return true
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusConflict, map[string]string{"error": "this listener's view of the space changed: renew the ticket", "code": "view_changed", "view": want})
	return false
}
