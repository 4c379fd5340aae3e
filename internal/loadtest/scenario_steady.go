package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// runSteady holds cfg.Listeners listeners for the duration.
func runSteady(ctx context.Context, e *env) (map[string]any, error) {
	e.setPhase("steady")
	e.startListeners(ctx, e.cfg.Listeners, "base", spreadFor(e.cfg.Listeners, e.cfg.Duration))
	e.waitUntil(ctx, e.cfg.Duration)
	return nil, nil
}

// runRamp goes linearly from cfg.From to cfg.To listeners over the duration.
func runRamp(ctx context.Context, e *env) (map[string]any, error) {
	e.setPhase("ramp")
	e.group("base")
	running := 0
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		el := time.Since(e.start)
		if el >= e.cfg.Duration {
			break
		}
		want := e.cfg.From + int(float64(e.cfg.To-e.cfg.From)*el.Seconds()/e.cfg.Duration.Seconds())
		for ; running < want; running++ {
			e.pool.start(ctx, "base")
		}
		for ; running > want; running-- {
			e.pool.stopNewest()
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.C:
		}
	}
	return map[string]any{"from": e.cfg.From, "to": e.cfg.To}, nil
}

// capacityStep is one step of the capacity search.
type capacityStep struct {
	Listeners int     `json:"listeners"`
	Goodput   float64 `json:"goodput"`
	P99PartMs float64 `json:"p99_part_ms"`
	CPU       float64 `json:"server_cpu_pct"`
	RSSMB     float64 `json:"server_rss_mb"`
	Pass      bool    `json:"pass"`
	Why       string  `json:"why,omitempty"`
}

// runCapacity adds listeners in steps until goodput falls under 99%, p99
// part latency exceeds a part duration, or file descriptors run out; the
// last passing step is the capacity C. Then it probes join rates at that
// load for the highest rate answered within 500 ms at p99.
func runCapacity(ctx context.Context, e *env) (map[string]any, error) {
	partDur := e.partDuration(ctx)
	step := e.cfg.Step
	n := e.cfg.From
	if n <= 0 {
		n = step
	}
	ceiling := e.cfg.To
	if ceiling <= 0 {
		ceiling = MaxConns - 500
	}
	probeTime := 20 * time.Second // kept for the join-rate probe
	var steps []capacityStep
	c, running, stop := 0, 0, ""
	for n <= ceiling {
		if time.Since(e.start)+e.cfg.StepTime+probeTime > e.cfg.Duration {
			stop = "duration"
			break
		}
		if free := fdsFree(); free >= 0 && free < (n-running)*2+200 {
			stop = "file descriptors"
			break
		}
		e.setPhase(fmt.Sprintf("%d", n))
		stepStart := time.Since(e.start)
		e.startListeners(ctx, n-running, "base", spreadFor(n-running, e.cfg.StepTime))
		running = n
		if !e.waitUntil(ctx, stepStart+e.cfg.StepTime) {
			break
		}
		// Judge the second half of the step: joins have settled.
		s := e.judge(stepStart+e.cfg.StepTime/2, partDur)
		s.Listeners = n
		steps = append(steps, s)
		if !s.Pass {
			stop = s.Why
			break
		}
		c = n
		n += step
	}
	for ; running > c && c > 0; running-- {
		e.pool.stopNewest()
	}
	res := map[string]any{"capacity_listeners": c, "steps": steps, "stopped_by": stop, "part_duration_ms": ms(partDur)}
	if ctx.Err() == nil {
		e.setPhase("joinrate")
		rate, probes := e.probeJoinRate(ctx, min(probeTime, time.Until(e.start.Add(e.cfg.Duration))))
		res["sustainable_joins_per_s"] = rate
		res["join_rate_probes"] = probes
	}
	return res, nil
}

// judge sums up the series since from.
func (e *env) judge(from time.Duration, partDur time.Duration) capacityStep {
	e.mu.Lock()
	defer e.mu.Unlock()
	var s capacityStep
	var li, sl, n float64
	for _, p := range e.series {
		if p.T < from.Seconds() {
			continue
		}
		li += p.Listened
		sl += p.Stalled
		s.CPU += p.CPU
		s.RSSMB = max(s.RSSMB, p.RSSMB)
		s.P99PartMs = max(s.P99PartMs, p.P99PartMs) // worst second
		n++
	}
	s.Goodput = 1
	if li > 0 {
		s.Goodput = (li - sl) / li
	}
	if n > 0 {
		s.CPU /= n
	}
	switch {
	case s.Goodput < 0.99:
		s.Why = fmt.Sprintf("goodput %.2f%% < 99%%", 100*s.Goodput)
	case s.P99PartMs > ms(partDur):
		s.Why = fmt.Sprintf("p99 part latency %.0fms > part duration", s.P99PartMs)
	default:
		s.Pass = true
	}
	return s
}

// partDuration reads PART-TARGET from the space's playlist (200 ms if
// that fails).
func (e *env) partDuration(ctx context.Context) time.Duration {
	if m, err := e.fetchPlaylist(ctx, http.DefaultClient, ""); err == nil && m.PartInf != nil {
		return m.PartInf.PartTarget
	}
	return 200 * time.Millisecond
}

// fetchPlaylist GETs the space's media playlist (with query q) from the node.
func (e *env) fetchPlaylist(ctx context.Context, hc *http.Client, q string) (*playlist.Media, error) {
	u := e.node.String() + e.playlistPath("")
	if q != "" {
		u += "?" + q
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("loadtest: playlist: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		return nil, fmt.Errorf("loadtest: not a media playlist")
	}
	return m, nil
}

// fdsFree is how many more files this process may open (-1: unknown).
func fdsFree() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return -1
	}
	s, err := SampleProc(syscall.Getpid())
	if err != nil {
		return -1
	}
	return int(rl.Cur) - s.FDs
}
