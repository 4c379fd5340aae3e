package record

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// testPolicy: sp_pub* are published, sp_priv* need token "t 1&x", the
// rest is hidden.
func testPolicy(r *http.Request, id string) (public, ok bool) {
	switch {
	case strings.HasPrefix(id, "sp_pub"):
		return true, true
	case strings.HasPrefix(id, "sp_priv"):
		return false, r.URL.Query().Get("token") == "t 1&x"
	}
	return false, false
}

type replayEnv struct {
	st   *DirStorage
	srv  *Server
	http *httptest.Server
	pkts [][]byte
}

func newReplayEnv(t *testing.T) *replayEnv {
	t.Helper()
	e := &replayEnv{st: newDir(t), pkts: schedule(t)}
	for _, id := range []string{"sp_pub", "sp_priv", "sp_hidden"} {
		record(t, e.st, id, t0, e.pkts, nil)
	}
	e.srv = NewServer(e.st, testPolicy, Views{}, nil, nil)
	mux := http.NewServeMux()
	mux.Handle(Prefix, e.srv)
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	return e
}

func (e *replayEnv) do(t *testing.T, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%s %s: no CORS header", method, path)
	}
	return res, body
}

func (e *replayEnv) get(t *testing.T, path string, wantStatus int, wantCC string) []byte {
	t.Helper()
	res, body := e.do(t, "GET", path)
	if res.StatusCode != wantStatus {
		t.Fatalf("GET %s = %d %q, want %d", path, res.StatusCode, body, wantStatus)
	}
	if cc := res.Header.Get("Cache-Control"); wantCC != "" && cc != wantCC {
		t.Errorf("GET %s: Cache-Control %q, want %q", path, cc, wantCC)
	}
	return body
}

func parseMedia(t *testing.T, b []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("playlist.Unmarshal: %v\n%s", err, b)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("got %T, want *playlist.Media", pl)
	}
	return m
}

const immutable = "public, max-age=31536000, immutable"

func TestReplayPublicVOD(t *testing.T) {
	e := newReplayEnv(t)
	e.srv.SetComplete("sp_pub", true)
	m := parseMedia(t, e.get(t, "/replay/sp_pub/index.m3u8", 200, "public, max-age=60"))
	if !m.Endlist || m.PlaylistType == nil || *m.PlaylistType != playlist.MediaPlaylistTypeVOD || m.TargetDuration != 6 {
		t.Errorf("playlist endlist %v type %v target %d, want a VOD of 6 s segments", m.Endlist, m.PlaylistType, m.TargetDuration)
	}
	if m.Map == nil || m.Map.URI != "init.mp4" || len(m.Segments) != 2 ||
		m.Segments[0].URI != "0-300.m4s" || m.Segments[1].URI != "300-200.m4s" ||
		m.Segments[0].Duration != 6*time.Second || m.Segments[1].Duration != 4*time.Second {
		t.Fatalf("map %+v segments %+v %+v", m.Map, m.Segments[0], m.Segments[len(m.Segments)-1])
	}

	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(e.get(t, "/replay/sp_pub/init.mp4", 200, immutable))); err != nil {
		t.Fatal(err)
	}
	if c, ok := init.Tracks[0].Codec.(*codecs.Opus); !ok || c.ChannelCount != 1 || init.Tracks[0].TimeScale != 48000 {
		t.Fatalf("init track %+v", init.Tracks[0])
	}
	next := 0
	for _, seg := range m.Segments {
		for range 2 { // the second time from the cache
			var parts fmp4.Parts
			if err := parts.Unmarshal(e.get(t, "/replay/sp_pub/"+seg.URI, 200, immutable)); err != nil {
				t.Fatalf("%s: %v", seg.URI, err)
			}
			i := next
			for _, p := range parts {
				tr := p.Tracks[0]
				if tr.BaseTime != uint64(i)*960 {
					t.Errorf("%s: base time %d, want %d", seg.URI, tr.BaseTime, i*960)
				}
				for _, s := range tr.Samples {
					if !bytes.Equal(s.Payload, e.pkts[i]) || s.Duration != 960 {
						t.Fatalf("%s: sample for packet %d differs from what was recorded", seg.URI, i)
					}
					i++
				}
			}
			if i-next != int(seg.Duration/(20*time.Millisecond)) {
				t.Fatalf("%s holds %d packets", seg.URI, i-next)
			}
		}
		next += int(seg.Duration / (20 * time.Millisecond))
	}
	if next != 500 {
		t.Fatalf("segments cover %d packets, want 500", next)
	}

	for _, p := range []string{
		"1-300.m4s", "0-301.m4s", "0-0.m4s", "300-201.m4s", "300-300.m4s", "600-1.m4s", "00-300.m4s",
		"0-300.mp4", "-300.m4s", "0-300", "x.m4s", "index.m3u", "", "init.mp4/x", "0-+1.m4s",
	} {
		e.get(t, "/replay/sp_pub/"+p, 404, "no-store")
	}
	for _, p := range []string{"/replay/sp_nope/index.m3u8", "/replay/sp_pub", "/replay/", "/replay/sp pub/init.mp4"} {
		e.get(t, p, 404, "")
	}
}

