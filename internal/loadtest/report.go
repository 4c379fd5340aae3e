package loadtest

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Report is everything a run measured; report.json is this, encoded.
type Report struct {
	Scenario  string    `json:"scenario"`
	Command   string    `json:"command"`
	Started   time.Time `json:"started"`
	DurationS float64   `json:"duration_s"`
	Target    string    `json:"target"`
	Space     string    `json:"space"`
	PID       int       `json:"server_pid"`
	Admission string    `json:"admission"` // "tickets", or "none" when the node has no join route
	Config    Config    `json:"config"`

	// Goodput is stall-free listening time over listening time, for
	// admitted listeners; GoodputOffered counts the time from wanting to
	// listen (join and waiting room included) as offered time.
	Goodput        float64              `json:"goodput"`
	GoodputOffered float64              `json:"goodput_offered"`
	ListenS        float64              `json:"listen_s"`
	StallS         float64              `json:"stall_s"`
	Stalls         int                  `json:"stalls"`
	PartLatency    Quantiles            `json:"part_latency"`
	Groups         map[string]GroupRepo `json:"groups"`
	Phases         []PhaseReport        `json:"phases,omitempty"`
	Counters       map[string]int64     `json:"counters"`
	Server         ServerReport         `json:"server"`
	Stage          StageStats           `json:"stage"` // the speakers, over the run
	Results        map[string]any       `json:"results,omitempty"`
	Errors         map[string]int       `json:"errors,omitempty"`
	Series         []Point              `json:"series"`
}

// GroupRepo is one group of listeners (base, storm, ...).
type GroupRepo struct {
	Listeners   int            `json:"listeners"`
	Goodput     float64        `json:"goodput"`
	ListenS     float64        `json:"listen_s"`
	StallS      float64        `json:"stall_s"`
	Stalls      int            `json:"stalls"`
	Joins       map[string]int `json:"joins"` // by the first answer: admitted, queued, challenged, shed, error, timeout, open
	FirstAnswer Quantiles      `json:"time_to_first_answer"`
	Admission   Quantiles      `json:"time_to_admission"`
}

// PhaseReport sums up one phase (baseline, attack, ...).
type PhaseReport struct {
	Name        string     `json:"name"`
	StartS      float64    `json:"start_s"`
	EndS        float64    `json:"end_s"`
	Goodput     float64    `json:"goodput"`
	PartLatency Quantiles  `json:"part_latency"`
	RequestsPS  float64    `json:"requests_per_s"`
	MaxReqPS    float64    `json:"max_requests_per_s"`
	CPU         float64    `json:"server_cpu_pct"`
	MaxRSSMB    float64    `json:"server_max_rss_mb"`
	Stage       StageStats `json:"stage"`
}

// ServerReport is the server process over the run.
type ServerReport struct {
	MeanCPU  float64 `json:"mean_cpu_pct"`
	MaxCPU   float64 `json:"max_cpu_pct"`
	StartRSS float64 `json:"start_rss_mb"`
	MaxRSS   float64 `json:"max_rss_mb"`
	EndRSS   float64 `json:"end_rss_mb"`
	MaxFDs   int     `json:"max_fds"`
	ToolCPU  float64 `json:"tool_mean_cpu_pct"` // the load tool itself (2 cores = 200%)
	Error    string  `json:"error,omitempty"`
}

// report builds the run's report.
func (e *env) report(results map[string]any) *Report {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &Report{
		Scenario: e.cfg.Scenario, Command: e.cfg.CommandLine, Started: e.start,
		DurationS: now.Sub(e.start).Seconds(), Target: e.node.String(), Space: e.spaceID, PID: e.pid,
		Admission: "tickets", Config: e.cfg, Groups: map[string]GroupRepo{}, Results: results,
		Errors: e.errs, Series: e.series,
	}
	r.Config.Progress = nil
	r.Config.Token = ""
	if e.noAdmission.Load() {
		r.Admission = "none (the node answered 404 on the join route: listeners played without a ticket)"
	}
	r.PartLatency = e.sampler.total.quantiles()
	members := map[string]int{}
	var offered, listened, stalled time.Duration
	for _, l := range e.pool.snapshot() {
		members[l.group]++
		o, li, st := l.offered(now)
		offered += o
		listened += li
		stalled += st
	}
	for name, g := range e.groups {
		fa, ad := g.firstAnswer.snapshot(), g.admission.snapshot()
		r.Groups[name] = GroupRepo{
			Listeners: members[name], Goodput: goodput(g.listened, g.stalled),
			ListenS: g.listened.Seconds(), StallS: g.stalled.Seconds(), Stalls: g.stalls,
			Joins: g.outcomes, FirstAnswer: fa.quantiles(), Admission: ad.quantiles(),
		}
		r.ListenS += g.listened.Seconds()
		r.StallS += g.stalled.Seconds()
		r.Stalls += g.stalls
	}
	r.Goodput = goodput(e.sampler.listened, e.sampler.stalled)
	if offered > 0 {
		r.GoodputOffered = float64(listened-stalled) / float64(offered)
	}
	st := &e.st
	r.Counters = map[string]int64{
		"joins": st.joins.Load(), "join_posts": st.joinPosts.Load(), "join_queued": st.joinQueued.Load(),
		"join_challenges": st.joinChallenges.Load(), "join_errors": st.joinErrors.Load(),
		"renewals": st.renewals.Load(), "renew_errors": st.renewErrors.Load(),
		"requests": st.requests.Load(), "net_errors": st.netErrors.Load(), "status_4xx": st.status4xx.Load(),
		"status_5xx": st.status5xx.Load(), "shed_429_503": st.shed.Load(), "play_errors": st.playErrors.Load(),
	}
	for i, ph := range e.phases {
		end := r.DurationS
		if i+1 < len(e.phases) {
			end = e.phases[i+1].at.Seconds()
		}
		pr := PhaseReport{Name: ph.name, StartS: ph.at.Seconds(), EndS: end, PartLatency: ph.lat.quantiles()}
		var li, sl, n float64
		for _, p := range e.series {
			if p.Phase != ph.name || p.T <= pr.StartS || p.T > end+0.5 {
				continue
			}
			li += p.Listened
			sl += p.Stalled
			pr.RequestsPS += p.RequestsPerSec
			pr.MaxReqPS = max(pr.MaxReqPS, p.RequestsPerSec)
			pr.CPU += p.CPU
			pr.MaxRSSMB = max(pr.MaxRSSMB, p.RSSMB)
			pr.Stage.add(p.Stage)
			n++
		}
		pr.Goodput = 1
		if li > 0 {
			pr.Goodput = (li - sl) / li
		}
		if n > 0 {
			pr.RequestsPS /= n
			pr.CPU /= n
		}
		r.Phases = append(r.Phases, pr)
	}
	for i, p := range e.series {
		if i == 0 {
			r.Server.StartRSS = p.RSSMB
		}
		r.Server.MeanCPU += p.CPU / float64(len(e.series))
		r.Server.MaxCPU = max(r.Server.MaxCPU, p.CPU)
		r.Server.MaxRSS = max(r.Server.MaxRSS, p.RSSMB)
		r.Server.EndRSS = p.RSSMB
		r.Server.MaxFDs = max(r.Server.MaxFDs, p.FDs)
		r.Server.ToolCPU += p.ToolCPU / float64(len(e.series))
		r.Stage.add(p.Stage)
	}
	if e.sampler.procErr != nil {
		r.Server.Error = e.sampler.procErr.Error()
	}
	return r
}

