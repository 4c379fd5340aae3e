package hls

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// discardWriter is the cheapest possible ResponseWriter: a reused header
// map and a byte count, so benchmarks measure the handler alone.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header  { return w.h }
func (w *discardWriter) WriteHeader(code int) { w.status = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return len(b), nil
}

func benchServe(b *testing.B, target string, frames int) {
	f := &fixture{srv: NewServer(nil), st: NewStream("sp_k3j4h5", t0, t0, Config{})}
	f.srv.Add(f.st)
	feed(f.st, &f.next, frames)
	req := httptest.NewRequest("GET", target, nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clear(w.h)
		f.srv.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.status != 200 {
		b.Fatalf("status %d", w.status)
	}
	b.SetBytes(int64(w.n / b.N))
}

// BenchmarkServePart serves an existing part.
func BenchmarkServePart(b *testing.B) {
	benchServe(b, "/hls/sp_k3j4h5/7.3.m4s", 800)
}

// BenchmarkServeBlockingPlaylist serves a blocking reload whose part
// already exists (the common case behind a CDN, and the cost per waiter
// once the part appears).
func BenchmarkServeBlockingPlaylist(b *testing.B) {
	benchServe(b, "/hls/sp_k3j4h5/index.m3u8?_HLS_msn=7&_HLS_part=9&_HLS_skip=YES", 800)
}

// BenchmarkServePlaylist serves the plain playlist.
func BenchmarkServePlaylist(b *testing.B) {
	benchServe(b, "/hls/sp_k3j4h5/index.m3u8", 800)
}

// BenchmarkRejectFuture answers a request too far ahead.
func BenchmarkRejectFuture(b *testing.B) {
	f := &fixture{srv: NewServer(nil), st: NewStream("sp_k3j4h5", t0, t0, Config{})}
	f.srv.Add(f.st)
	feed(f.st, &f.next, 800)
	req := httptest.NewRequest("GET", "/hls/sp_k3j4h5/index.m3u8?_HLS_msn=999999&_HLS_part=0", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clear(w.h)
		f.srv.ServeHTTP(w, req)
	}
	if w.status != 400 {
		b.Fatalf("status %d", w.status)
	}
}

// BenchmarkWriteFrame is the mixer's cost per 20 ms frame, amortizing the
// part, segment and playlist building.
func BenchmarkWriteFrame(b *testing.B) {
	st := NewStream("sp_k3j4h5", t0, t0, Config{})
	pkt := make([]byte, 120)
	b.ReportAllocs()
	for range b.N {
		st.WriteFrame(pkt)
	}
}

func TestServeAllocs(t *testing.T) {
	f := newFixture(t, Config{}, 800)
	w := &discardWriter{h: http.Header{}}
	for _, target := range []string{
		"/hls/sp_1/7.3.m4s",
		"/hls/sp_1/7.m4s",
		"/hls/sp_1/init.mp4",
		"/hls/sp_1/index.m3u8",
		"/hls/sp_1/index.m3u8?_HLS_msn=7&_HLS_part=9",
		"/hls/sp_1/index.m3u8?_HLS_msn=99&_HLS_part=0",
		"/hls/sp_1/1.0.m4s",
		"/hls/sp_1/index.m3u8?_HLS_msn=abc",
		"/hls/sp_1/index.m3u8?_HLS_msn=7&_HLS_part=999999",
		"/hls/sp_1/99.0.m4s",
		"/hls/sp_1/99.m4s",
		"/hls/nope/index.m3u8",
	} {
		req := httptest.NewRequest("GET", target, nil)
		n := testing.AllocsPerRun(100, func() {
			clear(w.h)
			f.srv.ServeHTTP(w, req)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per request, want 0", target, n)
		}
	}
}

// listenerPlaylistBytes replays what an hls.js-like low-latency player asks
// for, in media time: it joins with the plain playlist, then makes one
// blocking reload per part for the part after the newest it knows, with
// _HLS_skip=YES as hls.js always does (unless skip is false). It returns the playlist bytes one
// listener receives per second of steady-state media and how many of the
// reloads were answered with a delta update.
func listenerPlaylistBytes(tb testing.TB, cfg Config, skip bool, seconds int) (bytesPerSecond float64, deltas, reloads int) {
	tb.Helper()
	f := &fixture{srv: NewServer(nil), st: NewStream("sp_1", t0, t0, cfg)}
	f.srv.Add(f.st)
	c := f.st.Config()
	framesPerPart := int(c.PartDuration / FrameDuration)
	// Warm up until the window is full, so the figures are steady state.
	f.feed((c.WindowSegments + 2) * c.SegmentParts * framesPerPart)
	w := &discardWriter{h: http.Header{}}
	serve := func(target string) int {
		clear(w.h)
		w.n = 0
		f.srv.ServeHTTP(w, httptest.NewRequest("GET", target, nil))
		if w.status != 200 {
			tb.Fatalf("%s: %d", target, w.status)
		}
		return w.n
	}
	serve("/hls/sp_1/index.m3u8")
	parts := seconds * int(time.Second/c.PartDuration)
	total := 0
	for range parts {
		next := f.st.current().nextAbs // the part after the newest listed
		f.feed(framesPerPart)          // it is published; the held reload is answered
		target := "/hls/sp_1/index.m3u8?_HLS_msn=" + strconv.FormatUint(next/uint64(c.SegmentParts), 10) +
			"&_HLS_part=" + strconv.FormatUint(next%uint64(c.SegmentParts), 10)
		if skip {
			target += "&_HLS_skip=YES"
		}
		total += serve(target)
		reloads++
		if p, _ := f.st.current().lookupPart(next/uint64(c.SegmentParts), next%uint64(c.SegmentParts)); skip && p.delta != nil {
			deltas++
		}
	}
	return float64(total) / float64(seconds), deltas, reloads
}

// BenchmarkListenerPlaylistBytes reports the playlist bytes per
// listener-second an hls.js-like player costs: at the old 6-segment
// window (a delta was never possible: the window is exactly
// CAN-SKIP-UNTIL), at the default window for a player that does not ask
// for deltas (what the longer window would cost without them), and at the
// default as hls.js plays it.
func BenchmarkListenerPlaylistBytes(b *testing.B) {
	for _, tt := range []struct {
		name       string
		cfg        Config
		skip       bool
		wantDeltas bool
	}{
		{"window6", Config{WindowSegments: 6}, true, false},
		{"default-noskip", Config{}, false, false},
		{"default", Config{}, true, true},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var bps float64
			for range b.N {
				var deltas, reloads int
				bps, deltas, reloads = listenerPlaylistBytes(b, tt.cfg, tt.skip, 60)
				if tt.wantDeltas != (deltas == reloads) || (!tt.wantDeltas && deltas != 0) {
					b.Fatalf("%d of %d reloads answered with a delta", deltas, reloads)
				}
			}
			b.ReportMetric(bps, "playlist-B/listener-s")
		})
	}
}
