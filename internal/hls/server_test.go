package hls

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixture is a Server with one stream "sp_1" and a frame counter.
type fixture struct {
	srv  *Server
	st   *Stream
	next int
}

func newFixture(t *testing.T, cfg Config, frames int) *fixture {
	t.Helper()
	f := &fixture{srv: NewServer(nil), st: NewStream("sp_1", t0, t0, cfg)}
	f.srv.Add(f.st)
	feed(f.st, &f.next, frames)
	return f
}

func (f *fixture) feed(n int) { feed(f.st, &f.next, n) }

// do serves one request in-process.
func (f *fixture) do(method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestServeHeaders(t *testing.T) {
	f := newFixture(t, Config{}, 230) // segments 0, 1 and parts 2.0-2.2
	immutable := "public, max-age=31536000, immutable"
	tests := []struct {
		target, ctype, cc string
		body              []byte
	}{
		{"/hls/sp_1/init.mp4", "audio/mp4", immutable, f.st.init.b},
		{"/hls/sp_1/2.1.m4s", "audio/mp4", immutable, f.st.current().segs[2].parts[1].data.b},
		{"/hls/sp_1/1.m4s", "audio/mp4", immutable, f.st.current().segs[1].data.b},
		{"/hls/sp_1/index.m3u8", "application/vnd.apple.mpegurl", "public, max-age=1", f.st.current().playlist.b},
		{"/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=2", "application/vnd.apple.mpegurl", "public, max-age=6", f.st.current().playlist.b},
		{"/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=1", "application/vnd.apple.mpegurl", "public, max-age=6", f.st.current().segs[2].parts[1].playlist.b},
	}
	for _, tt := range tests {
		for _, method := range []string{"GET", "HEAD"} {
			rec := f.do(method, tt.target)
			h := rec.Header()
			if rec.Code != 200 || h.Get("Content-Type") != tt.ctype || h.Get("Cache-Control") != tt.cc ||
				h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Content-Length") != itoa(len(tt.body)) {
				t.Errorf("%s %s: %d %v", method, tt.target, rec.Code, h)
			}
			want := tt.body
			if method == "HEAD" {
				want = nil
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("%s %s: wrong body (%d bytes, want %d)", method, tt.target, rec.Body.Len(), len(want))
			}
		}
	}
}

func TestServeErrors(t *testing.T) {
	// Segments 0-7: the playlist lists 6 and 7, segments 2-5 are retired
	// but still served, 0 and 1 are gone; the next part is 8.0.
	f := newFixture(t, Config{WindowSegments: 2}, 800)
	tests := []struct {
		method, target string
		code           int
	}{
		{"GET", "/hls/sp_1/index.m3u8?_HLS_part=1", 400},
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=abc", 400},
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=8&_HLS_part=-1", 400},
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=8&_HLS_skip=maybe", 400},
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=1000", 400},
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=10", 400},            // three segments past the last complete (7)
		{"GET", "/hls/sp_1/index.m3u8?_HLS_msn=9&_HLS_part=5", 400}, // 16 parts past the newest (7.9), limit 15
		{"GET", "/hls/sp_1/9.5.m4s", 400},
		{"GET", "/hls/sp_1/50.0.m4s", 400},
		{"GET", "/hls/sp_1/50.m4s", 400},
		{"GET", "/hls/nope/index.m3u8", 404},
		{"GET", "/hls/nope/init.mp4", 404},
		{"GET", "/hls/sp_1/index.m3u", 404},
		{"GET", "/hls/sp_1/foo", 404},
		{"GET", "/hls/sp_1/1.0.m4s", 404}, // left the playlist too long ago
		{"GET", "/hls/sp_1/1.m4s", 404},
		{"GET", "/hls/sp_1/3.10.m4s", 404},
		{"GET", "/hls/sp_1/3.01.m4s", 404},
		{"GET", "/hls/", 404},
		{"POST", "/hls/sp_1/index.m3u8", 405},
		{"PUT", "/hls/sp_1/3.0.m4s", 405},
		{"OPTIONS", "/hls/sp_1/index.m3u8", 405},
	}
	for _, tt := range tests {
		start := time.Now()
		rec := f.do(tt.method, tt.target)
		if rec.Code != tt.code {
			t.Errorf("%s %s: got %d, want %d (%s)", tt.method, tt.target, rec.Code, tt.code, rec.Body)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s %s: took %v, want an immediate answer", tt.method, tt.target, d)
		}
		if rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Body.Len() == 0 || rec.Body.Len() > 100 {
			t.Errorf("%s %s: headers %v body %q", tt.method, tt.target, rec.Header(), rec.Body)
		}
		var body struct{ Error, Code string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || body.Code == "" ||
			rec.Header().Get("Content-Type") != "application/json" || rec.Header().Get("Content-Length") != itoa(rec.Body.Len()) {
			t.Errorf("%s %s: not a JSON error: %v %q %v", tt.method, tt.target, err, rec.Body, rec.Header())
		}
		if want := map[int]string{404: "not_found", 405: "method_not_allowed"}[rec.Code]; want != "" &&
			body.Code != want && body.Code != "not_live" {
			t.Errorf("%s %s: code %q, want %q", tt.method, tt.target, body.Code, want)
		}
		if rec.Code == 400 && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s: cacheable 400", tt.method, tt.target)
		}
	}
	if rec := f.do("POST", "/hls/sp_1/index.m3u8"); rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("405 without Allow: %v", rec.Header())
	}
	st := f.srv.Stats()
	if st.Rejected != 10 || st.NotFound != 9 || st.MethodNotAllowed != 4 {
		t.Errorf("stats = %+v", st)
	}
}

