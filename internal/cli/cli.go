// Package cli implements podium's subcommands. cmd/podium hands it the
// arguments; it parses them and runs the matching command.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/podium-live/podium/internal/app"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/demo"
	"github.com/podium-live/podium/internal/obs"
)

const usage = `podium: live audio spaces for huge audiences

Usage:
  podium serve [flags]   run a node on the embedded defaults (SQLite, local disk)
  podium demo  [flags]   same, plus a live demo space with two synthetic speakers
  podium recordings list|delete      list or delete recordings on a running node
  podium token rotate|revoke|host    rotate the signing key, revoke a token, new host link
  podium moderators add|list|revoke  register, list or withdraw moderators
  podium flaggers add|list|revoke    the same for trusted flaggers
  podium loadtest SCENARIO [flags]   measure a node (loopback targets only)
  podium version

Run 'podium serve -h' for flags. Every flag also has a PODIUM_* environment
variable and a key in the JSON file given with --config.
`

// Version is set at build time.
var Version = "dev"

// Main runs podium with args (without the program name) and returns the
// process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr, false)
	case "demo":
		err = serve(ctx, args[1:], stdout, stderr, true)
	case "recordings":
		err = runRecordings(ctx, args[1:], stdout, stderr)
	case "token":
		err = runToken(ctx, args[1:], stdout, stderr)
	case "moderators":
		err = runModerators(ctx, args[1:], stdout, stderr)
	case "flaggers":
		err = runFlaggers(ctx, args[1:], stdout, stderr)
	case "loadtest":
		err = runLoadtest(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "podium", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "podium: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "podium:", err)
		return 1
	}
	return 0
}

// loadConfig builds the configuration: defaults, file, environment, flags.
func loadConfig(name string, args []string, stderr io.Writer) (config.Config, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("PODIUM_CONFIG"), "JSON configuration file")
	// Parse once to find --config, then apply file and env under the flags.
	probe := flag.NewFlagSet(name, flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	probePath := probe.String("config", *path, "")
	cfg.Flags(probe)
	_ = probe.Parse(args)
	if *probePath != "" {
		if err := cfg.LoadFile(*probePath); err != nil {
			return cfg, err
		}
	}
	if err := cfg.LoadEnv(os.LookupEnv); err != nil {
		return cfg, err
	}
	apply := cfg.Flags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	apply()
	return cfg, cfg.Validate()
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, withDemo bool) error {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	cfg, err := loadConfig(name, args, stderr)
	if err != nil {
		return err
	}
	log := obs.NewLogger(stderr, cfg.LogLevel)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "podium %s listening on %s\noperator credential: %s\n", Version, a.BaseURL(), a.OperatorTokenPath)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }()
	if withDemo {
		demoDone := make(chan error, 1)
		go func() {
			demoDone <- demo.Run(ctx, a.BaseURL(), a.OperatorToken(), log, func(sp demo.Space) {
				fmt.Fprintf(stdout, "\ndemo space is live: open %s in a browser and press Play\nhost studio: %s\nHLS playlist: %s/hls/%s/index.m3u8\n\n",
					sp.ListenerURL, sp.HostURL, a.BaseURL(), sp.ID)
			})
		}()
		select {
		case err := <-demoDone:
			if err != nil {
				cancel()
				<-runErr
				return err
			}
		case err := <-runErr:
			return err
		}
	}
	return <-runErr
}