func TestReplayEventWhileRecording(t *testing.T) {
	e := newReplayEnv(t)
	m := parseMedia(t, e.get(t, "/replay/sp_pub/index.m3u8", 200, "public, max-age=5"))
	if m.Endlist || m.PlaylistType == nil || *m.PlaylistType != playlist.MediaPlaylistTypeEvent || len(m.Segments) != 1 {
		t.Fatalf("event playlist: endlist %v type %v %d segments, want EVENT with the one full segment", m.Endlist, m.PlaylistType, len(m.Segments))
	}
	// The recording grows (another session): the index is reloaded.
	record(t, e.st, "sp_pub", t0.Add(time.Minute), e.pkts[:200], nil)
	m = parseMedia(t, e.get(t, "/replay/sp_pub/index.m3u8", 200, ""))
	if len(m.Segments) != 2 || m.Segments[1].URI != "300-300.m4s" {
		t.Fatalf("after growing: %d segments", len(m.Segments))
	}
	e.get(t, "/replay/sp_pub/300-300.m4s", 200, immutable)
	e.srv.SetComplete("sp_pub", true)
	m = parseMedia(t, e.get(t, "/replay/sp_pub/index.m3u8", 200, ""))
	if len(m.Segments) != 3 || m.Segments[2].URI != "600-100.m4s" || !m.Endlist {
		t.Fatalf("complete: %d segments, endlist %v", len(m.Segments), m.Endlist)
	}
	// Deleted: Forget drops everything cached.
	if err := Delete(e.st, "sp_pub"); err != nil {
		t.Fatal(err)
	}
	e.srv.Forget("sp_pub")
	e.get(t, "/replay/sp_pub/index.m3u8", 404, "")
	e.get(t, "/replay/sp_pub/0-300.m4s", 404, "")
	e.get(t, "/replay/sp_pub/recording.opus", 404, "")
}

func TestReplayPrivate(t *testing.T) {
	e := newReplayEnv(t)
	e.srv.SetComplete("sp_priv", true)
	q := "?token=t+1%26x"
	b := e.get(t, "/replay/sp_priv/index.m3u8"+q+"&other=1", 200, "private, no-store")
	m := parseMedia(t, b)
	if m.Map.URI != "init.mp4"+q || m.Segments[0].URI != "0-300.m4s"+q || strings.Contains(string(b), "other") {
		t.Fatalf("private playlist URIs do not carry exactly the token:\n%s", b)
	}
	e.get(t, "/replay/sp_priv/init.mp4"+q, 200, "private, no-store")
	e.get(t, "/replay/sp_priv/0-300.m4s"+q, 200, "private, no-store")
	e.get(t, "/replay/sp_priv/recording.opus"+q, 200, "private, no-store")
	for _, f := range []string{"index.m3u8", "init.mp4", "0-300.m4s", "recording.opus"} {
		e.get(t, "/replay/sp_priv/"+f, 404, "no-store")
		e.get(t, "/replay/sp_priv/"+f+"?token=wrong", 404, "no-store")
		e.get(t, "/replay/sp_hidden/"+f, 404, "no-store")
	}
}

