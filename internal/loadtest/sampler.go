package loadtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Point is one second of a run.
type Point struct {
	T              float64            `json:"t"` // seconds since the start
	Phase          string             `json:"phase,omitempty"`
	Active         int64              `json:"active"`
	Playing        int64              `json:"playing"`
	Queued         int64              `json:"queued"`
	JoinsPerSec    float64            `json:"joins_per_s"`
	RequestsPerSec float64            `json:"requests_per_s"`
	Listened       float64            `json:"listened_s"` // listening seconds in this interval
	Stalled        float64            `json:"stalled_s"`
	Goodput        float64            `json:"goodput"` // this interval; -1 when nobody listened
	GoodputTotal   float64            `json:"goodput_total"`
	P99PartMs      float64            `json:"p99_part_ms"`
	Errors         int64              `json:"errors"`
	CPU            float64            `json:"server_cpu_pct"`
	RSSMB          float64            `json:"server_rss_mb"`
	Threads        int                `json:"server_threads"`
	FDs            int                `json:"server_fds"`
	Goroutines     int                `json:"server_goroutines,omitempty"`
	ToolCPU        float64            `json:"tool_cpu_pct"` // this process: when it nears 100% per core, the tool is the bottleneck
	Extra          map[string]float64 `json:"extra,omitempty"`
	Stage          StageStats         `json:"stage"`
}

// samplerState is what the sampler carries from one second to the next;
// guarded by env.mu.
type samplerState struct {
	prev, prevSelf    ProcSample
	prevAt            time.Time
	joins, reqs, errs int64
	listened, stalled time.Duration
	total             counts // every part latency
	procErr           error
}

// sampleLoop samples once a second and prints a progress line.
func (e *env) sampleLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p := e.sample(now)
			if e.cfg.Progress != nil {
				fmt.Fprintln(e.cfg.Progress, e.progressLine(p))
			}
		}
	}
}

// sample accounts every listener up to now and appends a Point.
func (e *env) sample(now time.Time) Point {
	type acc struct {
		listened, stalled time.Duration
		stalls            int
	}
	per := map[string]*acc{}
	var li, sl time.Duration
	for _, l := range e.pool.snapshot() {
		a, s, n := l.account(now)
		if per[l.group] == nil {
			per[l.group] = &acc{}
		}
		g := per[l.group]
		g.listened += a
		g.stalled += s
		g.stalls += n
		li += a
		sl += s
	}
	lat := e.st.partLat.take()
	proc, perr := SampleProc(e.pid)
	self, _ := SampleProc(os.Getpid())
	m := e.scrapeMetrics()
	gor := int(m["go_goroutines"])

	e.mu.Lock()
	defer e.mu.Unlock()
	for name, a := range per {
		g := e.groups[name]
		if g == nil {
			g = &group{outcomes: map[string]int{}}
			e.groups[name] = g
		}
		g.listened += a.listened
		g.stalled += a.stalled
		g.stalls += a.stalls
	}
	s := &e.sampler
	s.total.add(lat)
	if n := len(e.phases); n > 0 {
		e.phases[n-1].lat.add(lat)
	}
	s.listened += li
	s.stalled += sl
	dt := now.Sub(s.prevAt).Seconds()
	if s.prevAt.IsZero() {
		dt = now.Sub(e.start).Seconds()
	}
	dt = max(dt, 1e-3)
	joins, reqs, errs := e.st.joins.Load(), e.st.requests.Load(), e.st.errs()
	p := Point{
		T:              now.Sub(e.start).Seconds(),
		Phase:          e.phaseLocked(),
		Active:         e.st.activeNow.Load(),
		Playing:        e.st.playingNow.Load(),
		Queued:         e.st.queuedNow.Load(),
		JoinsPerSec:    float64(joins-s.joins) / dt,
		RequestsPerSec: float64(reqs-s.reqs) / dt,
		Listened:       li.Seconds(),
		Stalled:        sl.Seconds(),
		Goodput:        -1,
		GoodputTotal:   goodput(s.listened, s.stalled),
		P99PartMs:      ms(lat.quantile(0.99)),
		Errors:         errs - s.errs,
		Goroutines:     gor,
	}
	if li > 0 {
		p.Goodput = goodput(li, sl)
	}
	if perr == nil {
		if !s.prev.At.IsZero() {
			p.CPU = 100 * (proc.CPU - s.prev.CPU).Seconds() / max(proc.At.Sub(s.prev.At).Seconds(), 1e-3)
		}
		p.RSSMB = float64(proc.RSS) / (1 << 20)
		p.Threads, p.FDs = proc.Threads, proc.FDs
		s.prev = proc
	} else {
		s.procErr = perr
	}
	if !s.prevSelf.At.IsZero() && self.At.After(s.prevSelf.At) {
		p.ToolCPU = 100 * (self.CPU - s.prevSelf.CPU).Seconds() / self.At.Sub(s.prevSelf.At).Seconds()
	}
	s.prevSelf = self
	s.prevAt, s.joins, s.reqs, s.errs = now, joins, reqs, errs
	p.Stage = e.sampleStage(now, m)
	if len(per) > 1 || e.extra != nil {
		p.Extra = map[string]float64{}
	}
	if len(per) > 1 {
		for name, a := range per {
			if a.listened > 0 {
				p.Extra["goodput_"+name] = goodput(a.listened, a.stalled)
			}
		}
	}
	if e.extra != nil {
		e.extra(&p)
	}
	e.series = append(e.series, p)
	return p
}

// progressLine is the once-a-second status line.
func (e *env) progressLine(p Point) string {
	gp := "   -  "
	if p.Goodput >= 0 {
		gp = fmt.Sprintf("%5.1f%%", 100*p.Goodput)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%4.0fs] %-10s %-8s listeners %d active/%d playing/%d queued  joins %.0f/s  req %.0f/s  goodput %s (run %.1f%%)  p99 part %.1fms  server cpu %.0f%% rss %.0fMB fds %d thr %d  tool cpu %.0f%%",
		p.T, e.cfg.Scenario, p.Phase, p.Active, p.Playing, p.Queued, p.JoinsPerSec, p.RequestsPerSec, gp, 100*p.GoodputTotal, p.P99PartMs, p.CPU, p.RSSMB, p.FDs, p.Threads, p.ToolCPU)
	if p.Goroutines > 0 {
		fmt.Fprintf(&b, " goroutines %d", p.Goroutines)
	}
	fmt.Fprintf(&b, "  errors %d", p.Errors)
	for _, k := range sortedKeys(p.Extra) {
		fmt.Fprintf(&b, "  %s %.4g", k, p.Extra[k])
	}
	return b.String()
}
