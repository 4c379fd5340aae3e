package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/tone"
	"github.com/podium-live/podium/internal/whip"
)

// node is a podium node running in-process on a loopback port.
type node struct {
	*App
	base string
	op   string // operator token when the node runs in another process
}

func (n *node) operator() string {
	if n.App != nil {
		return n.OperatorToken()
	}
	return n.op
}

func startNode(t *testing.T) *node { return startNodeTB(t) }

func startNodeB(b *testing.B) *node { return startNodeTB(b) }

func testConfig(t testing.TB) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DebugAddr = ""
	cfg.DataDir = t.TempDir()
	// Tests join many times from one address; the join limits have tests
	// of their own.
	cfg.Admission.JoinsPerIP, cfg.Admission.JoinsPerNet = 1000, 1000
	return cfg
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func startNodeTB(t testing.TB) *node { return runNode(t, testConfig(t)) }

// runNode builds a node from cfg and runs it until the test ends.
func runNode(t testing.TB, cfg config.Config) *node {
	t.Helper()
	n, _ := runStoppable(t, cfg)
	return n
}

// runStoppable runs a node from cfg until the returned stop is called (or
// the test ends); stop waits for Run and is safe to call twice.
func runStoppable(t testing.TB, cfg config.Config) (*node, func()) {
	t.Helper()
	a, err := New(context.Background(), cfg, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &node{App: a, base: a.BaseURL()}, stop
}

// api does one JSON request and decodes the answer into out (if not nil);
// it returns the status.
func (n *node) api(t testing.TB, method, path, token string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

type created struct {
	Space struct {
		ID          string `json:"id"`
		State       string `json:"state"`
		PlaylistURL string `json:"playlist_url"`
		ListenerURL string `json:"listener_url"`
	} `json:"space"`
	HostToken string `json:"host_token"`
}

func (n *node) createSpace(t testing.TB) created {
	t.Helper()
	var c created
	if st := n.api(t, "POST", "/api/spaces", n.operator(), map[string]any{"title": "Tones"}, &c); st != http.StatusCreated {
		t.Fatalf("create space: status %d", st)
	}
	return c
}

func (n *node) invite(t testing.TB, id, host, name string) string {
	t.Helper()
	var inv struct {
		Token string `json:"token"`
	}
	if st := n.api(t, "POST", "/api/spaces/"+id+"/invites", host, map[string]any{"name": name}, &inv); st != http.StatusCreated {
		t.Fatalf("invite: status %d", st)
	}
	return inv.Token
}

// speaker publishes a tone over WHIP until stopped.
type speaker struct {
	c      *whip.Client
	cancel context.CancelFunc
	done   chan struct{}
}

func (n *node) speak(t testing.TB, id, token, name string, freq float64, slots int, onTrack func(*webrtc.TrackRemote)) *speaker {
	t.Helper()
	sine := &tone.Sine{Freq: freq, Amplitude: 0.3, Rate: codec.SampleRate}
	return n.speakWith(t, id, token, name, sine.Fill, slots, onTrack)
}

func (n *node) speakFill(t testing.TB, id, token, name string, fill func([]float32)) *speaker {
	return n.speakWith(t, id, token, name, fill, 0, nil)
}

func (n *node) speakWith(t testing.TB, id, token, name string, fill func([]float32), slots int, onTrack func(*webrtc.TrackRemote)) *speaker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := whip.Dial(ctx, n.base+"/api/spaces/"+id+"/whip", token, whip.Options{Name: name, ListenSlots: slots, OnTrack: onTrack})
	if err != nil {
		t.Fatalf("%s dial: %v", name, err)
	}
	if err := c.Connected(ctx); err != nil {
		t.Fatalf("%s connect: %v", name, err)
	}
	tctx, tcancel := context.WithCancel(context.Background())
	s := &speaker{c: c, cancel: tcancel, done: make(chan struct{})}
	go func() { defer close(s.done); c.Talk(tctx, fill) }()
	t.Cleanup(func() { s.stop(); c.Close() })
	return s
}

func (s *speaker) stop() { s.cancel(); <-s.done }

// ear decodes what a player or a forwarded track delivers and keeps it with
// the wall-clock time it arrived.
type ear struct {
	mu     sync.Mutex
	dec    *codec.Decoder
	pcm    []float32
	at     []time.Time // arrival time of each 20 ms chunk of pcm
	tmp    []float32
	frames int
}

func newEar(t testing.TB) *ear {
	d, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return &ear{dec: d, tmp: make([]float32, 5760)}
}

func (e *ear) packet(pkt []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, err := e.dec.Decode(pkt, e.tmp)
	if err != nil {
		return
	}
	now := time.Now()
	for i := 0; i+codec.FrameSamples <= n; i += codec.FrameSamples {
		e.pcm = append(e.pcm, e.tmp[i:i+codec.FrameSamples]...)
		e.at = append(e.at, now)
	}
	e.frames++
}

// since returns the audio that arrived after t0.
func (e *ear) since(t0 time.Time) []float32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, at := range e.at {
		if at.After(t0) {
			return append([]float32(nil), e.pcm[i*codec.FrameSamples:]...)
		}
	}
	return nil
}

