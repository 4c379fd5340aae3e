package dsa_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/dsa/dsatest"
	"github.com/podium-live/podium/internal/store"
)

func stmt(puid string) *dsa.Statement {
	return &dsa.Statement{
		DecisionVisibility: []string{dsa.DecisionVisibilityContentDisabled}, DecisionGround: dsa.DecisionGroundIncompatibleContent,
		IncompatibleContentGround: "ToS 4", IncompatibleContentExplanation: "spam", ContentType: []string{dsa.ContentTypeAudio},
		Category: "STATEMENT_CATEGORY_OTHER_VIOLATION_TC", TerritorialScope: dsa.ScopeEEA(nil), ContentDate: "2026-01-01",
		ApplicationDate: "2026-01-02", DecisionFacts: "passage withheld", SourceType: dsa.SourceVoluntary,
		AutomatedDetection: dsa.No, AutomatedDecision: dsa.AutomatedDecisionNotAutomated, PUID: puid,
	}
}

type results struct {
	mu sync.Mutex
	m  map[string]string
}

func (r *results) on(p, o string) { r.mu.Lock(); r.m[p] = o; r.mu.Unlock() }
func (r *results) n() int         { r.mu.Lock(); defer r.mu.Unlock(); return len(r.m) }

func run(t *testing.T, srv *dsatest.Server, out dsa.Outbox, token string, n int, until func(*dsa.Submitter, *results) bool) (*dsa.Submitter, *results) {
	r := &results{m: map[string]string{}}
	sub := dsa.NewSubmitter(dsa.SubmitterConfig{Endpoint: srv.URL, Token: token, OnResult: r.on, Poll: 20 * time.Millisecond}, out)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { sub.Run(ctx) })
	for i := range n {
		if err := sub.Enqueue(ctx, stmt(fmt.Sprintf("p%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for !until(sub, r) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	return sub, r
}

func TestSubmitBatchesThrottleAndDuplicates(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := dsatest.New("tok")
	defer srv.Close()
	srv.Stored["p007"] = 1 // already in the database
	srv.Throttle = 1
	start := time.Now()
	_, r := run(t, srv, st, "tok", 250, func(_ *dsa.Submitter, r *results) bool { return r.n() == 250 })
	if srv.Throttle != 0 || time.Since(start) < time.Second {
		t.Errorf("the 429's Retry-After: 1 was not honoured (throttle left %d, took %v)", srv.Throttle, time.Since(start))
	}
	if r.n() != 250 {
		t.Fatalf("%d results, want 250", r.n())
	}
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	for i := range 250 {
		if c := srv.Stored[fmt.Sprintf("p%03d", i)]; c != 1 {
			t.Errorf("p%03d stored %d times", i, c)
		}
	}
	for _, b := range srv.Batches {
		if b > 100 {
			t.Errorf("batch of %d", b)
		}
	}
	if p, _ := st.TakePending(context.Background(), 100); len(p) != 0 {
		t.Errorf("%d still pending", len(p))
	}
}

func r0(srv *dsatest.Server) int {
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	return len(srv.Stored)
}

func TestSubmitStopsOn401(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := dsatest.New("tok")
	defer srv.Close()
	sub, _ := run(t, srv, st, "wrong", 3, func(s *dsa.Submitter, _ *results) bool { return s.Status().Stopped })
	if s := sub.Status(); !s.Stopped || s.Alert == "" {
		t.Errorf("status after 401: %+v", s)
	}
	if p, _ := st.TakePending(context.Background(), 100); len(p) != 3 {
		t.Errorf("%d pending after 401, want 3 kept", len(p))
	}
}

// TestSubmitCrashMidBatch: the database stored a batch but the connection
// dropped before the answer; a submitter restarted on the same SQLite
// outbox resends it and every statement is stored exactly once.
func TestSubmitCrashMidBatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	st, err := store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	srv := dsatest.New("tok")
	defer srv.Close()
	srv.DropAfter = 1
	run(t, srv, st, "tok", 30, func(*dsa.Submitter, *results) bool { return r0(srv) > 0 })
	st.Close()
	st, err = store.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, r := run(t, srv, st, "tok", 0, func(_ *dsa.Submitter, r *results) bool {
		p, _ := st.TakePending(context.Background(), 100)
		return len(p) == 0
	})
	_ = r
	srv.Mu.Lock()
	defer srv.Mu.Unlock()
	for i := range 30 {
		if c := srv.Stored[fmt.Sprintf("p%03d", i)]; c != 1 {
			t.Errorf("p%03d stored %d times", i, c)
		}
	}
}

// TestSubmitRejectedDroppedRestResent: a statement the database refuses
// (422, not a duplicate) is dropped and alerted; the rest of its batch is
// resent and stored.
func TestSubmitRejectedDroppedRestResent(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Enqueue(context.Background(), "bad", []byte(`{"puid":"bad"}`)); err != nil {
		t.Fatal(err)
	}
	srv := dsatest.New("tok")
	defer srv.Close()
	sub, r := run(t, srv, st, "tok", 5, func(_ *dsa.Submitter, r *results) bool { return r.n() == 6 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m["bad"] != dsa.OutcomeRejected || r.m["p000"] != dsa.OutcomeSubmitted {
		t.Errorf("outcomes: %v", r.m)
	}
	if s := sub.Status(); s.Rejected != 1 || s.Alert == "" || s.Stopped {
		t.Errorf("status: %+v", s)
	}
	if r0(srv) != 5 {
		t.Errorf("stored %d, want 5", r0(srv))
	}
}
