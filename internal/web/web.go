// Package web embeds podium's built UI.
//
// The UI sources live in web/ at the repository root; `make ui` (or
// `cd web && npm ci && npm run build`) writes the built pages and assets into
// dist/, which is embedded here. Before the UI is built, dist/ holds only a
// placeholder and the handlers answer 503 "UI not built: run make ui".
//
// Routing (done by the server's router):
//
//	/assets/...     → Handler()
//	/               → ServePage(w, r, "index")
//	/s/{id}         → ServePage(w, r, "listen")
//	/studio/{id}    → ServePage(w, r, "studio")
//	/r/{id}         → ServePage(w, r, "replay")
//	/admin          → ServePage(w, r, "admin")
//
// The pages read the space id from location.pathname. The studio reads its
// credential from the fragment (#token=, never sent to a server); the replay
// page takes a read-only preview token from ?token=.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Pages the UI provides.
const (
	IndexPage  = "index.html"
	ListenPage = "listen.html"
	StudioPage = "studio.html"
	ReplayPage = "replay.html"
	AdminPage  = "admin.html"
)

// ErrNotBuilt is returned by Page when the UI has not been built into dist/.
var ErrNotBuilt = errors.New("UI not built: run make ui")

// hashedName matches esbuild's content-hashed file names, e.g. listen-S2XFON73.js.
var hashedName = regexp.MustCompile(`-[A-Z0-9]{8}\.[a-z0-9]+$`)

// Content-Security-Policy for the pages: everything from this origin, except
// that the HLS playlist may live on a CDN host, hls.js runs its transmuxer in
// a blob: worker and feeds the <audio> element through a blob: MediaSource,
// and the listener page solves join challenges (proof of work) in a blob:
// worker.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob: https: http:; connect-src 'self' https: http:; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

type file struct {
	body      []byte
	gz        []byte // nil when compression does not help
	etag      string
	ctype     string
	immutable bool
}

var (
	loadOnce sync.Once
	files    map[string]*file // "index.html", "assets/listen-XXXX.js", ...
)

func load() {
	files = map[string]*file{}
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		name := strings.TrimPrefix(p, "dist/")
		if strings.HasPrefix(path.Base(name), ".") {
			return nil
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return nil
		}
		sum := sha256.Sum256(b)
		f := &file{
			body:      b,
			etag:      `"` + hex.EncodeToString(sum[:12]) + `"`,
			ctype:     mime.TypeByExtension(path.Ext(name)),
			immutable: strings.HasPrefix(name, "assets/") && hashedName.MatchString(name),
		}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if len(b) > 1024 && compressible(f.ctype) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			if buf.Len() < len(b)*9/10 {
				f.gz = buf.Bytes()
			}
		}
		files[name] = f
		return nil
	})
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") ||
		strings.Contains(ctype, "json") || strings.Contains(ctype, "svg")
}

func lookup(name string) *file {
	loadOnce.Do(load)
	return files[name]
}

// Built reports whether the UI pages are present in the embedded dist/.
func Built() bool {
	return lookup(IndexPage) != nil && lookup(ListenPage) != nil && lookup(StudioPage) != nil &&
		lookup(ReplayPage) != nil && lookup(AdminPage) != nil
}

// pageFile maps a page name, with or without ".html" ("listen",
// "listen.html"), to its embedded file, nil when missing.
func pageFile(name string) *file {
	name = strings.TrimPrefix(name, "/")
	if !strings.HasSuffix(name, ".html") {
		name += ".html"
	}
	if strings.Contains(name, "/") {
		return nil
	}
	return lookup(name)
}

// Page returns the HTML of a page: "index", "listen", "studio", "replay" or "admin" (the
// ".html" suffix is optional), or ErrNotBuilt when dist/ does not have it.
func Page(name string) ([]byte, error) {
	f := pageFile(name)
	if f == nil {
		return nil, ErrNotBuilt
	}
	return f.body, nil
}

// ServePage writes a page (see Page) with no-cache and security headers, or
// 503 "UI not built: run make ui" when it is missing. GET and HEAD only.
func ServePage(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := pageFile(name)
	if f == nil {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Retry-After", "60")
		http.Error(w, ErrNotBuilt.Error(), http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	// Replay URLs may carry a preview token (and older studio links a
	// token in the query): never leak them through Referer.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
	h.Set("Cache-Control", "no-cache")
	serveFile(w, r, f)
}

// Handler serves the UI's static assets. Mount it at "/assets/": it expects
// the full request path (/assets/listen-XXXX.js). Content-hashed files are
// cacheable for a year; others are sent with Cache-Control: no-cache.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		if !strings.HasPrefix(name, "assets/") || strings.Contains(name, "..") {
			http.NotFound(w, r)
			return
		}
		f := lookup(name)
		if f == nil {
			if !Built() {
				w.Header().Set("Cache-Control", "no-store")
				http.Error(w, ErrNotBuilt.Error(), http.StatusServiceUnavailable)
				return
			}
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if f.immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		serveFile(w, r, f)
	})
}

func serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	body := f.body
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			h.Set("ETag", strings.TrimSuffix(f.etag, `"`)+`-gz"`)
			body = f.gz
			r.Header.Del("Range") // ranges of the compressed form are not useful here
		}
	}
	// ServeContent handles If-None-Match, HEAD and Range.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
				return false
			}
		}
		return true
	}
	return false
}
