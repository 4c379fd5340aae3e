package loadtest

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Source-address ranges, so that each kind of client looks like its own
// set of networks: listeners from index 0, the rest far above.
const (
	srcProbes = 20000
	srcJunk   = 40000
	srcSlow   = 60000
	srcReload = 80000
)

// runJoinStorm keeps cfg.Listeners base listeners playing and, after a
// baseline third, sends a storm of cfg.Rate joins a second for cfg.Storm.
// Every storm join is a listener that then plays.
func runJoinStorm(ctx context.Context, e *env) (map[string]any, error) {
	d := e.cfg.Duration
	base := e.cfg.Listeners
	stormAt := d / 3
	storm := min(e.cfg.Storm, d-stormAt-time.Second)
	rate := e.cfg.Rate
	if rate <= 0 {
		rate = 100
	}
	maxStorm := MaxConns - base - 100
	e.setPhase("baseline")
	e.group("storm")
	e.startListeners(ctx, base, "base", spreadFor(base, stormAt))
	if !e.waitUntil(ctx, stormAt) {
		return nil, nil
	}
	l0, s0 := e.groupTotals("base")
	e.setPhase("storm")
	started := 0
	t := time.NewTicker(10 * time.Millisecond)
	for el := time.Since(e.start); el < stormAt+storm && started < maxStorm && ctx.Err() == nil; el = time.Since(e.start) {
		want := min(int(rate*(el-stormAt).Seconds()), maxStorm)
		for ; started < want; started++ {
			e.pool.start(ctx, "storm")
		}
		<-t.C
	}
	t.Stop()
	e.waitUntil(ctx, stormAt+storm+time.Second)
	l1, s1 := e.groupTotals("base")
	e.setPhase("after")
	e.waitUntil(ctx, d)

	g := e.group("storm")
	e.mu.Lock()
	out := map[string]int{}
	answered, errored, timedOut := 0, 0, 0
	for k, v := range g.outcomes {
		out[k] = v
		switch k {
		case outAdmitted, outQueued, outChallenged, outNoAdmit:
			answered += v
		case outTimeout:
			timedOut += v
		default:
			errored += v
		}
	}
	e.mu.Unlock()
	fa := g.firstAnswer.snapshot()
	ad := g.admission.snapshot()
	baseStall := 0.0
	if l1 > l0 {
		baseStall = float64(s1-s0) / float64(l1-l0)
	}
	return map[string]any{
		"storm_joins_started":           started,
		"storm_rate_per_s":              rate,
		"storm_seconds":                 storm.Seconds(),
		"storm_first_answers":           out,
		"storm_answered":                answered,
		"storm_errored":                 errored,
		"storm_timed_out":               timedOut,
		"storm_no_answer_yet":           started - answered - errored - timedOut,
		"storm_p99_first_answer_ms":     fa.quantiles().P99,
		"storm_time_to_admission":       ad.quantiles(),
		"base_stall_ratio_during_storm": baseStall,
		"base_goodput_during_storm":     1 - baseStall,
	}, nil
}

// joinProbe is one rate step of the join-rate probe.
type joinProbe struct {
	Rate     float64   `json:"rate_per_s"`
	Sent     int64     `json:"sent"`
	Answered int64     `json:"answered"` // admitted, queued or challenged
	Errors   int64     `json:"errors"`
	Latency  Quantiles `json:"latency"`
	Pass     bool      `json:"pass"`
}

// probeJoinRate sends joins (each on a new connection from a new source,
// as a new listener would) at rising rates, and returns the highest rate
// whose joins were answered within 500 ms at p99 with under 1% errors.
// Without a join route it probes the first playlist fetch instead.
func (e *env) probeJoinRate(ctx context.Context, budget time.Duration) (float64, []joinProbe) {
	rates := []float64{10, 25, 50, 100, 200, 400, 800, 1600}
	each := max(budget/time.Duration(len(rates))-500*time.Millisecond, time.Second)
	var probes []joinProbe
	best := 0.0
	src := int64(srcProbes)
	for _, rate := range rates {
		if ctx.Err() != nil || time.Duration(len(probes)+1)*(each+500*time.Millisecond) > budget+time.Second {
			break
		}
		var h hist
		var sent, answered, errs atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		tk := time.NewTicker(10 * time.Millisecond)
		issued := 0
		for el := time.Duration(0); el < each && ctx.Err() == nil; el = time.Since(t0) {
			for want := int(rate * el.Seconds()); issued < want; issued++ {
				src++
				wg.Add(1)
				go func(src int) {
					defer wg.Done()
					sent.Add(1)
					ok, d := e.probeOnce(ctx, src)
					h.Record(d)
					if ok {
						answered.Add(1)
					} else {
						errs.Add(1)
					}
				}(int(src))
			}
			<-tk.C
		}
		tk.Stop()
		wg.Wait()
		c := h.snapshot()
		p := joinProbe{Rate: rate, Sent: sent.Load(), Answered: answered.Load(), Errors: errs.Load(), Latency: c.quantiles()}
		p.Pass = p.Sent > 0 && p.Latency.P99 < 500 && float64(p.Errors) < 0.01*float64(p.Sent) && float64(p.Sent) >= 0.8*rate*each.Seconds()
		probes = append(probes, p)
		if !p.Pass {
			break
		}
		best = rate
	}
	return best, probes
}

// probeOnce is one new listener's first request: a join, or (without
// admission) the playlist.
func (e *env) probeOnce(ctx context.Context, src int) (bool, time.Duration) {
	tr := newTransport(JoinerSource(src))
	tr.DisableKeepAlives = true
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	t0 := time.Now()
	if e.noAdmission.Load() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.node.String()+e.playlistPath(""), nil)
		resp, err := hc.Do(req)
		if err != nil {
			return false, time.Since(t0)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, time.Since(t0)
	}
	status, _, a, err := postJoin(ctx, hc, e.node.JoinPath("api", "spaces", e.spaceID, "join").String(), struct{}{})
	d := time.Since(t0)
	switch classifyJoin(status, a, err) {
	case outAdmitted, outQueued, outChallenged:
		return true, d
	case outNoAdmit:
		e.noAdmission.Store(true)
		return true, d
	}
	return false, d
}
