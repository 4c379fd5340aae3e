package admission

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func classifyByPath(r *http.Request) (Class, string) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/ingest"):
		return ClassIngest, ""
	case strings.HasPrefix(r.URL.Path, "/stage/"):
		return ClassStageJoin, strings.TrimPrefix(r.URL.Path, "/stage/")
	case strings.HasPrefix(r.URL.Path, "/hls"):
		return ClassListener, ""
	case strings.HasPrefix(r.URL.Path, "/join"):
		return ClassJoin, ""
	}
	return ClassAnonymous, ""
}

func TestMiddleware(t *testing.T) {
	m, sig, clk := newTestManager(ManagerConfig{MaxGoroutines: 100})
	var cfg LimiterConfig
	cfg.Classes[ClassJoin] = ClassLimits{PerIP: Rate{1, 2}}
	l, _ := NewLimiter(cfg)
	served := 0
	h := m.Middleware(classifyByPath, l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		io.WriteString(w, "ok")
	}))
	do := func(path, remote string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	if w := do("/api/x", "192.0.2.1:1234"); w.Code != 200 || w.Body.String() != "ok" {
		t.Fatalf("pass through: %d %q", w.Code, w.Body)
	}
	// Limited client: 429 + Retry-After; another client still passes.
	do("/join", "192.0.2.1:1234")
	do("/join", "192.0.2.1:1234")
	w := do("/join", "192.0.2.1:1234")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" || w.Header().Get("Connection") != "close" {
		t.Fatalf("limited: %d Retry-After %q Connection %q", w.Code, w.Header().Get("Retry-After"), w.Header().Get("Connection"))
	}
	if w := do("/join", "198.51.100.1:1"); w.Code != 200 {
		t.Fatalf("other client: %d", w.Code)
	}

	// Overload: level 2 sheds anonymous and joins, not listeners or ingest.
	sig.goroutines.Store(115)
	step(m, clk, 1)
	before := served
	for _, path := range []string{"/api/x", "/join"} {
		w := do(path, "203.0.113.9:1")
		ra, _ := strconv.Atoi(w.Header().Get("Retry-After"))
		if w.Code != http.StatusServiceUnavailable || ra < 1 || ra > 5 ||
			w.Body.String() != `{"error":"overloaded, retry later","code":"overloaded"}`+"\n" {
			t.Errorf("%s shed: %d Retry-After %q body %q", path, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	if served != before {
		t.Error("shed request reached the handler")
	}
	for _, path := range []string{"/hls/x", "/ingest"} {
		if w := do(path, "203.0.113.9:1"); w.Code != 200 {
			t.Errorf("%s at level 2: %d", path, w.Code)
		}
	}

	st := m.Stats()
	if st.Classes[ClassJoin].Limited != 1 || st.Classes[ClassJoin].Shed != 1 || st.Classes[ClassAnonymous].Requests != 2 {
		t.Errorf("stats %+v", st)
	}
	if st.Level != 2 || st.Pressure != 1.15 {
		t.Errorf("stats level %d pressure %v", st.Level, st.Pressure)
	}
}

func TestMiddlewareLatencyExempt(t *testing.T) {
	m, _, _ := newTestManager(ManagerConfig{LatencyExempt: func(r *http.Request) bool { return r.URL.RawQuery != "" }})
	h := m.Middleware(classifyByPath, nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		time.Sleep(time.Millisecond)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hls/x?_HLS_msn=5", nil))
	if n := m.counters[ClassListener].latN.Load(); n != 0 {
		t.Errorf("exempt request observed")
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/hls/x", nil))
	if n := m.counters[ClassListener].latN.Load(); n != 1 {
		t.Errorf("%d observations, want 1", n)
	}
}

// nopWriter is a ResponseWriter that keeps one header map, like net/http's.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func BenchmarkMiddlewarePass(b *testing.B) {
	m := NewManager(ManagerConfig{}, &fakeSignals{}, nil)
	cfg := DefaultLimiterConfig()
	cfg.Classes[ClassListener] = ClassLimits{PerIP: Rate{1e9, 1e9}, PerNet: Rate{1e9, 1e9}}
	l, _ := NewLimiter(cfg)
	h := m.Middleware(func(*http.Request) (Class, string) { return ClassListener, "" }, l,
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/hls/x/1.2.m4s", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
	if st := m.Stats(); st.Classes[ClassListener].Limited != 0 {
		b.Fatalf("%d limited", st.Classes[ClassListener].Limited)
	}
}

func BenchmarkMiddlewareShed(b *testing.B) {
	m := NewManager(ManagerConfig{}, &fakeSignals{}, nil)
	m.shed.Store(shedMask(MaxLevel))
	h := m.Middleware(func(*http.Request) (Class, string) { return ClassAnonymous, "" }, nil,
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest("GET", "/api/x", nil)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

// With JoinsWait, joins of a shed class reach the handler (whose waiting
// line queues them) until the node sheds everything; anonymous requests
// are still refused.
func TestMiddlewareJoinsWait(t *testing.T) {
	m, sig, clk := newTestManager(ManagerConfig{MaxGoroutines: 100, JoinsWait: true})
	served := 0
	h := m.Middleware(classifyByPath, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.WriteHeader(http.StatusAccepted)
	}))
	do := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", path, nil))
		return w.Code
	}
	sig.goroutines.Store(115) // level 2: joins and anonymous shed
	step(m, clk, 1)
	if m.Level() != 2 || !m.Shedding(ClassJoin) {
		t.Fatalf("level %d, joins shed %t", m.Level(), m.Shedding(ClassJoin))
	}
	if code := do("/join"); code != http.StatusAccepted {
		t.Errorf("join at level 2: %d, want the handler's 202", code)
	}
	if code := do("/api/x"); code != http.StatusServiceUnavailable {
		t.Errorf("anonymous at level 2: %d, want 503", code)
	}
	sig.goroutines.Store(200) // pressure 2: level 4, everything but ingest
	step(m, clk, 1)
	if m.Level() != MaxLevel {
		t.Fatalf("level %d, want %d", m.Level(), MaxLevel)
	}
	if code := do("/join"); code != http.StatusServiceUnavailable {
		t.Errorf("join at level 4: %d, want 503", code)
	}
	st := m.Stats()
	if served != 1 || st.Classes[ClassJoin].Waited != 1 || st.Classes[ClassJoin].Shed != 1 {
		t.Errorf("served %d, join stats %+v", served, st.Classes[ClassJoin])
	}
}
