package app

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/tone"
)

// authTransport sends a bearer credential with every request.
type authTransport struct {
	token string
	next  http.RoundTripper
}

func (t authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.next.RoundTrip(r)
}

// loudest returns the largest amplitude of f over the 100 ms windows of
// what e heard arriving between from and to.
func (e *ear) loudest(from, to time.Time, f float64) (amp, secs float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var pcm []float32
	for i, at := range e.at {
		if at.After(from) && at.Before(to) {
			pcm = append(pcm, e.pcm[i*codec.FrameSamples:(i+1)*codec.FrameSamples]...)
		}
	}
	const win = codec.SampleRate / 10
	for i := 0; i+win <= len(pcm); i += win {
		amp = max(amp, tone.Power(pcm[i:i+win], f, codec.SampleRate))
	}
	return amp, float64(len(pcm)) / codec.SampleRate
}

// onset returns when the first 20 ms frame with f arrived after from.
func (e *ear) onset(from time.Time, f float64) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, at := range e.at {
		if at.After(from) && tone.Power(e.pcm[i*codec.FrameSamples:(i+1)*codec.FrameSamples], f, codec.SampleRate) > 0.1 {
			return at, true
		}
	}
	return time.Time{}, false
}

// TestDumpedBurstNeverReachesListeners: with a 10 s delay, a tone burst
// that the host dumps is silence in the audience's stream while the
// monitor feed had it; a burst not dumped reaches the audience 10 s late.
func TestDumpedBurstNeverReachesListeners(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	var d struct {
		Delay int `json:"delay_seconds"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/delay", host, map[string]int{"seconds": 7}, nil); st != http.StatusBadRequest {
		t.Fatalf("delay 7 s: status %d, want 400", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/delay", n.operator(), map[string]int{"seconds": 10}, &d); st != http.StatusOK || d.Delay != 10 {
		t.Fatalf("operator delay 10: status %d %+v", st, d)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/delay", host, map[string]int{"seconds": 0}, nil); st != http.StatusConflict {
		t.Fatalf("host below the operator's floor: status %d, want 409", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil); st != http.StatusOK {
		t.Fatalf("start: %d", st)
	}
	var burst atomic.Bool
	sine := &tone.Sine{Freq: 440, Amplitude: 0.3, Rate: codec.SampleRate}
	n.speakFill(t, id, n.invite(t, id, host, "Alice"), "Alice", func(pcm []float32) {
		sine.Fill(pcm)
		if !burst.Load() {
			clear(pcm)
		}
	})

	// The monitor is for credentials only, and no cache keeps it.
	resp, err := http.Get(n.base + "/hls/" + id + "/monitor/init.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("monitor without credential: %d, want 401", resp.StatusCode)
	}
	mon := &http.Client{Transport: authTransport{host, &http.Transport{}}}
	resp, err = mon.Get(n.base + "/hls/" + id + "/monitor/init.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("monitor with the host's credential: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	play := func(c *http.Client, url string, e *ear) chan error {
		done := make(chan error, 1)
		go func() { done <- hlsclient.Play(ctx, c, url, func(pkt []byte, _ int64) { e.packet(pkt) }) }()
		return done
	}
	audience, monitor := newEar(t), newEar(t)
	aDone := play(&http.Client{Transport: ticketTransport{n.ticket(t, id), &http.Transport{}}}, n.base+"/hls/"+id+"/index.m3u8", audience)
	mDone := play(mon, n.base+"/hls/"+id+"/monitor/index.m3u8", monitor)
	defer func() { cancel(); <-aDone; <-mDone }()
	time.Sleep(3 * time.Second)

	// Burst 1, dumped 0.7 s after it ends: the dump covers the newest 4 s.
	t1 := time.Now()
	burst.Store(true)
	time.Sleep(2 * time.Second)
	burst.Store(false)
	time.Sleep(700 * time.Millisecond)
	var dumped struct {
		From time.Time `json:"from"`
		To   time.Time `json:"to"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/dump", host, map[string]int{"seconds": 11}, nil); st != http.StatusBadRequest {
		t.Fatalf("dump more than the delay: %d, want 400", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/dump", host, map[string]int{"seconds": 4}, &dumped); st != http.StatusOK {
		t.Fatalf("dump: %d", st)
	}
	if !dumped.From.Before(t1) || !dumped.To.After(t1.Add(2*time.Second)) {
		t.Errorf("dumped %v..%v, want it to cover the burst from %v for 2 s", dumped.From, dumped.To, t1)
	}
	// Burst 2, not dumped.
	time.Sleep(1300 * time.Millisecond)
	t2 := time.Now()
	burst.Store(true)
	time.Sleep(2 * time.Second)
	burst.Store(false)
	time.Sleep(12 * time.Second) // burst 2 reaches the audience by t2+10+latency

	if a, s := monitor.loudest(t1, t1.Add(3500*time.Millisecond), 440); a < 0.12 {
		t.Errorf("monitor: burst 1 amplitude %.3f over %.1f s, want about 0.3 (the monitor is undelayed)", a, s)
	}
	if a, s := audience.loudest(t1.Add(9*time.Second), t1.Add(14*time.Second), 440); a > 0.03 || s < 3 {
		t.Errorf("audience: dumped burst amplitude %.3f over %.1f s, want silence (< 0.03) over at least 3 s", a, s)
	}
	if a, s := audience.loudest(t2.Add(9500*time.Millisecond), t2.Add(14*time.Second), 440); a < 0.12 {
		t.Errorf("audience: burst 2 (not dumped) amplitude %.3f over %.1f s, want about 0.3 ten seconds late", a, s)
	}
	// The delay as heard: burst 2's onset at the audience's player minus
	// its onset at the monitor's (the same player path, undelayed).
	mOn, ok1 := monitor.onset(t2, 440)
	aOn, ok2 := audience.onset(t2.Add(5*time.Second), 440)
	if measured := aOn.Sub(mOn); !ok1 || !ok2 || measured < 9*time.Second || measured > 11*time.Second {
		t.Errorf("delay as heard = %v (onsets found %v %v), want 10 s", measured, ok1, ok2)
	} else {
		t.Logf("delay as heard: %v (set 10 s; error %v)", measured, measured-10*time.Second)
	}
	if a, _ := audience.loudest(t2, t2.Add(3*time.Second), 440); a > 0.03 {
		t.Errorf("audience heard burst 2 undelayed: amplitude %.3f", a)
	}
}

// TestModeratorsModerateTheLiveFeed: a moderator (not the host) hears the
// undelayed monitor, imposes a delay floor and dumps; a revoked moderator
// and a speaker cannot.
func TestModeratorsModerateTheLiveFeed(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	var m moderatorDoc
	if st := n.api(t, "POST", "/api/moderators", n.operator(), map[string]any{"name": "Ada"}, &m); st != http.StatusCreated {
		t.Fatalf("add moderator: %d", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/delay", m.Token, map[string]int{"seconds": 10}, nil); st != http.StatusOK {
		t.Fatalf("moderator's delay floor: %d", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/delay", host, map[string]int{"seconds": 0}, nil); st != http.StatusConflict {
		t.Fatalf("host below the moderator's floor: %d, want 409", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil); st != http.StatusOK {
		t.Fatalf("start: %d", st)
	}
	speaker := n.invite(t, id, host, "Bob")
	if st := n.api(t, "POST", "/api/spaces/"+id+"/dump", speaker, map[string]int{"seconds": 5}, nil); st != http.StatusForbidden {
		t.Errorf("speaker dumps: %d, want 403", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/dump", m.Token, map[string]int{"seconds": 5}, nil); st != http.StatusOK {
		t.Errorf("moderator dumps: %d, want 200", st)
	}
	get := func(tok string) int {
		c := &http.Client{Transport: authTransport{tok, &http.Transport{}}}
		resp, err := c.Get(n.base + "/hls/" + id + "/monitor/init.mp4")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := get(m.Token); st != http.StatusOK {
		t.Errorf("moderator's monitor: %d, want 200", st)
	}
	if st := get(speaker); st != http.StatusForbidden {
		t.Errorf("speaker's monitor: %d, want 403", st)
	}
	if st := n.api(t, "DELETE", "/api/moderators/"+m.ID, n.operator(), nil, nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	if st := get(m.Token); st != http.StatusUnauthorized {
		t.Errorf("revoked moderator's monitor: %d, want 401", st)
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/dump", m.Token, map[string]int{"seconds": 5}, nil); st != http.StatusUnauthorized {
		t.Errorf("revoked moderator dumps: %d, want 401", st)
	}
}
