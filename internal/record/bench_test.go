package record

import (
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecorderWriteFrame records b.N frames through a real
// Recorder on local disk (one page and fsync per 10 frames), Close
// included. ns/op is wall time per frame (fsync latency included);
// core% is the CPU time per frame, mixer side plus writer, as a share of
// one core for one live space (a frame every 20 ms).
func BenchmarkRecorderWriteFrame(b *testing.B) {
	st := newDir(b)
	pkts := schedule(b)
	speakers := [][]Speaker{{{"spk_a", "Ada"}}, {{"spk_a", "Ada"}, {"spk_b", "Bob"}}}
	rec, err := Start(st, "sp_bench", t0, Options{QueueFrames: b.N + 10}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := range b.N {
		rec.WriteFrame(pkts[i%len(pkts)], speakers[i/100%2])
	}
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	s := rec.Status()
	if s.LostFrames != 0 || s.Frames != int64(b.N) {
		b.Fatalf("status %+v", s)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/float64(20*time.Millisecond)*100, "core%")
	b.ReportMetric(float64(s.Bytes)/(float64(b.N)*0.02), "bytes/s-recorded")
}

// discardWriter is a reusable ResponseWriter that drops the body.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// BenchmarkServeReplaySegment serves a cached public segment: the hot
// path of a popular replay.
func BenchmarkServeReplaySegment(b *testing.B) {
	st := newDir(b)
	record(b, st, "sp_pub", t0, schedule(b), nil)
	srv := NewServer(st, func(*http.Request, string) (bool, bool) { return true, true }, Views{}, nil, nil)
	req := httptest.NewRequest("GET", "/replay/sp_pub/0-300.m4s", nil)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("status %d", rec.Code)
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		srv.ServeHTTP(w, req)
	}
}
