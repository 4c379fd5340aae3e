package loadtest

import (
	"context"
	"sync"
)

// runFlood keeps cfg.Listeners playing; after a baseline third it floods
// the node with junk at cfg.Rate requests/s from many source addresses,
// and compares the listeners' goodput with the baseline.
func runFlood(ctx context.Context, e *env) (map[string]any, error) {
	d := e.cfg.Duration
	rate := e.cfg.Rate
	if rate <= 0 {
		rate = 1000
	}
	j := newJunker(ctx, e)
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
	if !e.waitUntil(ctx, d/3) {
		return nil, nil
	}
	e.setPhase("flood")
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); j.run(fctx, rate) }()
	e.waitUntil(ctx, d)
	stop()
	wg.Wait()
	res := j.results()
	res["rate_per_s"] = rate
	return res, nil
}
