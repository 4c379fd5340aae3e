package httpapi

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/space"
)

// Admission is what the join route needs from the admission layer. A nil
// Manager means protections are off: every join gets a ticket at once.
type Admission struct {
	Tickets    *admission.Tickets
	Rooms      *admission.Rooms
	Challenger *admission.Challenger
	Manager    *admission.Manager
	Limiter    *admission.Limiter

	admitted, queued, challenged, refused atomic.Uint64
}

// AdmissionCounts are the join route's counters.
type AdmissionCounts struct{ Admitted, Queued, Challenged, Refused uint64 }

// Counts returns the join route's counters.
func (ad *Admission) Counts() AdmissionCounts {
	return AdmissionCounts{ad.admitted.Load(), ad.queued.Load(), ad.challenged.Load(), ad.refused.Load()}
}

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
	// Renewals of a valid ticket are always admitted.
	if req.Ticket != "" {
		if err := ad.Tickets.Check(req.Ticket, id); err != nil {
			ad.refused.Add(1)
			a.fail(w, r, newError(http.StatusUnauthorized, "bad_ticket", err.Error()))
			return
		}
		a.admit(w, r, id)
		return
	}
	room, err := ad.Rooms.Get(id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var d admission.Decision
	if req.QueueToken != "" {
		// A queue token proves the holder passed any challenge when it
		// first joined.
		if d, err = room.Wait(req.QueueToken, now); err != nil {
			ad.refused.Add(1)
			a.fail(w, r, newError(http.StatusUnauthorized, "bad_queue_token", err.Error()))
			return
		}
	} else {
		if ad.Manager != nil && ad.Manager.Attack() {
			if req.PoW == nil {
				a.challenge(w, id, "attack mode: solve the challenge to join")
				return
			}
			if err := ad.Challenger.Verify(id, req.PoW.Challenge, req.PoW.Nonce); err != nil {
				ad.refused.Add(1)
				a.challenge(w, id, err.Error())
				return
			}
		}
		d = room.Join(now)
	}
	if d.Admit {
		a.admit(w, r, id)
		return
	}
	ad.queued.Add(1)
	retry := max(1, int(d.RetryAfter.Round(time.Second)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(retry))
	writeJSON(w, http.StatusAccepted, map[string]any{
		"queued": true, "position": d.Position, "estimate_seconds": int(d.Estimate.Round(time.Second) / time.Second),
		"queue_token": d.QueueToken, "retry_after": retry,
	})
}

func (a *API) admit(w http.ResponseWriter, r *http.Request, id string) {
	tok, exp := a.adm.Tickets.Issue(id)
	a.adm.admitted.Add(1)
	writeJSON(w, http.StatusOK, map[string]any{
		"ticket": tok, "expires_at": exp.UTC().Format(time.RFC3339), "playlist_url": a.base(r) + "/hls/" + id + "/index.m3u8",
	})
}

func (a *API) challenge(w http.ResponseWriter, id, why string) {
	a.adm.challenged.Add(1)
	writeJSON(w, http.StatusUnauthorized, map[string]any{
		"error": why, "code": "challenge", "challenge": a.adm.Challenger.Challenge(id),
	})
}

// TicketHeader carries a listener's ticket on media requests.
const TicketHeader = "X-Podium-Ticket"
