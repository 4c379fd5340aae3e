package loadtest_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/app"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/loadtest"
)

// startNode runs a podium node in this process on a loopback port.
func startNode(t *testing.T) *app.App { return startNodeWith(t, nil) }

// startNodeWith is startNode with tune (if not nil) changing the defaults.
func startNodeWith(t *testing.T, tune func(*config.Config)) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DebugAddr = ""
	cfg.DataDir = t.TempDir()
	if tune != nil {
		tune(&cfg)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return a
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestSteady runs 5 listeners for 4 s against a real node with a
// synthetic speaker and checks the report.
func TestSteady(t *testing.T) {
	a := startNode(t)
	out := filepath.Join(t.TempDir(), "report")
	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		Scenario: "steady", URL: a.BaseURL(), Create: true, Token: a.OperatorToken(), PID: os.Getpid(),
		Listeners: 5, Duration: 4 * time.Second, Out: out, CommandLine: "test steady", Progress: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Goodput <= 0.9 || rep.ListenS < 5 {
		t.Errorf("goodput %.3f over %.1f listening s, want > 0.9 over at least 5 s\n%s", rep.Goodput, rep.ListenS, rep.Summary())
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got loadtest.Report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	if got.Scenario != "steady" || len(got.Series) < 3 || got.Groups["base"].Listeners != 5 || got.PartLatency.N == 0 {
		t.Errorf("report.json: scenario %q, %d points, base %+v, part latency %+v", got.Scenario, len(got.Series), got.Groups["base"], got.PartLatency)
	}
	if s, err := os.ReadFile(filepath.Join(out, "summary.txt")); err != nil || len(s) == 0 {
		t.Errorf("summary.txt: %v", err)
	}
	f, err := os.Open(filepath.Join(out, "chart.svg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := xml.NewDecoder(f)
	for {
		if _, err := d.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("chart.svg is not well-formed: %v", err)
		}
	}
}

// TestReloads checks 50 identical blocking reloads are all answered and
// far-future requests are refused with 400.
func TestReloads(t *testing.T) {
	a := startNode(t)
	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		Scenario: "reloads", URL: a.BaseURL(), Create: true, Token: a.OperatorToken(), // PID found via /proc
		Conns: 50, Parts: 2, Duration: 20 * time.Second, Out: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PID != os.Getpid() {
		t.Errorf("found server pid %d, want %d", rep.PID, os.Getpid())
	}
	b, _ := json.Marshal(rep.Results)
	var res struct {
		FarFuture map[string]int `json:"far_future_statuses"`
		Rounds    []struct {
			Answers int `json:"answers_200"`
		} `json:"rounds"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.FarFuture["400"] < 100 || len(res.FarFuture) != 1 {
		t.Errorf("far-future answers %v, want only 400s", res.FarFuture)
	}
	if len(res.Rounds) != 2 || res.Rounds[0].Answers != 50 || res.Rounds[1].Answers != 50 {
		t.Errorf("rounds %s, want 2 rounds of 50 answers", b)
	}
}

// TestFloodAndStage floods a real node with every kind of junk for a few
// seconds while 3 listeners play and the two synthetic speakers talk:
// junk is answered by the defences it probes (404, 401, 431, or refused),
// the listeners keep playing, and the speakers hear each other.
func TestFloodAndStage(t *testing.T) {
	a := startNode(t)
	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		Scenario: "flood", URL: a.BaseURL(), Create: true, Token: a.OperatorToken(), PID: os.Getpid(),
		Listeners: 3, Times: 20, Duration: 6 * time.Second, Out: t.TempDir(), Progress: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep.Results)
	var res struct {
		Sent   int64                     `json:"junk_sent"`
		ByKind map[string]map[string]int `json:"junk_by_kind_status"`
		Times  float64                   `json:"junk_times_legit_achieved"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Sent < 100 || res.Times < 5 {
		t.Errorf("junk sent %d (%.1f × the listeners' rate), want a flood", res.Sent, res.Times)
	}
	want := map[string]string{"big_headers": "431", "forged_join": "401", "random_path": "404", "bad_ticket": "401"}
	for kind, status := range want {
		if res.ByKind[kind][status] == 0 {
			t.Errorf("%s answers %v, want some %s", kind, res.ByKind[kind], status)
		}
	}
	if rep.Goodput < 0.9 {
		t.Errorf("listeners' goodput %.3f under the flood", rep.Goodput)
	}
	if rep.Stage.S2SPackets < 100 || rep.Stage.S2SLost > rep.Stage.S2SPackets/10 {
		t.Errorf("speakers heard %d packets of each other, %d lost", rep.Stage.S2SPackets, rep.Stage.S2SLost)
	}
}

// TestJoinStorm sends a small storm at a node made for a few listeners:
// every join is answered, the newcomers wait in line with a position.
func TestJoinStorm(t *testing.T) {
	a := startNodeWith(t, func(c *config.Config) { c.Admission.MaxListeners, c.Admission.AdmitRate = 4, 2 })
	rep, err := loadtest.Run(t.Context(), loadtest.Config{
		Scenario: "joinstorm", URL: a.BaseURL(), Create: true, Token: a.OperatorToken(), PID: os.Getpid(),
		Listeners: 2, Rate: 20, Storm: 2 * time.Second, Duration: 6 * time.Second, Out: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := rep.Groups["storm"]
	if st.Listeners < 30 || st.Joins["queued"] == 0 || st.Joins["error"]+st.Joins["timeout"]+st.Joins["shed"] != 0 {
		t.Errorf("storm of %d: first answers %v, want every join answered and some queued", st.Listeners, st.Joins)
	}
	if g := rep.Groups["base"]; g.Goodput < 0.9 {
		t.Errorf("base goodput %.3f during the storm", g.Goodput)
	}
}
