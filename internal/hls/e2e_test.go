package hls_test

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/hls/hlsclient"
	"github.com/podium-live/podium/internal/tone"
)

// TestPlayTone encodes a 440 Hz tone, streams it through a Stream and a
// real HTTP server, plays it with hlsclient (blocking reloads and part
// fetches, as a low-latency player does), and checks that every packet
// arrives in order, unchanged, with continuous timestamps, and decodes to
// the tone.
func TestPlayTone(t *testing.T) {
	const frames = 400 // 8 s
	enc, err := codec.NewEncoder(0)
	if err != nil {
		t.Fatal(err)
	}
	sine := &tone.Sine{Freq: 440, Amplitude: 0.5, Rate: codec.SampleRate}
	pcm := make([]float32, codec.FrameSamples)
	buf := make([]byte, codec.MaxPacket)
	var sent [][]byte
	for range frames {
		sine.Fill(pcm)
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, bytes.Clone(buf[:n]))
	}

	now := time.Now()
	st := hls.NewStream("sp_tone", now, now, hls.Config{})
	srv := hls.NewServer(nil)
	srv.Add(st)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	// The first segment exists before the player joins; the rest arrives
	// while it plays, faster than real time.
	for _, p := range sent[:100] {
		st.WriteFrame(p)
	}
	go func() {
		for _, p := range sent[100:] {
			st.WriteFrame(p)
			time.Sleep(time.Millisecond)
		}
		st.Close()
	}()

	var got [][]byte
	var pts []int64
	player := &hlsclient.Player{
		HTTP:        ts.Client(),
		StartBehind: -1, // from the oldest listed part: everything
		OnPacket: func(pkt []byte, ts int64) {
			got = append(got, bytes.Clone(pkt))
			pts = append(pts, ts)
		},
	}
	if err := player.Play(t.Context(), ts.URL+"/hls/sp_tone/index.m3u8"); err != nil {
		t.Fatalf("Play: %v", err)
	}
	if len(got) != frames {
		t.Fatalf("got %d packets, want %d (stats %+v)", len(got), frames, player.Stats())
	}
	for i := range got {
		if pts[i] != int64(i*codec.FrameSamples) {
			t.Fatalf("packet %d: pts %d, want %d", i, pts[i], i*codec.FrameSamples)
		}
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("packet %d differs from the one sent", i)
		}
	}
	if s := player.Stats(); s.Gaps != 0 || s.Parts < frames/10 {
		t.Errorf("player stats %+v", s)
	}
	if s := srv.Stats(); s.BlockingPlaylists == 0 || s.Parts == 0 || s.Inits != 1 {
		t.Errorf("server stats %+v", s)
	}

	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var audio []float32
	out := make([]float32, 5760)
	for _, p := range got {
		n, err := dec.Decode(p, out)
		if err != nil {
			t.Fatal(err)
		}
		audio = append(audio, out[:n]...)
	}
	audio = audio[codec.SampleRate/10:] // past the decoder's start-up
	on := tone.Power(audio, 440, codec.SampleRate)
	off := tone.Power(audio, 1000, codec.SampleRate)
	if on < 0.25 || off > on/10 {
		t.Errorf("tone power at 440 Hz %.3f, at 1000 Hz %.3f; want the tone", on, off)
	}
}

// TestPlayLiveEdge joins a running stream at the live edge, like a new
// listener, and follows it across a restart of the stream (a new Stream
// for the same space): timestamps keep increasing.
func TestPlayLiveEdge(t *testing.T) {
	live := time.Now()
	st := hls.NewStream("sp_live", live, live, hls.Config{})
	srv := hls.NewServer(nil)
	srv.Add(st)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	pkt := []byte{0xfc, 0xff, 0xfe} // any bytes: not decoded here
	for range 300 {
		st.WriteFrame(pkt)
	}
	var pts []int64
	player := &hlsclient.Player{HTTP: ts.Client(), OnPacket: func(_ []byte, ts int64) {
		pts = append(pts, ts)
	}}
	done := make(chan error, 1)
	go func() { done <- player.Play(t.Context(), ts.URL+"/hls/sp_live/index.m3u8") }()
	for range 100 {
		st.WriteFrame(pkt)
		time.Sleep(time.Millisecond)
	}
	// The node restarts (the old stream just stops, no ENDLIST) 10 s
	// after the space went live: the new stream starts at msn 5, after
	// everything the old one produced (msn 0-3 and parts of 4), and the
	// player's waiting request moves over to it.
	st2 := hls.NewStream("sp_live", live, live.Add(10*time.Second), hls.Config{})
	srv.Add(st2)
	for range 200 {
		st2.WriteFrame(pkt)
		time.Sleep(time.Millisecond)
	}
	st2.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Play: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("player did not finish")
	}
	if len(pts) < 100 {
		t.Fatalf("got %d packets", len(pts))
	}
	// Joined near the live edge, not at the start.
	if pts[0] < 250*960 {
		t.Errorf("first pts %d: did not start near the live edge", pts[0])
	}
	jumps := 0
	for i := 1; i < len(pts); i++ {
		switch d := pts[i] - pts[i-1]; {
		case d <= 0:
			t.Fatalf("pts went back at %d: %d after %d", i, pts[i], pts[i-1])
		case d != 960:
			jumps++
		}
	}
	if last := pts[len(pts)-1]; jumps != 1 || last != (5*100+199)*960 {
		t.Errorf("%d timestamp jumps, last pts %d; want one jump (the restart) and %d", jumps, last, (5*100+199)*960)
	}
	if s := player.Stats(); s.Gaps != 1 {
		t.Errorf("player stats %+v, want one gap", s)
	}
}
