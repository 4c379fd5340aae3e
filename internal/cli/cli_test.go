package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/podium-live/podium/internal/app"
	"github.com/podium-live/podium/internal/config"
)

func TestUsageAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main(nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "podium serve") {
		t.Fatalf("no args: exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"frobnicate"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown: exit %d, stderr %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"serve", "--addr", "nonsense"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "addr") {
		t.Fatalf("bad addr: exit %d, stderr %q", code, errOut.String())
	}
}

func TestRecordingsCommands(t *testing.T) {
	cfg := config.Default()
	cfg.Addr, cfg.DebugAddr, cfg.DataDir = "127.0.0.1:0", "", t.TempDir()
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var out, errOut bytes.Buffer
	// The credential comes from the data directory.
	if code := Main([]string{"recordings", "list", "--url", a.BaseURL(), "--data", cfg.DataDir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "SPACE") {
		t.Fatalf("list: exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"recordings", "delete", "--url", a.BaseURL(), "--data", cfg.DataDir, "sp_aaaaaaaaaaaa"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "404") {
		t.Fatalf("delete unknown: exit %d, err %q", code, errOut.String())
	}
	errOut.Reset()
	if code := Main([]string{"recordings", "list", "--url", a.BaseURL(), "--token", "forged.token"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "401") {
		t.Fatalf("forged token: exit %d, err %q", code, errOut.String())
	}
}