func TestReplayDownload(t *testing.T) {
	e := newReplayEnv(t)
	e.srv.SetComplete("sp_pub", true)
	rec, err := Load(e.st, "sp_pub")
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := rec.WriteOgg(&want); err != nil {
		t.Fatal(err)
	}
	res, body := e.do(t, "GET", "/replay/sp_pub/recording.opus")
	if res.StatusCode != 200 || !bytes.Equal(body, want.Bytes()) {
		t.Fatalf("download: %d, %d bytes; want 200 and %d bytes equal to WriteOgg", res.StatusCode, len(body), want.Len())
	}
	if ct, cd, cc := res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"), res.Header.Get("Cache-Control"); ct != "audio/ogg" || !strings.HasPrefix(cd, "attachment") || cc != immutable {
		t.Errorf("download headers: type %q disposition %q cache %q", ct, cd, cc)
	}
	built, _ := e.st.List("sp_pub/recording-")
	if len(built) != 1 {
		t.Fatalf("built downloads in storage: %+v, want one", built)
	}

	res, body = e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", "bytes=0-99")
	if res.StatusCode != 206 || len(body) != 100 || !bytes.Equal(body, want.Bytes()[:100]) {
		t.Errorf("Range 0-99: %d with %d bytes, want 206 with the first 100", res.StatusCode, len(body))
	}
	res, _ = e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", "bytes=999999999-")
	if res.StatusCode != 416 {
		t.Errorf("unsatisfiable Range: %d, want 416", res.StatusCode)
	}
	res, body = e.do(t, "HEAD", "/replay/sp_pub/recording.opus")
	if res.StatusCode != 200 || len(body) != 0 || res.ContentLength != int64(want.Len()) {
		t.Errorf("HEAD: %d, %d body bytes, length %d", res.StatusCode, len(body), res.ContentLength)
	}
	res, body = e.do(t, "HEAD", "/replay/sp_pub/0-300.m4s")
	if res.StatusCode != 200 || len(body) != 0 || res.ContentLength <= 0 {
		t.Errorf("HEAD segment: %d, %d body bytes, length %d", res.StatusCode, len(body), res.ContentLength)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		res, _ = e.do(t, m, "/replay/sp_pub/recording.opus")
		if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d allow %q, want 405", m, res.StatusCode, res.Header.Get("Allow"))
		}
	}
	// Not rebuilt per request: the same object serves again.
	e.do(t, "GET", "/replay/sp_pub/recording.opus")
	again, _ := e.st.List("sp_pub/recording-")
	if len(again) != 1 || again[0] != built[0] {
		t.Errorf("download rebuilt: %+v then %+v", built, again)
	}
	// A new session is a new version: a new build replaces the old one.
	record(t, e.st, "sp_pub", t0.Add(time.Hour), e.pkts[:50], nil)
	_, body = e.do(t, "GET", "/replay/sp_pub/recording.opus")
	if read, _ := readOgg(t, body); len(read) != 550 {
		t.Errorf("download after a new session has %d packets, want 550", len(read))
	}
	if after, _ := e.st.List("sp_pub/recording-"); len(after) != 1 || after[0].Name == built[0].Name {
		t.Errorf("builds after a new version: %+v", after)
	}
}

func TestReplayConcurrent(t *testing.T) {
	e := newReplayEnv(t)
	e.srv.SetComplete("sp_pub", true)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			paths := []string{"index.m3u8", "0-300.m4s", "300-200.m4s", "recording.opus", "init.mp4"}
			p := paths[i%len(paths)]
			res, err := http.Get(e.http.URL + "/replay/sp_pub/" + p)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("%s: %d", p, res.StatusCode)
			}
		})
	}
	wg.Wait()
}
