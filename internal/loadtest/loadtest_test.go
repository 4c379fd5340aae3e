package loadtest

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPlayout checks the stall model on synthetic arrival times.
func TestPlayout(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const part = 200 * time.Millisecond
	tests := []struct {
		name        string
		arrivals    []int // ms after t0, each a 200 ms part
		end         int
		wantStalled time.Duration
		wantStalls  int
	}{
		// Three parts at once (PART-HOLD-BACK), then one every 200 ms:
		// the buffer never runs dry.
		{"steady", []int{0, 1, 2, 200, 400, 600, 800}, 900, 0, 0},
		// The buffer (600 ms) runs dry at 600; the next part comes at 900.
		{"late part", []int{0, 0, 0, 900, 1000}, 1100, 300 * time.Millisecond, 1},
		// Stalls 200-300, 500-700 and the tail 900-1000.
		{"three stalls", []int{0, 300, 700}, 1000, 100*time.Millisecond + 200*time.Millisecond + 100*time.Millisecond, 3},
		// No part after the buffer ends: the tail is a stall.
		{"stopped", []int{0}, 500, 300 * time.Millisecond, 1},
		{"nothing", nil, 500, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Playout
			var sumL, sumS time.Duration
			for _, a := range tt.arrivals {
				p.Part(at(a), part)
				// Sampling in between must not change the totals.
				l, s := p.Advance(at(a + 50))
				sumL += l
				sumS += s
			}
			l, s := p.Advance(at(tt.end))
			sumL += l
			sumS += s
			if p.Stalled != tt.wantStalled || p.Stalls != tt.wantStalls {
				t.Errorf("stalled %v in %d stalls, want %v in %d", p.Stalled, p.Stalls, tt.wantStalled, tt.wantStalls)
			}
			if sumL != p.Listened || sumS != p.Stalled {
				t.Errorf("Advance deltas sum to %v/%v, totals %v/%v", sumL, sumS, p.Listened, p.Stalled)
			}
			if len(tt.arrivals) > 0 && p.Listened != at(tt.end).Sub(at(tt.arrivals[0])) {
				t.Errorf("listened %v, want %v", p.Listened, at(tt.end).Sub(at(tt.arrivals[0])))
			}
		})
	}
}

// TestBackoff checks full jitter over a capped exponential, and that
// Retry-After is a floor.
func TestBackoff(t *testing.T) {
	var asked []int64
	lo := Backoff{Base: 100 * time.Millisecond, Cap: time.Second, Rand: func(n int64) int64 { asked = append(asked, n); return 0 }}
	hi := Backoff{Base: 100 * time.Millisecond, Cap: time.Second, Rand: func(n int64) int64 { return n - 1 }}
	for attempt, want := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		want *= time.Millisecond
		if got := lo.Delay(attempt, 0); got != 0 {
			t.Errorf("attempt %d, rand 0: delay %v, want 0 (full jitter starts at zero)", attempt, got)
		}
		if got := hi.Delay(attempt, 0); got != want-1 {
			t.Errorf("attempt %d, rand max: delay %v, want %v", attempt, got, want-1)
		}
		if asked[attempt] != int64(want) {
			t.Errorf("attempt %d: jitter range %v, want [0, %v)", attempt, time.Duration(asked[attempt]), want)
		}
	}
	if got := hi.Delay(100, 0); got != time.Second-1 {
		t.Errorf("attempt 100: delay %v, want the cap", got)
	}
	if got := lo.Delay(2, 3*time.Second); got != 3*time.Second {
		t.Errorf("with Retry-After 3s: delay %v, want 3s", got)
	}
	if got := hi.Delay(0, 50*time.Millisecond); got != 100*time.Millisecond-1 {
		t.Errorf("with a shorter Retry-After: delay %v, want the jittered %v", got, 100*time.Millisecond-1)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "x": 0, "0": 0,
		now.Add(7 * time.Second).Format(http.TimeFormat): 7 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):      0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestRefusesNonLoopback checks the tool never targets another machine.
func TestRefusesNonLoopback(t *testing.T) {
	for _, u := range []string{"http://10.1.2.3:8080", "http://example.com", "http://[2001:db8::1]:80", "http://0.0.0.0:80"} {
		_, err := Run(context.Background(), Config{Scenario: "steady", URL: u, Duration: time.Second, Out: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Run against %s: %v, want a loopback refusal", u, err)
		}
	}
	_, err := Run(context.Background(), Config{Scenario: "steady", URL: "http://127.0.0.1:1", Metrics: "http://192.0.2.1/metrics", Duration: time.Second, Out: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Run with remote --metrics: %v, want a loopback refusal", err)
	}
	_, err = Idle(context.Background(), IdleConfig{URL: "http://10.0.0.1/x", Conns: 1, Hold: time.Second})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("Idle against 10.0.0.1: %v, want a loopback refusal", err)
	}
	if err := checkLoopback(&url.URL{Host: "127.9.8.7:80"}); err != nil {
		t.Errorf("127.9.8.7 refused: %v", err)
	}
}

// TestBounds checks runs are bounded.
func TestBounds(t *testing.T) {
	for _, c := range []Config{
		{Scenario: "steady", Listeners: MaxConns + 1},
		{Scenario: "steady", Duration: time.Hour},
		{Scenario: "nope"},
		{Scenario: "flood", Rate: 1e6},
	} {
		if err := c.defaults(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// TestHist checks quantiles within a bucket's width.
func TestHist(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	c := h.snapshot()
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 1: time.Second} {
		got := c.quantile(q)
		if got < want || float64(got) > 1.1*float64(want) {
			t.Errorf("q%.2f = %v, want %v (+10%%)", q, got, want)
		}
	}
}

// TestChartWellFormed checks the SVG parses as XML with phases and gaps.
func TestChartWellFormed(t *testing.T) {
	r := &Report{Scenario: "flood<&>", DurationS: 3, Phases: []PhaseReport{{Name: "baseline", EndS: 1}, {Name: "flood", StartS: 1, EndS: 3}},
		Series: []Point{{T: 1, Goodput: 1, P99PartMs: 2, CPU: 10, RSSMB: 30}, {T: 2, Goodput: -1}, {T: 3, Goodput: 0.5, P99PartMs: 300, CPU: 150, RSSMB: 33}}}
	wellFormed(t, strings.NewReader(r.Chart()))
}

func wellFormed(t *testing.T, r io.Reader) {
	t.Helper()
	d := xml.NewDecoder(r)
	n := 0
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		n++
	}
	if n < 10 {
		t.Errorf("chart has only %d tokens", n)
	}
}
