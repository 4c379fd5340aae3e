package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/podium-live/podium/internal/loadtest"
)

const loadtestUsage = `usage: podium loadtest SCENARIO [flags]

Every scenario drives simulated listeners (join through admission, then
play like hls.js from their own loopback source address), prints a progress
line each second, stops by itself, and writes summary.txt, report.json and
chart.svg to --out. Targets are loopback only.

Scenarios:
  steady      --listeners N for --duration
  ramp        from --from to --to listeners over --duration
  joinstorm   --listeners base, then --rate joins/s for --storm
  flood       --listeners base; after a baseline third, --rate junk req/s
              (or --times N: N × the listeners' measured request rate)
  slow        --listeners base; after a baseline third, --conns slowloris
              and slow-read connections
  reloads     --conns identical blocking reloads for the next part,
              --parts times, plus far-future requests (want fast 400s)
  retrystorm  --listeners through a built-in proxy switched off for --outage
  capacity    steps of --step listeners (from --from, up to --to) while
              goodput >= 99% and p99 part latency <= a part; then join rates
  idle        hold N keep-alive connections idle and measure the server's
              CPU and memory (--url a part or playlist, --conns, --hold, --pid)
  speakers    not for people: the synthetic speakers' own process, which
              the scenarios start with --create

Common flags: --url, --space | --create --token, --pid, --duration,
--listeners, --out, --metrics, --cpuprofile (the tool's own profile);
flood: --times N (junk at N × the listeners' measured request rate),
--pipeline
`

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// Thousands of simulated players allocate steadily; collecting less
	// often leaves more of this machine's CPU for the traffic itself.
	debug.SetGCPercent(400)
	if len(args) == 0 {
		fmt.Fprint(stderr, loadtestUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "idle":
		fs := flag.NewFlagSet("loadtest idle", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var cfg loadtest.IdleConfig
		fs.StringVar(&cfg.URL, "url", "", "URL each listener fetches once before going idle (loopback only)")
		fs.IntVar(&cfg.Conns, "conns", 1000, "idle listener connections (at most 8000)")
		fs.DurationVar(&cfg.Hold, "hold", 20*time.Second, "how long to hold them")
		fs.IntVar(&cfg.PID, "pid", 0, "server process id to measure")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if cfg.URL == "" || cfg.PID == 0 {
			return fmt.Errorf("loadtest idle: --url and --pid are required")
		}
		res, err := loadtest.Idle(ctx, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, res)
		return nil
	case "speakers":
		// The synthetic speakers' own process, started by a scenario
		// with --create; not for people (see loadtest.RunSpeakers).
		fs := flag.NewFlagSet("loadtest speakers", flag.ContinueOnError)
		fs.SetOutput(stderr)
		whipURL := fs.String("whip", "", "the space's WHIP endpoint (loopback only)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return loadtest.RunSpeakers(ctx, *whipURL, os.Getenv("PODIUM_LOADTEST_TOKEN"), os.Stdin, stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, loadtestUsage)
		return nil
	}
	known := false
	for _, s := range loadtest.Scenarios() {
		known = known || s == args[0]
	}
	if !known {
		fmt.Fprint(stderr, loadtestUsage)
		return fmt.Errorf("loadtest: unknown scenario %q", args[0])
	}
	cfg := loadtest.Config{Scenario: args[0], Progress: stderr, CommandLine: "podium loadtest " + strings.Join(args, " ")}
	fs := flag.NewFlagSet("loadtest "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "node base URL (loopback only)")
	fs.StringVar(&cfg.Space, "space", "", "space id (default: the newest live space)")
	fs.BoolVar(&cfg.Create, "create", false, "create and start a space with one synthetic WHIP speaker (needs --token)")
	fs.StringVar(&cfg.Token, "token", "", "operator token, for --create")
	fs.IntVar(&cfg.PID, "pid", 0, "server process to sample (default: the one listening on --url's port)")
	fs.StringVar(&cfg.Metrics, "metrics", "", "node /metrics URL to scrape each second (optional, loopback)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "run length (default 30s; retrystorm outage+40s; capacity 5m)")
	fs.IntVar(&cfg.Listeners, "listeners", 100, "steady (base) listeners")
	fs.IntVar(&cfg.From, "from", 0, "ramp: first listener count; capacity: first step")
	fs.IntVar(&cfg.To, "to", 0, "ramp: last listener count; capacity: ceiling")
	fs.IntVar(&cfg.Step, "step", 250, "capacity: listeners added per step")
	fs.DurationVar(&cfg.StepTime, "step-duration", 10*time.Second, "capacity: length of each step")
	fs.Float64Var(&cfg.Rate, "rate", 0, "joinstorm: joins/s (default 100); flood: junk requests/s (default 1000)")
	fs.Float64Var(&cfg.Times, "times", 0, "flood: junk at this multiple of the listeners' request rate measured in the baseline (overrides --rate)")
	fs.IntVar(&cfg.Pipeline, "pipeline", 8, "flood: junk requests written at once on one connection (1 = no pipelining)")
	fs.DurationVar(&cfg.Storm, "storm-duration", 10*time.Second, "joinstorm: storm length")
	fs.IntVar(&cfg.Conns, "conns", 500, "slow: slow connections; reloads: concurrent identical requests")
	fs.IntVar(&cfg.Parts, "parts", 5, "reloads: rounds (one part each)")
	fs.DurationVar(&cfg.Outage, "outage", 30*time.Second, "retrystorm: outage length")
	fs.StringVar(&cfg.Out, "out", "", "report directory (default ./loadtest-report-<scenario>-<time>)")
	cpuProfile := fs.String("cpuprofile", "", "write the load tool's own CPU profile to this file (is the tool the limit?)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if args[0] == "ramp" && cfg.To == 0 {
		return fmt.Errorf("loadtest ramp: --to is required")
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if exe, err := os.Executable(); err == nil {
		cfg.SpeakersBinary = exe // the speakers get a process of their own
	}
	rep, err := loadtest.Run(ctx, cfg)
	if rep != nil {
		fmt.Fprint(stdout, rep.Summary())
		fmt.Fprintf(stdout, "\nreport written to %s\n", rep.Config.Out)
	}
	return err
}