// heard is what an ear heard of some tones over a span: for each
// frequency its amplitude in each 100 ms window, summarised.
type heard struct {
	secs float64
	// typical is the median window: a tone present must be there, at its
	// level, through most of the span. One measurement over the whole span
	// would be pulled down by a single discontinuity (a concealed frame, a
	// part the player skipped to catch up on a starved machine), which
	// shifts the tone's phase for the rest of the span.
	typical map[float64]float64
	// loud is the 90th percentile window: a tone absent must be absent in
	// nearly all of the span.
	loud map[float64]float64
}

// hear waits settle for the change to reach the ear, then listens for d.
func (e *ear) hear(settle, d time.Duration, freqs ...float64) heard {
	time.Sleep(settle)
	t0 := time.Now()
	time.Sleep(d)
	pcm := e.since(t0)
	h := heard{secs: float64(len(pcm)) / codec.SampleRate, typical: map[float64]float64{}, loud: map[float64]float64{}}
	const win = codec.SampleRate / 10
	for _, f := range freqs {
		var amps []float64
		for i := 0; i+win <= len(pcm); i += win {
			amps = append(amps, tone.Power(pcm[i:i+win], f, codec.SampleRate))
		}
		if len(amps) > 0 {
			slices.Sort(amps)
			h.typical[f], h.loud[f] = amps[len(amps)/2], amps[len(amps)*9/10]
		}
	}
	return h
}

func check(t testing.TB, step string, got heard, present, absent []float64) {
	t.Helper()
	if got.secs < 1 {
		t.Fatalf("%s: heard only %.2f s of audio", step, got.secs)
	}
	for _, f := range present {
		if a := got.typical[f]; a < 0.12 || a > 0.45 {
			t.Errorf("%s: %v Hz amplitude = %.3f (median of 100 ms windows), want about 0.3 (present)", step, f, a)
		}
	}
	for _, f := range absent {
		if a := got.loud[f]; a > 0.03 {
			t.Errorf("%s: %v Hz amplitude = %.3f (90th percentile of 100 ms windows), want < 0.03 (absent)", step, f, a)
		}
	}
	t.Logf("%s: heard %.1fs, amplitudes (median) %.3f, (90th percentile) %.3f", step, got.secs, got.typical, got.loud)
}

