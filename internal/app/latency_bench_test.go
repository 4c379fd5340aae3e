package app

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/tone"
)

// burster sends silence with a 400 ms tone burst every period and records
// the wall-clock time each burst's first frame was handed to the encoder.
type burster struct {
	period int // frames
	n      int
	sine   tone.Sine
	mu     sync.Mutex
	sent   []time.Time
}

func (b *burster) fill(pcm []float32) {
	k := b.n % b.period
	b.n++
	if k >= 20 {
		clear(pcm)
		return
	}
	if k == 0 {
		b.mu.Lock()
		b.sent = append(b.sent, time.Now())
		b.mu.Unlock()
	}
	b.sine.Fill(pcm)
}

// onsets decodes packets and records the arrival time of every frame where
// the level jumps from silence to tone.
type onsets struct {
	mu   sync.Mutex
	dec  *codec.Decoder
	buf  []float32
	prev float64
	at   []time.Time
}

func (o *onsets) packet(pkt []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.dec.Decode(pkt, o.buf)
	if err != nil {
		return
	}
	now := time.Now()
	for i := 0; i+240 <= n; i += 240 { // 5 ms windows
		r := tone.RMS(o.buf[i : i+240])
		if r > 0.05 && o.prev < 0.01 {
			o.at = append(o.at, now)
		}
		o.prev = r
	}
}

// match pairs each sent burst with the first onset after it and returns
// the median delay.
func match(sent, heard []time.Time) (time.Duration, int) {
	var d []time.Duration
	for _, s := range sent {
		for _, h := range heard {
			if h.After(s) && h.Sub(s) < 5*time.Second {
				d = append(d, h.Sub(s))
				break
			}
		}
	}
	if len(d) == 0 {
		return 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], len(d)
}

func newOnsets(b *testing.B) *onsets {
	d, err := codec.NewDecoder()
	if err != nil {
		b.Fatal(err)
	}
	return &onsets{dec: d, buf: make([]float32, 5760)}
}

// BenchmarkLatency measures speaker-to-listener latency over LL-HLS (until
// the decoded packet is in the player's hands) and speaker-to-speaker
// latency over WebRTC forwarding. Run with -benchtime=Nx: N bursts, one a
// second.
func BenchmarkLatency(b *testing.B) {
	t := b
	n := startNodeB(b)
	sp := n.createSpace(t)
	id, host := sp.Space.ID, sp.HostToken
	n.api(t, "POST", "/api/spaces/"+id+"/start", host, nil, nil)

	rtc := newOnsets(b)
	n.speak(t, id, n.invite(t, id, host, "Ear"), "Ear", 0, 1, func(tr *webrtc.TrackRemote) {
		go func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				rtc.packet(p.Payload)
			}
		}()
	})
	hl := newOnsets(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hlsclient.Play(ctx, http.DefaultClient, n.base+"/hls/"+id+"/index.m3u8", func(pkt []byte, _ int64) { hl.packet(pkt) })
	time.Sleep(2 * time.Second) // player settles at the live edge

	bu := &burster{period: 53, // not a multiple of the part length, so bursts land at every phase of a part
		sine: tone.Sine{Freq: 1000, Amplitude: 0.5, Rate: codec.SampleRate}}
	s := n.speakFill(t, id, n.invite(t, id, host, "Mouth"), "Mouth", bu.fill)
	b.ResetTimer()
	time.Sleep(time.Duration(b.N)*1060*time.Millisecond + 3*time.Second)
	b.StopTimer()
	s.stop()
	bu.mu.Lock()
	sent := slices.Clone(bu.sent)
	bu.mu.Unlock()
	hl.mu.Lock()
	rtc.mu.Lock()
	hlsMed, hlsN := match(sent, hl.at)
	rtcMed, rtcN := match(sent, rtc.at)
	rtc.mu.Unlock()
	hl.mu.Unlock()
	if hlsN == 0 || rtcN == 0 {
		b.Fatalf("no bursts matched: hls %d, webrtc %d of %d sent", hlsN, rtcN, len(sent))
	}
	b.ReportMetric(float64(hlsMed.Milliseconds()), "hls-arrival-ms")
	b.ReportMetric(float64(rtcMed.Microseconds()), "webrtc-us")
	b.ReportMetric(float64(hlsN), "bursts")
}
