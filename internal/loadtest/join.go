package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/podium-live/podium/internal/admission"
)

// Backoff is capped exponential backoff with full jitter: the delay before
// retry number attempt (0-based) is uniform in [0, min(Base·2^attempt,
// Cap)), and never shorter than the server's Retry-After.
type Backoff struct {
	Base, Cap time.Duration
	// Rand returns a uniform integer in [0, n); nil means math/rand/v2.
	Rand func(n int64) int64
}

// defaultBackoff is what listeners use: the web player's restart policy
// (web/src/listen.js), so the retry storm measures what browsers would do.
var defaultBackoff = Backoff{Base: time.Second, Cap: 9 * time.Second}

// Delay is the wait before retry attempt, honouring retryAfter.
func (b Backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	ceil := b.Cap
	if attempt < 30 && b.Base<<attempt < b.Cap && b.Base<<attempt > 0 {
		ceil = b.Base << attempt
	}
	rnd := b.Rand
	if rnd == nil {
		rnd = rand.Int64N
	}
	d := time.Duration(0)
	if ceil > 0 {
		d = time.Duration(rnd(int64(ceil)))
	}
	return max(d, retryAfter)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP
// date (relative to now). Malformed or absent: 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), time.Hour)
	}
	return 0
}

// sleepCtx waits d or until ctx ends (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// joinAnswer is the union of the join endpoint's answers.
type joinAnswer struct {
	Ticket      string    `json:"ticket"`
	ExpiresAt   time.Time `json:"expires_at"`
	PlaylistURL string    `json:"playlist_url"`

	Queued     bool   `json:"queued"`
	Position   int    `json:"position"`
	QueueToken string `json:"queue_token"`
	RetryAfter int    `json:"retry_after"`

	Code      string `json:"code"`
	Error     string `json:"error"`
	Challenge struct {
		Challenge  string `json:"challenge"`
		Difficulty int    `json:"difficulty"`
	} `json:"challenge"`
}

// postJoin does one POST to the join endpoint.
func postJoin(ctx context.Context, hc *http.Client, u string, body any) (int, time.Duration, *joinAnswer, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return 0, 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	var a joinAnswer
	if len(raw) > 0 && raw[0] == '{' {
		json.Unmarshal(raw, &a)
	}
	return resp.StatusCode, ra, &a, nil
}

// Join outcomes, by the first answer a join got.
const (
	outAdmitted   = "admitted"
	outQueued     = "queued"
	outChallenged = "challenged"
	outShed       = "shed"    // 429 or 503
	outError      = "error"   // network error or unexpected status
	outTimeout    = "timeout" // no answer in time
	outNoAdmit    = "open"    // the node has no join route: played without a ticket
)

var errNoAdmission = errors.New("loadtest: the node has no join endpoint")

// joinResult is how a listener got in.
type joinResult struct {
	ticket     *ticket
	playlist   string        // path (and query) of the playlist to play
	first      string        // outcome of the first answer
	firstAfter time.Duration // time to the first answer (any HTTP answer)
}

// join runs the admission protocol until admitted (or the node has no
// join route), honouring the waiting room, challenges and Retry-After.
// firstTimeout bounds the wait for the first answer.
func (l *listener) join(ctx context.Context) (joinResult, error) {
	var res joinResult
	e := l.e
	u := e.base.JoinPath("api", "spaces", e.spaceID, "join").String()
	var body any = struct{}{}
	start := time.Now()
	for attempt := 0; ; {
		rctx, cancel := context.WithTimeout(ctx, e.joinTimeout)
		e.st.joinPosts.Add(1)
		status, ra, a, err := postJoin(rctx, l.raw, u, body)
		cancel()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if res.first == "" {
			res.first, res.firstAfter = classifyJoin(status, a, err), time.Since(start)
			e.recordFirst(l.group, res.first, res.firstAfter)
		}
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			e.st.joinErrors.Add(1)
		case status == http.StatusOK && a.Ticket != "":
			res.ticket = &ticket{token: a.Ticket, issued: time.Now(), expires: a.ExpiresAt}
			res.playlist = e.playlistPath(a.PlaylistURL)
			return res, nil
		case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
			e.noAdmission.Store(true)
			res.playlist = e.playlistPath("")
			return res, errNoAdmission
		case status == http.StatusAccepted && a.QueueToken != "":
			e.st.joinQueued.Add(1)
			l.setState(stateQueued)
			body = map[string]string{"queue_token": a.QueueToken}
			wait := max(ra, time.Duration(a.RetryAfter)*time.Second, 500*time.Millisecond)
			// A little jitter so a queue's waiters do not return in step.
			wait += time.Duration(rand.Int64N(int64(wait/10) + 1))
			if !sleepCtx(ctx, wait) {
				return res, ctx.Err()
			}
			continue // polling the queue is not a failure: no backoff growth
		case status == http.StatusUnauthorized && a.Code == "challenge":
			e.st.joinChallenges.Add(1)
			nonce, err := admission.Solve(ctx, admission.Challenge{Challenge: a.Challenge.Challenge, Difficulty: a.Challenge.Difficulty})
			if err != nil {
				return res, err
			}
			pow := map[string]string{"challenge": a.Challenge.Challenge, "nonce": nonce}
			if q, ok := body.(map[string]string); ok && q["queue_token"] != "" {
				// A waiter asked for a proof keeps their place.
				body = map[string]any{"queue_token": q["queue_token"], "pow": pow}
			} else {
				body = map[string]any{"pow": pow}
			}
			continue
		case status == http.StatusUnauthorized:
			// Stale queue token or challenge: start over.
			e.st.joinErrors.Add(1)
			body = struct{}{}
		default:
			e.st.joinErrors.Add(1)
		}
		if !sleepCtx(ctx, defaultBackoff.Delay(attempt, ra)) {
			return res, ctx.Err()
		}
		attempt++
	}
}

// classifyJoin names the outcome of one join answer.
func classifyJoin(status int, a *joinAnswer, err error) string {
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		return outTimeout
	case err != nil:
		return outError
	case status == http.StatusOK:
		return outAdmitted
	case status == http.StatusAccepted:
		return outQueued
	case status == http.StatusUnauthorized && a.Code == "challenge":
		return outChallenged
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		return outNoAdmit
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return outShed
	}
	return outError
}

// renew renews the listener's ticket; renewals are always admitted.
func (l *listener) renew(ctx context.Context, t *ticket) {
	u := l.e.base.JoinPath("api", "spaces", l.e.spaceID, "join").String()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	status, _, a, err := postJoin(rctx, l.raw, u, map[string]string{"ticket": t.token})
	if err != nil || status != http.StatusOK || a.Ticket == "" {
		l.e.st.renewErrors.Add(1)
		return
	}
	l.e.st.renewals.Add(1)
	l.ticket.Store(&ticket{token: a.Ticket, issued: time.Now(), expires: a.ExpiresAt})
}
