package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxConns bounds the connections one run opens. Each connection is one
// open file in this process and one in the server's, and each process may
// hold 20,000 here; the rest is left for the tool's and the node's other
// files (WebRTC sockets, the database, the sampler).
const MaxConns = 15000

// Config describes one run. Zero values take the scenario's defaults.
type Config struct {
	Scenario string
	URL      string // node base URL, loopback only
	Space    string // space id; empty: the newest live space, or Create
	Create   bool   // create and start a space with one synthetic speaker
	Token    string // operator token for Create
	PID      int    // server process; 0: the one listening on URL's port
	Metrics  string // optional /metrics URL scraped every second

	Duration  time.Duration
	Listeners int // steady (base) listeners
	From, To  int // ramp; capacity's first step and ceiling
	Step      int // capacity's step
	StepTime  time.Duration
	Rate      float64 // joins/s (joinstorm) or requests/s (flood)
	Times     float64 // flood: junk at Times × the listeners' measured request rate (overrides Rate)
	Pipeline  int     // flood: junk requests per write on one connection
	Storm     time.Duration
	Conns     int // slow, reloads
	Outage    time.Duration
	Parts     int // reloads: rounds

	// SpeakersBinary, if set, is the podium binary whose `loadtest
	// speakers` runs the synthetic speakers in a process of their own
	// (the CLI sets it); empty: they run in this process (tests).
	SpeakersBinary string

	Out         string    // report directory ("" = ./loadtest-report-<scenario>-<time>)
	CommandLine string    // for the report
	Progress    io.Writer // live progress lines (nil: none)
}

// scenario runs for the configured duration and returns its own numbers.
type scenario func(ctx context.Context, e *env) (map[string]any, error)

var scenarios = map[string]scenario{
	"steady":     runSteady,
	"ramp":       runRamp,
	"joinstorm":  runJoinStorm,
	"flood":      runFlood,
	"slow":       runSlow,
	"reloads":    runReloads,
	"retrystorm": runRetryStorm,
	"capacity":   runCapacity,
}

