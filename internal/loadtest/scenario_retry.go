package loadtest

import (
	"context"
	"net/url"
	"time"
)

// runRetryStorm puts a proxy between the listeners and the node, and
// after a baseline switches it off for cfg.Outage: every listener loses
// its connection at once and retries. It measures how the retries are
// spread (peak request rate against the steady rate) and how long after
// the outage goodput is back.
func runRetryStorm(ctx context.Context, e *env) (map[string]any, error) {
	p, err := startProxy(e.node.Host)
	if err != nil {
		return nil, err
	}
	defer p.close()
	e.base = &url.URL{Scheme: "http", Host: p.addr}
	d := e.cfg.Duration
	baseline := min(10*time.Second, (d-e.cfg.Outage)/3)
	outEnd := baseline + e.cfg.Outage
	e.setPhase("baseline")
	e.startListeners(ctx, e.cfg.Listeners, "base", spreadFor(e.cfg.Listeners, baseline))
	if !e.waitUntil(ctx, baseline) {
		return nil, nil
	}
	e.setPhase("outage")
	p.off()
	if !e.waitUntil(ctx, outEnd) {
		return nil, nil
	}
	if err := p.on(); err != nil {
		return nil, err
	}
	e.setPhase("recovery")
	e.waitUntil(ctx, d)

	e.mu.Lock()
	defer e.mu.Unlock()
	var steady, steadyMax, n, peakOut, peakAfter float64
	back := -1.0
	run := 0
	for _, pt := range e.series {
		switch {
		case pt.T > baseline.Seconds()/2 && pt.T <= baseline.Seconds():
			steady += pt.RequestsPerSec
			steadyMax = max(steadyMax, pt.RequestsPerSec)
			n++
		case pt.T > baseline.Seconds()+1 && pt.T <= outEnd.Seconds():
			peakOut = max(peakOut, pt.RequestsPerSec)
		case pt.T > outEnd.Seconds():
			peakAfter = max(peakAfter, pt.RequestsPerSec)
			if back < 0 {
				if pt.Goodput >= 0.99 && pt.Playing >= int64(e.cfg.Listeners) {
					run++
					if run == 3 {
						back = pt.T - 2 - outEnd.Seconds()
					}
				} else {
					run = 0
				}
			}
		}
	}
	if n > 0 {
		steady /= n
	}
	res := map[string]any{
		"outage_s": e.cfg.Outage.Seconds(), "outage_start_s": baseline.Seconds(), "outage_end_s": outEnd.Seconds(),
		"steady_requests_per_s": steady, "peak_requests_per_s_during_outage": peakOut,
		"peak_requests_per_s_after_recovery": peakAfter,
		// -1: goodput was not back (3 s at 99% with everyone playing) by the end.
		"seconds_back_to_full_goodput": back,
	}
	if steady > 0 {
		res["peak_after_over_steady"] = peakAfter / steady
		res["peak_during_over_steady"] = peakOut / steady
		// The busiest second of the steady state itself, for scale: the
		// per-second rate of an undisturbed audience is not flat.
		res["steady_peak_over_steady"] = steadyMax / steady
	}
	return res, nil
}