// TestListenersHearTheStage is the end-to-end path without a browser: WHIP
// speakers publish tones, an LL-HLS player fetches and decodes the mix.
func TestListenersHearTheStage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	n := startNode(t)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	if st := n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil); st != http.StatusOK {
		t.Fatalf("start: %d", st)
	}

	// Alice listens to the stage too: her slot must carry Bob's tone and
	// never her own.
	aliceEar := newEar(t)
	alice := n.speak(t, id, n.invite(t, id, host, "Alice"), "Alice", 440, 2, func(tr *webrtc.TrackRemote) {
		go func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				aliceEar.packet(p.Payload)
			}
		}()
	})
	bob := n.speak(t, id, n.invite(t, id, host, "Bob"), "Bob", 660, 0, nil)

	// The listener joins and sends its ticket like the web player: an
	// anonymous player is the first the node sheds when it is busy (a
	// loaded machine answered this test's player 503 overloaded).
	hc := &http.Client{Transport: ticketTransport{n.ticket(t, id), &http.Transport{}}}
	listener := newEar(t)
	ctx, cancel := context.WithCancel(context.Background())
	playDone := make(chan error, 1)
	go func() {
		playDone <- hlsclient.Play(ctx, hc, n.base+"/hls/"+id+"/index.m3u8", func(pkt []byte, _ int64) { listener.packet(pkt) })
	}()
	defer func() {
		cancel()
		<-playDone
	}()

	// What the mixer did (concealment, late packets) tells a starved
	// machine's degradation from a test's mistake.
	mixlog := func(step string) { t.Logf("%s: mixer %+v", step, n.Runtime().Counts().Mix) }
	check(t, "two speakers", listener.hear(2500*time.Millisecond, 2*time.Second, 440, 660, 880), []float64{440, 660}, []float64{880})
	mixlog("two speakers")
	check(t, "alice's return audio", aliceEar.hear(0, 1500*time.Millisecond, 440, 660), []float64{660}, []float64{440})

	var status struct {
		State    string `json:"state"`
		Speakers []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Speaking bool   `json:"speaking"`
		} `json:"speakers"`
	}
	n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &status)
	if status.State != "live" || len(status.Speakers) != 2 {
		t.Fatalf("live status = %+v, want live with 2 speakers", status)
	}
	for _, s := range status.Speakers {
		if !s.Speaking {
			t.Errorf("speaker %s not shown speaking while sending a tone", s.Name)
		}
	}

	bobID := bob.c.ID()
	if st := n.api(t, "POST", "/api/spaces/"+id+"/speakers/"+bobID+"/mute", host, map[string]bool{"muted": true}, nil); st != http.StatusOK {
		t.Fatalf("mute: %d", st)
	}
	check(t, "bob muted", listener.hear(2500*time.Millisecond, 2*time.Second, 440, 660), []float64{440}, []float64{660})

	n.api(t, "POST", "/api/spaces/"+id+"/speakers/"+bobID+"/mute", host, map[string]bool{"muted": false}, nil)
	check(t, "bob unmuted", listener.hear(2500*time.Millisecond, 1500*time.Millisecond, 440, 660), []float64{440, 660}, nil)

	if err := bob.c.Leave(context.Background()); err != nil {
		t.Fatalf("bob leaves: %v", err)
	}
	bob.stop()
	check(t, "bob left", listener.hear(2500*time.Millisecond, 2*time.Second, 440, 660), []float64{440}, []float64{660})

	n.speak(t, id, n.invite(t, id, host, "Carol"), "Carol", 880, 0, nil)
	check(t, "carol joined", listener.hear(3*time.Second, 2*time.Second, 440, 660, 880), []float64{440, 880}, []float64{660})
	check(t, "alice hears carol", aliceEar.hear(0, 1500*time.Millisecond, 440, 880), []float64{880}, []float64{440})

	// A speaker whose connection drops without a goodbye leaves the stage.
	alice.c.Close()
	alice.stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.api(t, "GET", "/api/spaces/"+id+"/live", "", nil, &status)
		if len(status.Speakers) == 1 && status.Speakers[0].Name == "Carol" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropped speaker still on stage: %+v", status.Speakers)
		}
		time.Sleep(200 * time.Millisecond)
	}

	mixlog("before the end")
	if st := n.api(t, "POST", "/api/spaces/"+id+"/end", host, nil, nil); st != http.StatusOK {
		t.Fatalf("end: %d", st)
	}
	select {
	case err := <-playDone:
		if err != nil {
			t.Fatalf("player ended with %v, want nil at ENDLIST", err)
		}
		playDone <- nil
	case <-time.After(5 * time.Second):
		t.Fatal("player did not see the end of the stream")
	}
}
