package loadtest

import (
	"context"
	"sync"
)

// runSlow keeps cfg.Listeners playing; after a baseline third it opens
// cfg.Conns slow connections (slowloris and slow readers) and compares the
// listeners' p99 part latency and goodput with the baseline.
func runSlow(ctx context.Context, e *env) (map[string]any, error) {
	d := e.cfg.Duration
	s := newSlowConns(e)
	e.mu.Lock()
	e.extra = func(p *Point) { p.Extra["slow_open"] = float64(s.open.Load()) }
	e.mu.Unlock()
	e.setPhase("baseline")
	e.startListeners(ctx, e.cfg.Listeners, "base", spreadFor(e.cfg.Listeners, d/3))
	if !e.waitUntil(ctx, d/3) {
		return nil, nil
	}
	e.setPhase("slow")
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.run(sctx, min(e.cfg.Conns, MaxConns-e.cfg.Listeners)) }()
	e.waitUntil(ctx, d)
	stop()
	wg.Wait()
	return s.results(), nil
}
