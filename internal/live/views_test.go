package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/space"
	"github.com/podium-live/podium/internal/tone"
)

// swapSource is a policy source a test changes.
type swapSource struct{ p atomic.Pointer[policy.Policy] }

func (s *swapSource) Policy(string) *policy.Policy { return s.p.Load() }

// listener decodes a played stream and keeps each frame's arrival time.
type listener struct {
	mu  sync.Mutex
	dec *codec.Decoder
	pcm []float32
	at  []time.Time
}

func (l *listener) packet(pkt []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	buf := make([]float32, 5760)
	n, err := l.dec.Decode(pkt, buf)
	if err != nil {
		return
	}
	for i := 0; i+codec.FrameSamples <= n; i += codec.FrameSamples {
		l.pcm = append(l.pcm, buf[i:i+codec.FrameSamples]...)
		l.at = append(l.at, time.Now())
	}
}

// loudest is the largest 100 ms amplitude of f among frames arriving in [from, to).
func (l *listener) loudest(from, to time.Time, f float64) (amp, secs float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var pcm []float32
	for i, at := range l.at {
		if !at.Before(from) && at.Before(to) {
			pcm = append(pcm, l.pcm[i*codec.FrameSamples:(i+1)*codec.FrameSamples]...)
		}
	}
	const win = codec.SampleRate / 10
	for i := 0; i+win <= len(pcm); i += win {
		amp = max(amp, tone.Power(pcm[i:i+win], f, codec.SampleRate))
	}
	return amp, float64(len(pcm)) / codec.SampleRate
}

// TestLiveViewSilencedFromNextPart: a live tone; the policy swapped to
// one silencing DE from a moment on: DE's view has the tone before and
// silence after, the main stream (FR) the tone throughout.
func TestLiveViewSilencedFromNextPart(t *testing.T) {
	if testing.Short() {
		t.Skip("plays live audio")
	}
	log := slog.New(slog.DiscardHandler)
	engine, err := ingest.NewEngine(ingest.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	hs := hls.NewServer(log)
	src := &swapSource{}
	rt := NewRuntime(RuntimeConfig{Policies: src}, engine, hs, nil, log)
	defer rt.Close()
	now := time.Now()
	rt.StateChanged(space.Space{ID: "sp1", State: space.Live, StartedAt: now})
	v := rt.open("sp1")
	v.mu.Lock()
	m := v.mixer
	v.mu.Unlock()

	// The tone, pushed at 20 ms pace.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() {
		s := m.AddSource("t")
		enc, _ := codec.NewEncoder(0)
		sine := &tone.Sine{Freq: 440, Amplitude: 0.3, Rate: codec.SampleRate}
		pcm := make([]float32, codec.FrameSamples)
		var buf [codec.MaxPacket]byte
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for i := 0; ; i++ {
			sine.Fill(pcm)
			n, _ := enc.Encode(pcm, buf[:])
			s.Push(uint16(i), uint32(i*codec.FrameSamples), buf[:n])
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	})

	srv := httptest.NewServer(hs)
	defer srv.Close()
	play := func(url string) *listener {
		d, _ := codec.NewDecoder()
		l := &listener{dec: d}
		wg.Go(func() {
			_ = hlsclient.Play(ctx, &http.Client{}, srv.URL+url, func(pkt []byte, _ int64) { l.packet(pkt) })
		})
		return l
	}
	fr := play("/hls/sp1/index.m3u8")
	time.Sleep(time.Second)

	since := time.Now().Add(3 * time.Second)
	p := policy.New("sp1", []policy.Restriction{{ID: "r1", Kind: policy.SilenceLive, Territories: []policy.Territory{"DE"}, Since: since}}, time.Now(), policy.Permissive)
	src.p.Store(p)
	view := p.For("DE").ID
	if view == policy.None || p.For("FR").ID != policy.None {
		t.Fatalf("views: DE %s FR %s", view, p.For("FR").ID)
	}
	deadline := time.Now().Add(2 * time.Second)
	for hs.Stream("sp1") != nil && time.Now().Before(deadline) {
		resp, err := http.Get(srv.URL + "/hls/sp1/" + view + "/init.mp4")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	de := play("/hls/sp1/" + view + "/index.m3u8")
	time.Sleep(8 * time.Second)

	// DE: the tone before Since, silence from the next part on (what
	// arrives 1.5 s after Since was mixed after it, whatever the player's
	// latency).
	if a, s := de.loudest(since.Add(-2500*time.Millisecond), since.Add(-200*time.Millisecond), 440); a < 0.12 {
		t.Errorf("DE before the restriction: amplitude %.3f over %.1f s, want the tone", a, s)
	}
	if a, s := de.loudest(since.Add(1500*time.Millisecond), since.Add(5*time.Second), 440); a > 0.03 || s < 2 {
		t.Errorf("DE after the restriction: amplitude %.3f over %.1f s, want silence", a, s)
	}
	if a, s := fr.loudest(since.Add(1500*time.Millisecond), since.Add(5*time.Second), 440); a < 0.12 {
		t.Errorf("FR after the restriction: amplitude %.3f over %.1f s, want the tone", a, s)
	}
	// The policy lifted: the view's stream is closed and unregistered.
	src.p.Store(nil)
	time.Sleep(500 * time.Millisecond)
	resp, err := http.Get(srv.URL + "/hls/sp1/" + view + "/init.mp4")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("view after the policy lifted: %d, want 404", resp.StatusCode)
	}
	cancel()
}

// TestStatusShowsLiveRestrictions: /live lists the live restrictions and
// its policy number changes with the policy.
func TestStatusShowsLiveRestrictions(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	engine, err := ingest.NewEngine(ingest.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	src := &swapSource{}
	rt := NewRuntime(RuntimeConfig{Policies: src}, engine, hls.NewServer(log), nil, log)
	defer rt.Close()
	rt.StateChanged(space.Space{ID: "sp1", State: space.Live, StartedAt: time.Now()})
	read := func() LiveStatus {
		b, ok := rt.Status("sp1", space.Live)
		if !ok {
			t.Fatal("no status")
		}
		var st LiveStatus
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := read()
	if len(before.Restrictions) != 0 {
		t.Fatalf("restrictions before: %+v", before.Restrictions)
	}
	src.p.Store(policy.New("sp1", []policy.Restriction{
		{ID: "r1", Kind: policy.SilenceLive, Territories: []policy.Territory{"DE"}, Since: time.Unix(100, 0), Text: "§ 130 StGB"},
		{ID: "r2", Kind: policy.Label, Text: "a label"},
	}, time.Now(), policy.Strictest))
	after := read()
	if after.Policy == before.Policy {
		t.Errorf("policy number %d unchanged after the policy changed", after.Policy)
	}
	if len(after.Restrictions) != 1 || after.Restrictions[0].ID != "r1" || after.Restrictions[0].StatementURL != "/statements/r1" ||
		len(after.Restrictions[0].Territories) != 1 || after.Restrictions[0].Territories[0] != "DE" {
		t.Errorf("restrictions = %+v, want r1 in DE with its statement", after.Restrictions)
	}
}
