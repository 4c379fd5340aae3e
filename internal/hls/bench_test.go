package hls

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
