package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/podium-live/podium/internal/admission"
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

// Classify puts a request in its priority class for the overload manager:
// the stage (WHIP, host and speaker actions) is never shed; media requests
// with a valid ticket are existing listeners; joins; everything else
// (media without a ticket, pages, reads) is anonymous and shed first.
func (a *API) Classify(r *http.Request) admission.Class {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/hls/"):
		if t := r.Header.Get(TicketHeader); t != "" && a.adm.Tickets.Check(t, hlsSpace(p)) == nil {
			return admission.ClassListener
		}
		return admission.ClassAnonymous
	case !strings.HasPrefix(p, "/api/spaces/"):
		return admission.ClassAnonymous
	case strings.HasSuffix(p, "/join"):
		return admission.ClassJoin
	case strings.Contains(p, "/whip") || strings.Contains(p, "/speakers/") || r.Header.Get("Authorization") != "":
		// Speakers, hosts and operators acting with a credential.
		return admission.ClassIngest
	}
	return admission.ClassAnonymous
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
// renews it) and hands the rest to the HLS server.
func (a *API) serveMedia(w http.ResponseWriter, r *http.Request) {
	if t := r.Header.Get(TicketHeader); t != "" {
		err := a.adm.Tickets.Check(t, hlsSpace(r.URL.Path))
		if err != nil && !errors.Is(err, admission.ErrTicketExpired) {
			a.fail(w, r, newError(http.StatusUnauthorized, "bad_ticket", err.Error()))
			return
		}
	}
	a.media.ServeHTTP(w, r)
}
