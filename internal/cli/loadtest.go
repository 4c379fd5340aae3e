package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/podium-live/podium/internal/loadtest"
)

const loadtestUsage = `usage: podium loadtest SCENARIO [flags]

Scenarios:
  idle   hold N keep-alive listener connections idle and measure the server's
         CPU and memory (--url a part or playlist, --conns, --hold, --pid)
`

func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	}
	fmt.Fprint(stderr, loadtestUsage)
	return fmt.Errorf("loadtest: unknown scenario %q", args[0])
}
