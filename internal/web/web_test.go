package web

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The test works whatever state dist/ is in: with the UI built it checks the
// pages and assets; without it, the 503 "UI not built" answers.
func TestServePage(t *testing.T) {
	for _, name := range []string{IndexPage, ListenPage, StudioPage, ReplayPage, AdminPage, "index", "listen", "studio", "replay", "admin"} {
		rec := httptest.NewRecorder()
		ServePage(rec, httptest.NewRequest(http.MethodGet, "/", nil), name)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if !Built() {
			if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "UI not built") {
				t.Fatalf("%s unbuilt: got %d %q, want 503 UI not built", name, res.StatusCode, body)
			}
			if _, err := Page(name); err != ErrNotBuilt {
				t.Fatalf("Page(%s) err = %v, want ErrNotBuilt", name, err)
			}
			continue
		}
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", name, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s: Cache-Control %q", name, cc)
		}
		if rp := res.Header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", name, rp)
		}
		// hls.js's transmuxer and the join challenge's proof of work run in blob: workers.
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "worker-src 'self' blob:") {
			t.Errorf("%s: Content-Security-Policy %q lacks worker-src 'self' blob:", name, csp)
		}
		if !strings.Contains(string(body), "<!doctype html>") {
			t.Errorf("%s: body is not the page: %.80q", name, body)
		}
		page, err := Page(strings.TrimSuffix(name, ".html"))
		if err != nil || string(page) != string(body) {
			t.Errorf("Page(%s) = %d bytes, %v; want the served page", name, len(page), err)
		}
		// Every asset the page references is served, hashed ones immutable.
		for _, ref := range assetRefs(string(body)) {
			checkAsset(t, ref)
		}
	}
}

func TestServePageUnknownAndMethod(t *testing.T) {
	rec := httptest.NewRecorder()
	ServePage(rec, httptest.NewRequest(http.MethodGet, "/", nil), "nope.html")
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("unknown page: status %d, want 503", rec.Code)
	}
	rec = httptest.NewRecorder()
	ServePage(rec, httptest.NewRequest(http.MethodPost, "/", nil), IndexPage)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST page: status %d, want 405", rec.Code)
	}
}

func TestHandlerNotFound(t *testing.T) {
	for _, p := range []string{"/assets/nope-AAAAAAAA.js", "/assets/../web.go", "/index.html", "/assets/"} {
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
		want := http.StatusNotFound
		if !Built() && strings.HasPrefix(p, "/assets/") && !strings.Contains(p, "..") {
			want = http.StatusServiceUnavailable
		}
		if rec.Code != want {
			t.Errorf("%s: status %d, want %d", p, rec.Code, want)
		}
	}
}

func assetRefs(html string) []string {
	var refs []string
	for _, part := range strings.Split(html, `"/assets/`)[1:] {
		if i := strings.IndexByte(part, '"'); i > 0 {
			refs = append(refs, "/assets/"+part[:i])
		}
	}
	return refs
}

func checkAsset(t *testing.T, ref string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, ref, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	res := rec.Result()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", ref, res.StatusCode)
	}
	if hashedName.MatchString(ref) && res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("%s: Cache-Control %q", ref, res.Header.Get("Cache-Control"))
	}
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatalf("%s: gzip: %v", ref, err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil || len(b) == 0 {
		t.Fatalf("%s: body %d bytes, %v", ref, len(b), err)
	}
	// Revalidation by ETag.
	req = httptest.NewRequest(http.MethodGet, ref, nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	req.Header.Set("Accept-Encoding", "gzip")
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("%s: If-None-Match: status %d, want 304", ref, rec.Code)
	}
}
