package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/live"
)

// hlsSpace returns the space id of a /hls/{id}/... path.
func hlsSpace(path string) string {
	rest, ok := strings.CutPrefix(path, "/hls/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// Verifier checks a bearer token's signature and expiry (auth.Signer).
type Verifier interface {
	Verify(token string) (auth.Claims, error)
}

// Classify puts a request in its priority class for the overload manager,
// by what the request proves, never by what it merely carries:
//
//   - media with a ticket valid for the space in the path: listener;
//   - joins: join;
//   - POST /api/notices: chat (limited per address and /24, shed before joins);
//   - a bearer credential whose signature and expiry verify and whose role
//     holds in the space of the path (operator anywhere, /api/tokens/*
//     included; host for their space): ingest, never limited or shed;
//   - a verified speaker on their own stage session (/whip/{id} and
//     /speakers/{id}: mute, ICE restarts, leaving): ingest, never shed,
//     but limited per credential (key "speaker:" and the invite id) so a
//     speaker cannot flood the node with session requests;
//   - a WHIP join (POST /api/spaces/{id}/whip) with such a credential:
//     stage join, never shed but limited per address and per credential
//     (the speaker's invite, the host's space), which is the key returned;
//   - everything else, including any credential that does not verify or
//     is for another space or role: anonymous (the handler answers 401 or
//     403 to a bad credential).
//
// Revocation is the handler's to check: classification reads no database.
func (a *API) Classify(r *http.Request) (admission.Class, string) {
	p := r.URL.Path
	if strings.HasPrefix(p, "/hls/") {
		if t := r.Header.Get(TicketHeader); t != "" && a.adm.Tickets.Check(t, hlsSpace(p)) == nil {
			return admission.ClassListener, ""
		}
		return admission.ClassAnonymous, ""
	}
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return admission.ClassAnonymous, ""
	}
	if rest == "notices" && r.Method == http.MethodPost {
		// Notices are logged out and a flood vector: limited per address
		// and per /24 like chat, whatever credential they carry.
		return admission.ClassChat, ""
	}
	id, tail := "", ""
	if s, ok := strings.CutPrefix(rest, "spaces/"); ok {
		id, tail, _ = strings.Cut(s, "/")
		if tail == "join" {
			return admission.ClassJoin, ""
		}
	}
	tok := auth.FromHeader(r.Header.Get("Authorization"))
	if tok == "" || a.adm.Credentials == nil {
		return admission.ClassAnonymous, ""
	}
	c, err := a.adm.Credentials.Verify(tok)
	if err != nil {
		return admission.ClassAnonymous, ""
	}
	stageJoin := tail == "whip" && r.Method == http.MethodPost
	switch {
	case c.Role == auth.RoleOperator:
		if stageJoin {
			return admission.ClassStageJoin, "operator"
		}
		return admission.ClassIngest, ""
	case c.Role == auth.RoleModerator:
		return admission.ClassIngest, ""
	case id == "" || c.Space != id:
		return admission.ClassAnonymous, ""
	case stageJoin && c.Role == auth.RoleHost:
		return admission.ClassStageJoin, "host:" + id
	case stageJoin && c.Role == auth.RoleSpeaker && c.Invite != "":
		return admission.ClassStageJoin, "invite:" + c.Invite
	case c.Role == auth.RoleHost:
		return admission.ClassIngest, ""
	case c.Role == auth.RoleSpeaker && (strings.HasPrefix(tail, "whip/") || strings.HasPrefix(tail, "speakers/")):
		return admission.ClassIngest, speakerKey(c)
	}
	return admission.ClassAnonymous, ""
}

// speakerKey is the limiter key of a speaker's session requests: their
// invite (one live session per invite), else the token id, else the space.
func speakerKey(c auth.Claims) string {
	switch {
	case c.Invite != "":
		return "speaker:" + c.Invite
	case c.ID != "":
		return "speaker-token:" + c.ID
	}
	return "speaker-space:" + c.Space
}

// LatencyExempt names requests whose duration says nothing about load:
// any media request may wait for the next part by design (blocking
// reloads, preload hints, a stream's first segment), downloads last as long
// as the client reads, and a WHIP answer waits for ICE gathering.
func LatencyExempt(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/hls/") || strings.HasPrefix(p, "/replay/") || strings.Contains(p, "/whip")
}

// serveMedia refuses media requests whose ticket is forged, malformed or
// for another space (an expired ticket is served as anonymous: the player
// renews it), counts the listener behind a valid one, and hands the rest
// to the HLS server. The monitor view (undelayed) needs a host's or the
// operator's credential instead (livemod.go).
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request) {
	if hlsView(r.URL.Path) == live.MonitorView {
		if a.monitorAllowed(w, r, hlsSpace(r.URL.Path)) {
			a.media.ServeHTTP(w, r)
		}
		return
	}
	if t := r.Header.Get(TicketHeader); t != "" {
		sp := hlsSpace(r.URL.Path)
		id, terr, err := a.adm.Tickets.Verify(t, sp)
		switch {
		case err == nil:
			if a.adm.Listeners != nil {
				a.adm.Listeners.Seen(sp, id)
			}
			if !a.viewMatches(w, r, sp, terr, true) {
				return
			}
			a.media.ServeHTTP(w, r)
			return
		case !errors.Is(err, admission.ErrTicketExpired):
			a.fail(w, r, newError(http.StatusUnauthorized, "bad_ticket", ticketMessage(err)))
			return
		}
	}
	if !a.viewMatches(w, r, hlsSpace(r.URL.Path), "", false) {
		return
	}
	a.media.ServeHTTP(w, r)
}
