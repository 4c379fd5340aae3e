package loadtest

import (
	"context"
	"sync"
	"time"
)

// runFlood keeps cfg.Listeners playing; after a baseline third it floods
// the node with junk at cfg.Rate requests/s (or cfg.Times × the listeners'
// request rate measured over the baseline's last five seconds) from many
// source addresses, and compares the listeners' goodput with the baseline.
func runFlood(ctx context.Context, e *env) (map[string]any, error) {
	d := e.cfg.Duration
	rate := e.cfg.Rate
	if rate <= 0 {
		rate = 1000
	}
	j := newJunker(ctx, e, e.cfg.Pipeline)
	var prevSent int64
	e.mu.Lock()
	e.extra = func(p *Point) {
		s := j.sent.Load()
		p.Extra["junk_per_s"] = float64(s - prevSent)
		prevSent = s
	}
	e.mu.Unlock()
	e.setPhase("baseline")
	e.startListeners(ctx, e.cfg.Listeners, "base", spreadFor(e.cfg.Listeners, d/3))
	window := min(5*time.Second, d/6)
	if !e.waitUntil(ctx, d/3-window) {
		return nil, nil
	}
	r0, t0 := e.st.requests.Load(), time.Now()
	if !e.waitUntil(ctx, d/3) {
		return nil, nil
	}
	legit := float64(e.st.requests.Load()-r0) / time.Since(t0).Seconds()
	if e.cfg.Times > 0 {
		rate = e.cfg.Times * legit
	}
	e.setPhase("flood")
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); j.run(fctx, rate) }()
	e.waitUntil(ctx, d)
	floodFor := time.Since(e.start) - d/3
	stop()
	wg.Wait()
	res := j.results()
	res["rate_per_s"] = rate
	res["legit_requests_per_s_baseline"] = legit
	res["junk_per_s_achieved"] = float64(j.sent.Load()) / max(floodFor.Seconds(), 1e-3)
	// Sent is what the attacker wrote; answered what the node read and
	// answered (it never parses what was pipelined behind a 429).
	answered := j.lat.snapshot()
	res["junk_answered_per_s"] = float64(answered.n()) / max(floodFor.Seconds(), 1e-3)
	if legit > 0 {
		res["junk_times_legit_achieved"] = float64(j.sent.Load()) / max(floodFor.Seconds(), 1e-3) / legit
	}
	return res, nil
}