func TestServeOldMSNGetsCurrent(t *testing.T) {
	f := newFixture(t, Config{WindowSegments: 6}, 800)
	rec := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=0&_HLS_part=3")
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), f.st.current().playlist.b) {
		t.Errorf("old msn: %d, not the current playlist", rec.Code)
	}
	rec = f.do("GET", "/hls/sp_1/index.m3u8?_HLS_skip=YES")
	if !bytes.Equal(rec.Body.Bytes(), f.st.current().playlist.b) {
		t.Error("skip with a short window should give the full playlist")
	}
}

func TestServeDelta(t *testing.T) {
	f := newFixture(t, Config{WindowSegments: 10}, 1250)
	sn := f.st.current()
	for _, target := range []string{"/hls/sp_1/index.m3u8?_HLS_skip=YES", "/hls/sp_1/index.m3u8?_HLS_msn=12&_HLS_part=4&_HLS_skip=YES"} {
		rec := f.do("GET", target)
		if !bytes.Equal(rec.Body.Bytes(), sn.delta.b) {
			t.Errorf("%s: not the delta update:\n%s", target, rec.Body)
		}
	}
}

// get runs a real HTTP GET and reports the result on a channel.
type result struct {
	code int
	body []byte
	err  error
}

func get(ctx context.Context, url string) <-chan result {
	ch := make(chan result, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ch <- result{resp.StatusCode, b, err}
	}()
	return ch
}

func expectPending(t *testing.T, ch <-chan result, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned before the part existed: %d %s %v", what, r.code, r.body, r.err)
	case <-time.After(50 * time.Millisecond):
	}
}

func expectResult(t *testing.T, ch <-chan result, what string) result {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still blocked", what)
	}
	return result{}
}

func TestBlockingReload(t *testing.T) {
	f := newFixture(t, Config{}, 230) // next part: 2.3
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	ctx := t.Context()

	pl := get(ctx, ts.URL+"/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=3")
	pl2 := get(ctx, ts.URL+"/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=3") // the same request again
	part := get(ctx, ts.URL+"/hls/sp_1/2.3.m4s")                          // the preload hint
	seg := get(ctx, ts.URL+"/hls/sp_1/2.m4s")
	expectPending(t, pl, "playlist 2.3")
	expectPending(t, part, "part 2.3")
	f.feed(9)
	expectPending(t, pl, "playlist 2.3 after 9 frames")
	f.feed(1)
	r := expectResult(t, pl, "playlist 2.3")
	m := parseMedia(t, r.body)
	if last := m.Parts[len(m.Parts)-1]; last.URI != "2.3.m4s" || m.PreloadHint.URI != "2.4.m4s" {
		t.Errorf("playlist ends with %s, hint %s", last.URI, m.PreloadHint.URI)
	}
	r2 := expectResult(t, pl2, "second playlist 2.3")
	rp := expectResult(t, part, "part 2.3")
	if want := f.st.current().segs[2].parts[3].data.b; rp.code != 200 || !bytes.Equal(rp.body, want) {
		t.Errorf("part 2.3: %d, %d bytes", rp.code, len(rp.body))
	}
	expectPending(t, seg, "segment 2")

	// Later identical requests get identical bytes, even though the stream
	// moved on.
	f.feed(70)
	r3 := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=3")
	if !bytes.Equal(r.body, r2.body) || !bytes.Equal(r.body, r3.Body.Bytes()) {
		t.Error("identical blocking requests got different playlists")
	}
	if rs := expectResult(t, seg, "segment 2"); rs.code != 200 || !bytes.Equal(rs.body, f.st.current().segs[2].data.b) {
		t.Errorf("segment 2: %d", rs.code)
	}

	// _HLS_msn alone waits for the whole segment; a part index past the
	// end of a segment means the next segment's first part.
	whole := get(ctx, ts.URL+"/hls/sp_1/index.m3u8?_HLS_msn=3")
	past := get(ctx, ts.URL+"/hls/sp_1/index.m3u8?_HLS_msn=3&_HLS_part=10")
	expectPending(t, whole, "msn 3")
	f.feed(90) // completes segment 3
	if r := expectResult(t, whole, "msn 3"); !strings.Contains(string(r.body), "\n3.m4s\n") {
		t.Errorf("msn 3 returned without segment 3:\n%s", r.body)
	}
	expectPending(t, past, "3.10")
	f.feed(10)
	if r := expectResult(t, past, "3.10"); !strings.Contains(string(r.body), "4.0.m4s") {
		t.Errorf("3.10 returned without part 4.0:\n%s", r.body)
	}
	if st := f.srv.Stats(); st.BlockedWaits != 6 {
		t.Errorf("blocked waits = %d, want 6", st.BlockedWaits)
	}
}

