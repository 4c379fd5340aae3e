package httpapi

import (
	"errors"
	"github.com/podium-live/podium/internal/policy"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/space"
)

// Admission is what the join route, media and classification need from
// the admission layer. A nil Manager means protections are off: every join
// gets a ticket at once.
type Admission struct {
	Tickets    *admission.Tickets
	Lines      *admission.Lines
	Challenger *admission.Challenger
	Manager    *admission.Manager
	Limiter    *admission.Limiter
	// Listeners counts the tickets seen in media requests and the joins
	// admitted; nil counts nothing.
	Listeners *admission.Listeners
	// Credentials verifies bearer tokens for Classify; nil classifies every
	// credential as anonymous.
	Credentials Verifier

	admitted, queued, challenged, refused atomic.Uint64
}

// AdmissionCounts are the join route's counters.
type AdmissionCounts struct{ Admitted, Queued, Challenged, Refused uint64 }

// Counts returns the join route's counters.
func (ad *Admission) Counts() AdmissionCounts {
	return AdmissionCounts{ad.admitted.Load(), ad.queued.Load(), ad.challenged.Load(), ad.refused.Load()}
}

// ticketMessage is an admission error as a user reads it.
func ticketMessage(err error) string { return strings.TrimPrefix(err.Error(), "admission: ") }

// maxJoinBody bounds a join request body.
const maxJoinBody = 4 << 10

type joinRequest struct {
	QueueToken string `json:"queue_token"`
	Ticket     string `json:"ticket"`
	PoW        *struct {
		Challenge string `json:"challenge"`
		Nonce     string `json:"nonce"`
	} `json:"pow"`
}

func (a *API) join(w http.ResponseWriter, r *http.Request) {
	ad := a.adm
	id := r.PathValue("id")
	state, err := a.svc.SpaceState(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if state == space.Ended {
		a.fail(w, r, space.ErrEnded)
		return
	}
	var req joinRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJoinBody))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if len(body) > 0 {
		if err := decodeJSON(body, &req); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	now := time.Now()
	// Renewals of a valid ticket are always admitted and keep its id: the
	// same listener.
	if req.Ticket != "" {
		tok, exp, territory, err := ad.Tickets.Renew(req.Ticket, id)
		if err != nil {
			ad.refused.Add(1)
			a.fail(w, r, newError(http.StatusUnauthorized, "bad_ticket", ticketMessage(err)))
			return
		}
		a.writeTicket(w, r, id, tok, exp, territory)
		return
	}
	line, err := ad.Lines.Get(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// A proof of work sent along is checked first (each challenge works
	// once); whether one is needed is the line's decision, which
	// remembers in the queue token that its holder solved one.
	proved := false
	if req.PoW != nil {
		if err := ad.Challenger.Verify(id, req.PoW.Challenge, req.PoW.Nonce); err != nil {
			ad.refused.Add(1)
			a.challenge(w, id, ticketMessage(err))
			return
		}
		proved = true
	}
	var d admission.Decision
	if req.QueueToken != "" {
		d, err = line.Wait(req.QueueToken, proved, now)
	} else {
		d, err = line.Join(proved, now)
	}
	switch {
	case errors.Is(err, admission.ErrProofNeeded):
		a.challenge(w, id, ticketMessage(err))
		return
	case err != nil:
		ad.refused.Add(1)
		a.fail(w, r, newError(http.StatusUnauthorized, "bad_queue_token", ticketMessage(err)))
		return
	}
	if d.Admit {
		territory := a.territory(r)
		tok, tid, exp := ad.Tickets.Issue(id, territory)
		if ad.Listeners != nil {
			ad.Listeners.Admitted(id, tid)
		}
		a.writeTicket(w, r, id, tok, exp, territory)
		return
	}
	ad.queued.Add(1)
	retry := max(1, int(d.RetryAfter.Round(time.Second)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	doc := map[string]any{
		"queued": true, "position": d.Position, "queue_token": d.QueueToken, "retry_after": retry,
		"estimate_seconds": nil,
		"estimate_reason":  "the node is full and nobody has been let in lately: the line moves when listeners leave",
	}
	if d.Moving {
		doc["estimate_seconds"] = max(1, int(d.Estimate.Round(time.Second)/time.Second))
		delete(doc, "estimate_reason")
	}
	writeJSON(w, http.StatusAccepted, doc)
}

// writeTicket answers a ticket with the listener's territory and the view
// the policy in force now gives it: a renewal answers the current view, so
// a player learns from its next renewal that its view changed.
func (a *API) writeTicket(w http.ResponseWriter, r *http.Request, id, tok string, exp time.Time, territory policy.Territory) {
	a.adm.admitted.Add(1)
	view := a.view(id, territory)
	writeJSON(w, http.StatusOK, map[string]any{
		"ticket": tok, "expires_at": exp.UTC().Format(time.RFC3339),
		"territory": string(territory), "view": view, "playlist_url": a.base(r) + livePlaylist(id, view),
	})
}

// territory resolves a request's territory (no resolver: unknown).
func (a *API) territory(r *http.Request) policy.Territory {
	if a.territories == nil {
		return policy.Unknown
	}
	return a.territories.Territory(r)
}

// view is the id of the view space's policy gives territory now.
func (a *API) view(space string, territory policy.Territory) string {
	if a.policies == nil {
		return policy.None
	}
	return a.policies.Policy(space).For(territory).ID
}

// livePlaylist is the live playlist path of a view. View 0 keeps the
// path without a view, which the media routes read as view 0 too, so
// players and caches of the unrestricted audience share one URL with
// everything from before views.
func livePlaylist(space, view string) string {
	if view == policy.None {
		return "/hls/" + space + "/index.m3u8"
	}
	return "/hls/" + space + "/" + view + "/index.m3u8"
}

func (a *API) challenge(w http.ResponseWriter, id, why string) {
	a.adm.challenged.Add(1)
	writeJSON(w, http.StatusUnauthorized, map[string]any{
		"error": why, "code": "challenge", "challenge": a.adm.Challenger.Challenge(id),
	})
}

// TicketHeader carries a listener's ticket on media requests.
const TicketHeader = "X-Podium-Ticket"
