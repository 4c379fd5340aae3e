package hls_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/hls"
	"github.com/podium-live/podium/internal/tone"
)

// btrtOf returns the three fields of the init segment's one btrt box.
func btrtOf(t *testing.T, init []byte) (buf, maxRate, avgRate uint32) {
	t.Helper()
	i := bytes.Index(init, []byte("btrt"))
	if i < 4 || binary.BigEndian.Uint32(init[i-4:]) != 20 || bytes.Contains(init[i+1:], []byte("btrt")) {
		t.Fatal("init segment has no single 20-byte btrt box")
	}
	b := init[i+4:]
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
}

// TestBtrtHonest encodes hard signals the way the mixer does (the default
// encoder) and checks that the init segment's btrt box holds: no packet
// over bufferSizeDB, no one-second window over maxBitrate, and speech-like
// audio (a tone with pauses) averaging no more than avgBitrate.
func TestBtrtHonest(t *testing.T) {
	init, err := hls.InitSegment()
	if err != nil {
		t.Fatal(err)
	}
	bufSize, maxRate, avgRate := btrtOf(t, init)
	if bufSize != codec.MaxPacket || avgRate != codec.DefaultBitrate || maxRate < avgRate || maxRate > 2*avgRate {
		t.Fatalf("btrt buffer %d max %d avg %d", bufSize, maxRate, avgRate)
	}
	rng := rand.New(rand.NewSource(1))
	sine := &tone.Sine{Freq: 440, Amplitude: 0.5, Rate: codec.SampleRate}
	signals := map[string]func(frame int, pcm []float32){
		"noise": func(_ int, pcm []float32) {
			for j := range pcm {
				pcm[j] = float32(rng.Float64()*2 - 1)
			}
		},
		"bursts": func(i int, pcm []float32) {
			for j := range pcm {
				pcm[j] = 0
				if i/10%2 == 0 {
					pcm[j] = float32(rng.Float64()*2 - 1)
				}
			}
		},
		"chirp": func(i int, pcm []float32) {
			for j := range pcm {
				x := float64(i*len(pcm)+j) / codec.SampleRate
				pcm[j] = float32(0.9 * math.Sin(2*math.Pi*(100+2000*x)*x))
			}
		},
		"speech-like": func(i int, pcm []float32) {
			sine.Fill(pcm)
			if i/50%3 == 2 { // a pause every third second
				clear(pcm)
			}
		},
	}
	for name, fill := range signals {
		enc, err := codec.NewEncoder(0)
		if err != nil {
			t.Fatal(err)
		}
		pcm := make([]float32, codec.FrameSamples)
		pkt := make([]byte, codec.MaxPacket)
		var sizes []int
		total := 0
		for i := range 1500 { // 30 s
			fill(i, pcm)
			n, err := enc.Encode(pcm, pkt)
			if err != nil {
				t.Fatal(err)
			}
			if uint32(n) > bufSize {
				t.Errorf("%s: packet of %d bytes over bufferSizeDB %d", name, n, bufSize)
			}
			sizes = append(sizes, n)
			total += n
		}
		window := 0
		for i, n := range sizes {
			window += n
			if i >= 50 {
				window -= sizes[i-50]
			}
			if rate := uint32(window * 8); rate > maxRate {
				t.Errorf("%s: %d bit/s in the second ending at frame %d, over maxBitrate %d", name, rate, i, maxRate)
				break
			}
		}
		if avg := uint32(total * 8 / 30); name == "speech-like" && avg > avgRate {
			t.Errorf("%s: average %d bit/s over avgBitrate %d", name, avg, avgRate)
		}
	}
}

// TestFFmpegPlays plays a finished podium stream with ffmpeg over HTTP and
// checks it decodes all of it without a warning. "Found duplicated MOOV
// Atom" comes from ffmpeg itself when it follows a live playlist: its HLS
// demuxer makes a new init-section record for EXT-X-MAP on every reload
// and re-reads init.mp4 into the same MP4 demuxer before the next segment,
// which then meets a second moov (any live fMP4 stream does this). Nothing
// in podium's output repeats a moov: segments and parts are moof+mdat only
// (checked below), and a playlist read once plays clean.
func TestFFmpegPlays(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	enc, err := codec.NewEncoder(0)
	if err != nil {
		t.Fatal(err)
	}
	sine := &tone.Sine{Freq: 440, Amplitude: 0.5, Rate: codec.SampleRate}
	pcm := make([]float32, codec.FrameSamples)
	pkt := make([]byte, codec.MaxPacket)
	now := time.Now()
	st := hls.NewStream("sp_ff", now, now, hls.Config{})
	for range 300 { // 6 s
		sine.Fill(pcm)
		n, err := enc.Encode(pcm, pkt)
		if err != nil {
			t.Fatal(err)
		}
		st.WriteFrame(pkt[:n])
	}
	st.Close()
	srv := hls.NewServer(nil)
	srv.Add(st)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for _, name := range []string{"0.m4s", "1.m4s", "2.m4s", "2.3.m4s"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/hls/sp_ff/"+name, nil))
		for b := rec.Body.Bytes(); len(b) >= 8; {
			size := binary.BigEndian.Uint32(b)
			if typ := string(b[4:8]); typ != "moof" && typ != "mdat" {
				t.Errorf("%s holds a %q box", name, typ)
			}
			if size < 8 || int(size) > len(b) {
				t.Fatalf("%s: bad box size %d", name, size)
			}
			b = b[size:]
		}
	}

	cmd := exec.CommandContext(t.Context(), ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info",
		"-i", ts.URL+"/hls/sp_ff/index.m3u8", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	for _, bad := range []string{"duplicated MOOV", "rror", "nvalid", "iscard"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("ffmpeg printed %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(string(out), "time=00:00:06.00") {
		t.Errorf("ffmpeg did not decode 6 s:\n%s", out)
	}
}
