package dsa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Outcomes passed to OnResult.
const (
	OutcomeSubmitted = "submitted" // stored by the database (or already there)
	OutcomeRejected  = "rejected"  // refused with 422: will not be resent
)

// SubmitterConfig configures a Submitter.
type SubmitterConfig struct {
	Endpoint string // base URL, e.g. https://transparency.dsa.ec.europa.eu
	Token    string // bearer token; never logged
	Client   *http.Client
	Log      *slog.Logger
	// OnResult, if set, is called once per statement with its final outcome.
	OnResult func(puid, outcome string)
	// Poll is how often the outbox is read when idle (default 5 s).
	Poll time.Duration
}

// Status is what the operator can read about submission.
type Status struct {
	Stopped  bool   // a 401/403: nothing is sent until restart with a new token
	Alert    string // the last problem needing the operator, "" when none
	Rejected int    // statements refused with 422 since start
}

// Submitter sends the outbox's statements to the Transparency Database in
// batches of at most 100. Run it in one goroutine; Enqueue from anywhere.
type Submitter struct {
	cfg  SubmitterConfig
	out  Outbox
	wake chan struct{}

	mu     sync.Mutex
	status Status
}

// NewSubmitter returns a Submitter draining out.
func NewSubmitter(cfg SubmitterConfig, out Outbox) *Submitter {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	return &Submitter{cfg: cfg, out: out, wake: make(chan struct{}, 1)}
}

// Enqueue validates st and puts it in the durable outbox (idempotent by
// puid); Run sends it.
func (s *Submitter) Enqueue(ctx context.Context, st *Statement) error {
	if err := st.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.out.Enqueue(ctx, st.PUID, b); err != nil {
		return err
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// Status returns the operator-facing state.
func (s *Submitter) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Submitter) alert(stop bool, msg string, rejected int) {
	s.mu.Lock()
	s.status.Alert = msg
	s.status.Stopped = s.status.Stopped || stop
	s.status.Rejected += rejected
	s.mu.Unlock()
	s.cfg.Log.Error("transparency database", "problem", msg)
}

// Run submits until ctx ends or a 401/403 stops it.
func (s *Submitter) Run(ctx context.Context) {
	backoff := time.Second
	for {
		wait := s.cfg.Poll
		wake := s.wake // a new statement cuts an idle wait short, never a Retry-After or backoff
		batch, err := s.out.TakePending(ctx, 100)
		if err != nil {
			s.cfg.Log.Error("transparency database outbox", "err", err)
		} else if len(batch) > 0 {
			var stop bool
			var retry time.Duration
			stop, retry = s.send(ctx, batch)
			if stop {
				return
			}
			if retry != 0 {
				wake = nil
			}
			if retry > 0 {
				wait = retry
			} else if retry < 0 {
				wait = backoff + rand.N(backoff/2+1)
				backoff = min(backoff*2, 5*time.Minute)
			} else {
				backoff, wait = time.Second, 0
			}
		}
		if wait == 0 {
			if ctx.Err() != nil {
				return
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// send posts one batch. It returns stop for 401/403, and retry > 0 to wait
// that long (Retry-After), < 0 to back off, 0 to go on at once.
func (s *Submitter) send(ctx context.Context, batch []Pending) (stop bool, retry time.Duration) {
	puids := make([]string, len(batch))
	var body bytes.Buffer
	body.WriteString(`{"statements":[`)
	for i, p := range batch {
		puids[i] = p.PUID
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(p.JSON)
	}
	body.WriteString(`]}`)
	if err := s.out.Attempted(ctx, puids); err != nil {
		return false, -1
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint+"/api/v1/statements", &body)
	if err != nil {
		s.alert(true, "bad endpoint: "+err.Error(), 0)
		return true, 0
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return false, -1
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusCreated:
		s.done(ctx, puids, nil)
		return false, 0
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		s.alert(true, fmt.Sprintf("the database refused the token (%d): set a new token and restart", resp.StatusCode), 0)
		return true, 0
	case resp.StatusCode == http.StatusUnprocessableEntity:
		var r struct {
			Errors map[string]json.RawMessage `json:"errors"`
		}
		json.NewDecoder(resp.Body).Decode(&r)
		var existing, bad []string
		for i, p := range batch {
			e, ok := r.Errors["statement_"+strconv.Itoa(i)]
			if !ok {
				continue
			}
			if bytes.Contains(e, []byte("The identifier given is not unique within this platform.")) {
				existing = append(existing, p.PUID)
			} else {
				bad = append(bad, p.PUID)
				s.alert(false, fmt.Sprintf("statement %s rejected: %s", p.PUID, e), 1)
			}
		}
		if len(existing)+len(bad) == 0 { // unreadable 422: the whole batch is refused
			bad = puids
			s.alert(false, "batch rejected with an unreadable 422", len(bad))
		}
		s.done(ctx, existing, nil)
		if len(bad) > 0 {
			if err := s.out.MarkDropped(ctx, bad, "rejected (422)"); err == nil && s.cfg.OnResult != nil {
				for _, p := range bad {
					s.cfg.OnResult(p, OutcomeRejected)
				}
			}
		}
		return false, 0
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		if d := retryAfter(resp.Header.Get("Retry-After")); d > 0 {
			return false, d
		}
		return false, -1
	default:
		return false, -1
	}
}

func (s *Submitter) done(ctx context.Context, puids []string, _ error) {
	if len(puids) == 0 {
		return
	}
	if err := s.out.MarkSubmitted(ctx, puids); err != nil {
		s.cfg.Log.Error("transparency database outbox", "err", err)
		return
	}
	if s.cfg.OnResult != nil {
		for _, p := range puids {
			s.cfg.OnResult(p, OutcomeSubmitted)
		}
	}
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return max(time.Duration(n)*time.Second, time.Millisecond)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), time.Millisecond)
	}
	return 0
}
