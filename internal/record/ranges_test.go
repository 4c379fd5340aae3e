package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
	"testing"
)

// TestReplayDownloadRanges: Range edge cases answered as RFC 9110 says;
// every 416 names the size (bytes */N) and is a JSON error like the API's.
func TestReplayDownloadRanges(t *testing.T) {
	e := newReplayEnv(t)
	e.srv.SetComplete("sp_pub", true)
	rec, err := Load(e.st, "sp_pub")
	if err != nil {
		t.Fatal(err)
	}
	var whole bytes.Buffer
	if err := rec.WriteOgg(&whole); err != nil {
		t.Fatal(err)
	}
	all := whole.Bytes()
	n := int64(len(all))
	sz := strconv.FormatInt(n, 10)
	for _, c := range []struct {
		rng, contentRange string
		status            int
		body              []byte
	}{
		{"bytes=-0", "bytes */" + sz, 416, nil},
		{"bytes=0-0", "bytes 0-0/" + sz, 206, all[:1]},
		{"bytes=5-2", "bytes */" + sz, 416, nil},
		{"bytes=" + sz + "-", "bytes */" + sz, 416, nil},
		{"bytes=" + sz + "-" + strconv.FormatInt(n+10, 10), "bytes */" + sz, 416, nil},
		{fmt.Sprintf("bytes=%d-%d", n-5, n+100), fmt.Sprintf("bytes %d-%d/%s", n-5, n-1, sz), 206, all[n-5:]},
		{"bytes=-10", fmt.Sprintf("bytes %d-%d/%s", n-10, n-1, sz), 206, all[n-10:]},
		{fmt.Sprintf("bytes=-%d", n*2), fmt.Sprintf("bytes 0-%d/%s", n-1, sz), 206, all},
		{"bytes=-0,-0", "bytes */" + sz, 416, nil},
		{"bytes=-0,0-1", "bytes 0-1/" + sz, 206, all[:2]}, // the empty range is dropped, one remains
		{"bytes=99999999999999999999-", "", 200, all},     // not a number: ignored
		{"items=0-1", "", 200, all},                       // another unit: ignored
		{"bytes=", "", 200, all},
		{"bytes=abc", "", 200, all},
	} {
		res, body := e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", c.rng)
		if res.StatusCode != c.status || res.Header.Get("Content-Range") != c.contentRange {
			t.Errorf("Range %q: %d Content-Range %q; want %d %q", c.rng, res.StatusCode, res.Header.Get("Content-Range"), c.status, c.contentRange)
			continue
		}
		if c.status == 416 {
			var je struct{ Error, Code string }
			if res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &je) != nil || je.Code != "range_not_satisfiable" {
				t.Errorf("Range %q: 416 body %q (%s), want a JSON error", c.rng, body, res.Header.Get("Content-Type"))
			}
			continue
		}
		if !bytes.Equal(body, c.body) {
			t.Errorf("Range %q: %d bytes, want %d", c.rng, len(body), len(c.body))
		}
	}

	// Two ranges: a multipart answer with exactly those bytes.
	res, body := e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", "bytes=0-3,10-19")
	mt, params, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if res.StatusCode != 206 || mt != "multipart/byteranges" {
		t.Fatalf("two ranges: %d %q, want 206 multipart/byteranges", res.StatusCode, res.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for _, want := range []struct {
		cr   string
		body []byte
	}{{"bytes 0-3/" + sz, all[:4]}, {"bytes 10-19/" + sz, all[10:20]}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		got.ReadFrom(p)
		if p.Header.Get("Content-Range") != want.cr || !bytes.Equal(got.Bytes(), want.body) {
			t.Errorf("part %q with %d bytes, want %q", p.Header.Get("Content-Range"), got.Len(), want.cr)
		}
	}
	// A stale If-Range gets the whole object, even with a range that
	// would be refused.
	res, body = e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", "bytes=-0", "If-Range", `"stale"`)
	if res.StatusCode != 200 || !bytes.Equal(body, all) {
		t.Errorf("stale If-Range: %d with %d bytes, want 200 with all", res.StatusCode, len(body))
	}
	etag := res.Header.Get("ETag")
	res, body = e.do(t, "GET", "/replay/sp_pub/recording.opus", "Range", "bytes=0-0", "If-Range", etag)
	if res.StatusCode != 206 || len(body) != 1 {
		t.Errorf("current If-Range: %d with %d bytes, want 206 with 1", res.StatusCode, len(body))
	}
}

// TestReplayErrorsAreJSON: every refusal of /replay is a JSON error
// shaped like the API's, never text.
func TestReplayErrorsAreJSON(t *testing.T) {
	e := newReplayEnv(t)
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/replay/sp_hidden/index.m3u8", 404, "not_found"},
		{"GET", "/replay/sp_pub/nope.txt", 404, "not_found"},
		{"GET", "/replay/sp_none/index.m3u8", 404, "not_found"},
		{"GET", "/replay/sp_pub/900000-1.m4s", 404, "not_found"},
		{"POST", "/replay/sp_pub/index.m3u8", 405, "method_not_allowed"},
	} {
		res, body := e.do(t, c.method, c.path)
		var je struct{ Error, Code string }
		if res.StatusCode != c.status || res.Header.Get("Content-Type") != "application/json" ||
			json.Unmarshal(body, &je) != nil || je.Code != c.code || je.Error == "" || strings.Contains(je.Error, "\n") {
			t.Errorf("%s %s: %d %q %q; want %d JSON with code %s", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"), body, c.status, c.code)
		}
		if res.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
			t.Errorf("%s %s: Content-Length %s for %d bytes", c.method, c.path, res.Header.Get("Content-Length"), len(body))
		}
	}
}

// FuzzSatisfiable: any Range header gives ranges inside the object,
// first ≤ last, that format back to a header read the same way.
func FuzzSatisfiable(f *testing.F) {
	for _, s := range []string{"bytes=-0", "bytes=0-0", "bytes=5-2", "bytes=0-1,5-6", "bytes=-5", "items=1-2", "bytes=,", "bytes=99999999999999999999-"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		rs, ignore, unsat := satisfiable(h, size)
		if ignore && unsat || (len(rs) > 0) == (ignore || unsat) {
			t.Fatalf("%q: ranges %v, ignore %v, unsatisfiable %v", h, rs, ignore, unsat)
		}
		for _, r := range rs {
			if r.first < 0 || r.first > r.last || r.last >= size {
				t.Fatalf("%q over %d bytes: range %+v", h, size, r)
			}
		}
		if len(rs) > 0 {
			again, ig, un := satisfiable(formatRanges(rs), size)
			if ig || un || len(again) != len(rs) {
				t.Fatalf("%q: %v formats to %q, read back as %v", h, rs, formatRanges(rs), again)
			}
		}
	})
}