// Write writes summary.txt, report.json and chart.svg into dir.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), j, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(r.Summary()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(r.Chart()), 0o644)
}

// Summary is the human-readable report.
func (r *Report) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "podium loadtest %s — %s\n", r.Scenario, r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "command:   %s\n", r.Command)
	fmt.Fprintf(&b, "target:    %s space %s (server pid %d), %.1fs\n", r.Target, r.Space, r.PID, r.DurationS)
	fmt.Fprintf(&b, "admission: %s\n\n", r.Admission)
	fmt.Fprintf(&b, "goodput (admitted listeners): %.2f%%  (%.0f listening s, %.1f s stalled, %d stalls)\n", 100*r.Goodput, r.ListenS, r.StallS, r.Stalls)
	fmt.Fprintf(&b, "goodput (offered, join and queue time included): %.2f%%\n", 100*r.GoodputOffered)
	fmt.Fprintf(&b, "part latency (to headers): p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms over %d parts\n\n",
		r.PartLatency.P50, r.PartLatency.P90, r.PartLatency.P99, r.PartLatency.Max, r.PartLatency.N)
	for _, name := range sortedKeys(r.Groups) {
		g := r.Groups[name]
		fmt.Fprintf(&b, "listeners %-8s %5d  goodput %.2f%%  stalls %d (%.1fs)\n", name, g.Listeners, 100*g.Goodput, g.Stalls, g.StallS)
		fmt.Fprintf(&b, "  joins by first answer: %s\n", fmtCounts(g.Joins))
		fmt.Fprintf(&b, "  time to first answer: p50 %.1fms p99 %.1fms max %.1fms; to admission: p50 %.1fms p99 %.1fms max %.1fms\n",
			g.FirstAnswer.P50, g.FirstAnswer.P99, g.FirstAnswer.Max, g.Admission.P50, g.Admission.P99, g.Admission.Max)
	}
	if len(r.Phases) > 0 {
		fmt.Fprintf(&b, "\nphases:\n")
		for _, p := range r.Phases {
			fmt.Fprintf(&b, "  %-10s %6.1fs–%6.1fs  goodput %7.3f%%  p99 part %7.2fms  req %6.0f/s (max %.0f)  server cpu %5.1f%%  max rss %.0fMB\n",
				p.Name, p.StartS, p.EndS, 100*p.Goodput, p.PartLatency.P99, p.RequestsPS, p.MaxReqPS, p.CPU, p.MaxRSSMB)
			fmt.Fprintf(&b, "  %-10s stage: %s\n", "", p.Stage)
		}
	}
	fmt.Fprintf(&b, "\nserver: cpu mean %.1f%% max %.1f%%; rss %.1f → max %.1f → %.1f MB; max fds %d (load tool itself: cpu mean %.0f%%)\n",
		r.Server.MeanCPU, r.Server.MaxCPU, r.Server.StartRSS, r.Server.MaxRSS, r.Server.EndRSS, r.Server.MaxFDs, r.Server.ToolCPU)
	if r.Server.Error != "" {
		fmt.Fprintf(&b, "  (sampling failed: %s)\n", r.Server.Error)
	}
	fmt.Fprintf(&b, "stage (whole run): %s\n", r.Stage)
	fmt.Fprintf(&b, "counters: %s\n", fmtCounts(r.Counters))
	if len(r.Results) > 0 {
		fmt.Fprintf(&b, "\n%s results:\n", r.Scenario)
		for _, k := range sortedKeys(r.Results) {
			v, _ := json.Marshal(r.Results[k])
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors seen (first distinct):\n")
		for _, k := range sortedKeys(r.Errors) {
			fmt.Fprintf(&b, "  %5d× %s\n", r.Errors[k], k)
		}
	}
	return b.String()
}

func fmtCounts[V int | int64](m map[string]V) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