// Scenarios names the scenarios Run knows.
func Scenarios() []string {
	var s []string
	for k := range scenarios {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

func (c *Config) defaults() error {
	if _, ok := scenarios[c.Scenario]; !ok {
		return fmt.Errorf("loadtest: unknown scenario %q (have %s, idle)", c.Scenario, strings.Join(Scenarios(), ", "))
	}
	if c.Outage == 0 {
		c.Outage = 30 * time.Second
	}
	if c.Duration == 0 {
		switch c.Scenario {
		case "retrystorm":
			c.Duration = 10*time.Second + c.Outage + 30*time.Second
		case "capacity":
			c.Duration = 5 * time.Minute
		default:
			c.Duration = 30 * time.Second
		}
	}
	if c.Listeners == 0 {
		c.Listeners = 100
	}
	if c.Storm == 0 {
		c.Storm = 10 * time.Second
	}
	if c.Conns == 0 {
		c.Conns = 500
	}
	if c.Pipeline == 0 {
		c.Pipeline = 8
	}
	if c.Parts == 0 {
		c.Parts = 5
	}
	if c.StepTime == 0 {
		c.StepTime = 10 * time.Second
	}
	if c.Step == 0 {
		c.Step = 250
	}
	switch {
	case c.Duration < time.Second || c.Duration > 30*time.Minute:
		return errors.New("loadtest: duration must be between 1s and 30m")
	case c.Listeners < 0 || c.Listeners > MaxConns || c.From < 0 || c.To > MaxConns || c.Conns < 0:
		return fmt.Errorf("loadtest: listeners, conns, from and to must be within 0..%d", MaxConns)
	case c.Rate < 0 || c.Rate > 500000 || c.Times < 0 || c.Times > 100:
		return errors.New("loadtest: rate must be within 0..500000 per second, times within 0..100")
	case c.Scenario == "retrystorm" && c.Duration < c.Outage+10*time.Second:
		return errors.New("loadtest: retrystorm needs a duration at least the outage plus 10s")
	}
	if c.Out == "" {
		c.Out = "loadtest-report-" + c.Scenario + "-" + time.Now().Format("20060102-150405")
	}
	return nil
}

// env is one run's shared state.
type env struct {
	cfg         Config
	node        *url.URL // the node
	base        *url.URL // where listeners connect (the node, or the outage proxy)
	spaceID     string
	pid         int
	srcOffset   int // first source-address index for listeners
	joinTimeout time.Duration
	noAdmission atomic.Bool
	st          stats
	pool        pool
	start       time.Time

	mu      sync.Mutex // guards the fields below
	phases  []phaseMark
	groups  map[string]*group
	series  []Point
	errs    map[string]int
	extra   func(p *Point) // scenario numbers for each second
	sampler samplerState
	stage   stageState
}

type phaseMark struct {
	name string
	at   time.Duration
	lat  counts // part latency observed in the phase
}

// group is a set of listeners reported together (base, storm, ...).
type group struct {
	listened, stalled time.Duration
	stalls            int
	outcomes          map[string]int
	firstAnswer       hist // time to the first answer of a join
	admission         hist // time from wanting to listen to admission
}

func (e *env) group(name string) *group {
	e.mu.Lock()
	defer e.mu.Unlock()
	g := e.groups[name]
	if g == nil {
		g = &group{outcomes: map[string]int{}}
		e.groups[name] = g
	}
	return g
}

// setPhase starts a named phase (baseline, attack, ...).
func (e *env) setPhase(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.phases = append(e.phases, phaseMark{name: name, at: time.Since(e.start)})
}

func (e *env) phaseLocked() string {
	if len(e.phases) == 0 {
		return ""
	}
	return e.phases[len(e.phases)-1].name
}

// recordFirst records the first answer a join got.
func (e *env) recordFirst(groupName, outcome string, after time.Duration) {
	g := e.group(groupName)
	e.mu.Lock()
	g.outcomes[outcome]++
	e.mu.Unlock()
	g.firstAnswer.Record(after)
}

// recordAdmission records how long a listener waited to be let in.
func (e *env) recordAdmission(groupName string, wait time.Duration) {
	e.group(groupName).admission.Record(wait)
}

// groupTotals sums the accounted listening and stall time of a group's
// listeners (accounting happens once a second).
func (e *env) groupTotals(name string) (listened, stalled time.Duration) {
	for _, l := range e.pool.snapshot() {
		if l.group != name {
			continue
		}
		l.mu.Lock()
		listened += l.play.Listened
		stalled += l.play.Stalled
		l.mu.Unlock()
	}
	return listened, stalled
}

// noteError keeps a count of the first distinct error messages.
func (e *env) noteError(err error) {
	msg := err.Error()
	if len(msg) > 160 {
		msg = msg[:160]
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.errs[msg]; ok || len(e.errs) < 20 {
		e.errs[msg]++
	}
}

// playlistPath is the path of the playlist to play: from the join answer's
// playlist_url (made relative, so it goes through e.base), or the space's.
func (e *env) playlistPath(abs string) string {
	if abs != "" {
		if u, err := url.Parse(abs); err == nil && u.Path != "" {
			return u.RequestURI()
		}
	}
	return "/hls/" + e.spaceID + "/index.m3u8"
}

// wait sleeps until d after the run's start (false if ctx ended).
func (e *env) waitUntil(ctx context.Context, d time.Duration) bool {
	return sleepCtx(ctx, time.Until(e.start.Add(d)))
}

// startListeners starts n listeners of group spread evenly over spread.
func (e *env) startListeners(ctx context.Context, n int, groupName string, spread time.Duration) {
	e.group(groupName)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		e.pool.start(ctx, groupName)
		if spread > 0 && n > 1 {
			sleepCtx(ctx, spread/time.Duration(n))
		}
	}
}

// spreadFor is how long to take to start n listeners without making the
// start itself a join storm: about 200 joins a second.
func spreadFor(n int, d time.Duration) time.Duration {
	return min(max(time.Duration(n)*time.Second/200, 500*time.Millisecond), d/4)
}

// Run runs cfg.Scenario against the node, writes the report to cfg.Out and
// returns it. It stops by itself after cfg.Duration.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.URL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("loadtest: --url %q: want a base URL like http://127.0.0.1:8080", cfg.URL)
	}
	if err := checkLoopback(u); err != nil {
		return nil, err
	}
	if cfg.Metrics != "" {
		mu, err := url.Parse(cfg.Metrics)
		if err != nil {
			return nil, fmt.Errorf("loadtest: --metrics: %w", err)
		}
		if err := checkLoopback(mu); err != nil {
			return nil, err
		}
	}
	e := &env{cfg: cfg, node: u, base: u, joinTimeout: 10 * time.Second, groups: map[string]*group{}, errs: map[string]int{}}
	e.pool.e = e
	if e.pid = cfg.PID; e.pid == 0 {
		if e.pid, err = findListenerPID(u); err != nil {
			return nil, err
		}
	}
	cleanup, err := e.setupSpace(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	// Hard bound: the scenario's own duration plus a margin to wind down.
	rctx, cancel := context.WithTimeout(ctx, cfg.Duration+30*time.Second)
	defer cancel()
	e.start = time.Now()
	e.sampler.prev, _ = SampleProc(e.pid)
	sctx, stopSampler := context.WithCancel(rctx)
	samplerDone := make(chan struct{})
	go func() { defer close(samplerDone); e.sampleLoop(sctx) }()

	results, serr := scenarios[cfg.Scenario](rctx, e)
	stopSampler()
	<-samplerDone
	e.sample(time.Now()) // the last partial second
	e.pool.stopAll()
	if serr != nil && ctx.Err() == nil && !errors.Is(serr, context.DeadlineExceeded) {
		return nil, serr
	}
	rep := e.report(results)
	if err := rep.Write(cfg.Out); err != nil {
		return rep, err
	}
	return rep, serr
}

// findListenerPID finds the process listening on u's port on this machine
// through /proc/net/tcp{,6} and the processes' fds.
func findListenerPID(u *url.URL) (int, error) {
	port := u.Port()
	if port == "" {
		port = "80"
	}
	var p int
	fmt.Sscan(port, &p)
	want := fmt.Sprintf(":%04X", p)
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && strings.HasSuffix(fs[1], want) && fs[3] == "0A" {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
	}
	if len(inodes) > 0 {
		procs, _ := filepath.Glob("/proc/[0-9]*/fd")
		for _, dir := range procs {
			fds, _ := os.ReadDir(dir)
			for _, fd := range fds {
				if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && inodes[l] {
					var pid int
					fmt.Sscan(strings.Split(dir, "/")[2], &pid)
					return pid, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("loadtest: found no process listening on port %s here; pass --pid", port)
}