func TestPlaylistWaitsForFirstSegment(t *testing.T) {
	f := newFixture(t, Config{}, 50)
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	pl := get(t.Context(), ts.URL+"/hls/sp_1/index.m3u8")
	expectPending(t, pl, "first playlist")
	f.feed(50)
	r := expectResult(t, pl, "first playlist")
	if m := parseMedia(t, r.body); len(m.Segments) != 1 {
		t.Errorf("first playlist has %d segments", len(m.Segments))
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	f := newFixture(t, Config{}, 205) // next part 2.0, 5 frames pending
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	ctx := t.Context()
	pl := get(ctx, ts.URL+"/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=1")
	hinted := get(ctx, ts.URL+"/hls/sp_1/2.0.m4s")
	never := get(ctx, ts.URL+"/hls/sp_1/2.1.m4s")
	expectPending(t, pl, "playlist 2.1")
	f.st.Close()
	r := expectResult(t, pl, "playlist 2.1")
	if m := parseMedia(t, r.body); r.code != 200 || !m.Endlist {
		t.Errorf("after close: %d, endlist %v", r.code, m.Endlist)
	}
	if r := expectResult(t, hinted, "part 2.0"); r.code != 200 {
		t.Errorf("last (short) part: %d", r.code)
	}
	if r := expectResult(t, never, "part 2.1"); r.code != 404 {
		t.Errorf("part after the end: %d, want 404", r.code)
	}
	// No more blocking once closed.
	start := time.Now()
	rec := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=5")
	if rec.Code != 200 || time.Since(start) > 100*time.Millisecond || !strings.HasSuffix(rec.Body.String(), "#EXT-X-ENDLIST\n") {
		t.Errorf("request after close: %d in %v", rec.Code, time.Since(start))
	}
}

func TestWaitTimesOut(t *testing.T) {
	t.Parallel()
	// 20 ms segments: target duration 1 s, so waits end after 3 s.
	f := newFixture(t, Config{PartDuration: 20 * time.Millisecond, SegmentParts: 1}, 3)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go f.srv.Run(ctx)
	start := time.Now()
	rec := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=3")
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("stalled stream: %d %v", rec.Code, rec.Header())
	}
	if d := time.Since(start); d < 3*time.Second || d > 5*time.Second {
		t.Errorf("gave up after %v, want 3-4 s", d)
	}
}

// TestNoGoroutinePerRequest blocks many requests and checks that the
// handler adds no goroutine of its own to the callers'.
func TestNoGoroutinePerRequest(t *testing.T) {
	f := newFixture(t, Config{}, 230)
	const n = 1000
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, n)
	for i := range n {
		recs[i] = httptest.NewRecorder()
		target := "/hls/sp_1/index.m3u8?_HLS_msn=2&_HLS_part=3"
		if i%2 == 1 {
			target = "/hls/sp_1/2.3.m4s"
		}
		req := httptest.NewRequest("GET", target, nil)
		wg.Go(func() { f.srv.ServeHTTP(recs[i], req) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Stats().BlockedWaits < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := runtime.NumGoroutine() - before; got > n {
		t.Errorf("%d blocked requests run %d goroutines", n, got)
	}
	f.feed(10)
	wg.Wait()
	for i, rec := range recs {
		if rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
}

func TestServerRegistry(t *testing.T) {
	srv := NewServer(nil)
	a := NewStream("sp_1", t0, t0, Config{})
	b := NewStream("sp_1", t0, t0.Add(time.Minute), Config{})
	srv.Add(a)
	srv.Add(b)
	if srv.Stream("sp_1") != b {
		t.Error("Add did not replace")
	}
	srv.Remove("sp_1")
	srv.Remove("sp_1")
	if srv.Stream("sp_1") != nil {
		t.Error("Remove did not remove")
	}
}

// TestRetiredSegmentsServed checks RFC 8216bis §6.2.2: a segment removed
// from the playlist stays available for its duration plus the duration of
// the playlist it was last in, and memory stays bounded after that.
func TestRetiredSegmentsServed(t *testing.T) {
	f := newFixture(t, Config{}, 1100) // 11 segments: the playlist lists 1-10
	sn := f.st.current()
	seg0 := append([]byte(nil), sn.retired[0].data.b...)
	part3 := append([]byte(nil), sn.retired[0].parts[3].data.b...)
	if strings.Contains(string(sn.playlist.b), "\n0.m4s\n") || sn.firstMSN != 1 {
		t.Fatalf("segment 0 still listed (first msn %d)", sn.firstMSN)
	}
	// The longest playlist that listed segment 0 was 10 segments and 9
	// parts (21.8 s); with its own 2 s it must stay until 23.8 s of media
	// after its removal, i.e. through frame 1100+1190.
	check := func(wantCode int) {
		t.Helper()
		for target, want := range map[string][]byte{"/hls/sp_1/0.m4s": seg0, "/hls/sp_1/0.3.m4s": part3} {
			rec := f.do("GET", target)
			if rec.Code != wantCode || (wantCode == 200 && !bytes.Equal(rec.Body.Bytes(), want)) {
				t.Fatalf("after %d frames %s: %d, want %d", f.next, target, rec.Code, wantCode)
			}
		}
	}
	check(200)
	f.feed(1190)
	check(200)
	if rec := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=0&_HLS_part=3"); rec.Code != 200 ||
		!bytes.Equal(rec.Body.Bytes(), f.st.current().playlist.b) {
		t.Errorf("blocking reload for a retired part: %d, not the current playlist", rec.Code)
	}
	f.feed(5000)
	check(404)
	if n := len(f.st.current().retired); n != f.st.keepRetired || n != DefaultWindowSegments+2 {
		t.Errorf("%d retired segments kept, want %d", n, DefaultWindowSegments+2)
	}
	for _, seg := range f.st.current().retired {
		for _, p := range seg.parts {
			if p.playlist != nil || p.delta != nil {
				t.Fatal("a retired part keeps its playlist versions")
			}
		}
	}
}

// TestHoldLimits checks both sides of RFC 8216bis §6.2.5.2: requests up
// to two segments past the last complete one, and within the Advance Part
// Limit (3 s / 200 ms = 15 parts), are held until the media exists; one
// further is refused at once (TestServeErrors).
func TestHoldLimits(t *testing.T) {
	f := newFixture(t, Config{}, 800) // segments 0-7, newest part 7.9
	if f.st.advanceParts != 15 {
		t.Fatalf("advance part limit %d, want 15", f.st.advanceParts)
	}
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	ctx := t.Context()
	held := map[string]<-chan result{}
	for _, target := range []string{
		"/hls/sp_1/index.m3u8?_HLS_msn=9",             // last complete + 2
		"/hls/sp_1/index.m3u8?_HLS_msn=9&_HLS_part=4", // 15 parts past 7.9
		"/hls/sp_1/9.4.m4s",
		"/hls/sp_1/9.m4s",
	} {
		held[target] = get(ctx, ts.URL+target)
	}
	for target, ch := range held {
		expectPending(t, ch, target)
	}
	for _, target := range []string{"/hls/sp_1/index.m3u8?_HLS_msn=10", "/hls/sp_1/index.m3u8?_HLS_msn=9&_HLS_part=5", "/hls/sp_1/9.5.m4s", "/hls/sp_1/10.m4s"} {
		if rec := f.do("GET", target); rec.Code != 400 {
			t.Errorf("%s: %d, want 400 at once", target, rec.Code)
		}
	}
	f.feed(200) // segments 8 and 9
	for target, ch := range held {
		if r := expectResult(t, ch, target); r.code != 200 {
			t.Errorf("%s: %d after the media appeared", target, r.code)
		}
	}
	if r := f.do("GET", "/hls/sp_1/index.m3u8?_HLS_msn=9"); !strings.Contains(r.Body.String(), "\n9.m4s\n") {
		t.Errorf("msn 9 answered without segment 9:\n%s", r.Body)
	}
}
