package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/hls"
)

// Policy decides who may see a space's recording. ok=false → 404 (no hint
// that it exists). public=true → published: cached publicly and, where
// the content cannot change, immutably.
type Policy func(r *http.Request, spaceID string) (public, ok bool)

// Precomputed header values, shared by every response: never modified.
var (
	hvCORS       = []string{"*"}
	hvExpose     = []string{"Content-Length, Content-Range, Accept-Ranges"}
	hvPlaylist   = []string{"application/vnd.apple.mpegurl"}
	hvMP4        = []string{"audio/mp4"}
	hvOgg        = []string{"audio/ogg"}
	hvJSON       = []string{"application/json"}
	hvNosniff    = []string{"nosniff"}
	hvAllow      = []string{"GET, HEAD"}
	hvImmutable  = []string{"public, max-age=31536000, immutable"}
	hvVOD        = []string{"public, max-age=60"}
	hvPublicLive = []string{"public, max-age=5"} // still recording: changes every part
	hvPrivate    = []string{"private, no-store"}
	hvNoStore    = []string{"no-store"}
)

// Cache budgets.
const (
	recCacheEntries  = 32       // loaded indexes
	segCacheBytes    = 64 << 20 // built segments
	downloadMaxStale = time.Minute
)

// Server serves recordings under Prefix: HLS VOD/EVENT playlists of 6 s
// fMP4 segments in the live stream's format, and the Ogg Opus download.
// It holds no per-listener state.
//
// Concurrency: mu guards recs, segs, complete and built (completeFn is
// set once by NewServer);
// nothing is done under mu but map and list operations. dlMu serializes
// download builds (one at a time per server: each is a full read of a
// recording). Lock order: dlMu before mu. Loaded Recordings and segment
// bytes are immutable and used outside the lock.
type Server struct {
	st     Storage
	policy Policy
	views  Views
	log    *slog.Logger
	init   []byte
	initCL []string

	mu       sync.Mutex
	recs     *lru[string, *Recording]
	segs     *lru[segKey, *segEntry]
	complete map[string]bool
	// notYet remembers when completeFn last said "not complete", so a
	// busy in-progress replay asks it at most once a second.
	notYet     map[string]time.Time
	completeFn func(spaceID string) bool
	built      map[string]download // last download built per space

	dlMu sync.Mutex
}

var _ http.Handler = (*Server)(nil)

type segKey struct {
	id, view     string
	first, count int
}

type segEntry struct {
	body []byte
	clen []string
}

// download is a built download object.
type download struct {
	name    string
	version string
	size    int64
	built   time.Time
}

// NewServer returns a Server reading from st, asking policy on every
// request. complete (may be nil) is asked for spaces SetComplete was never
// called for (e.g. after a restart); it must be cheap and safe for
// concurrent use. log may be nil.
//
// views says which view each request may read: segments and the download
// of a view carry Opus silence of the same length where it withholds a
// range (built and cached per view id, whose content never changes).
func NewServer(st Storage, policy Policy, views Views, complete func(spaceID string) bool, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	init, err := hls.InitSegment()
	if err != nil {
		panic(err) // depends on constants only
	}
	return &Server{
		st: st, policy: policy, views: views, log: log, completeFn: complete,
		init: init, initCL: []string{strconv.Itoa(len(init))},
		recs:     newLRU[string, *Recording](recCacheEntries, func(*Recording) int64 { return 1 }),
		segs:     newLRU[segKey, *segEntry](segCacheBytes, func(e *segEntry) int64 { return int64(len(e.body)) + 64 }),
		complete: map[string]bool{},
		notYet:   map[string]time.Time{},
		built:    map[string]download{},
	}
}

// SetComplete says whether spaceID's recording is final (the space ended
// and will not record again): a complete recording is served as a VOD
// playlist with EXT-X-ENDLIST and, when public, cached immutably. Until
// told, a recording is not complete (an EVENT playlist).
func (s *Server) SetComplete(spaceID string, complete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.complete[spaceID] = complete
}

// Forget drops cached state of spaceID (after deletion, or when a
// session ends).
func (s *Server) Forget(spaceID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs.remove(spaceID)
	s.segs.removeIf(func(k segKey) bool { return k.id == spaceID })
	for k := range s.built {
		if strings.HasPrefix(k, spaceID+"/") {
			delete(s.built, k)
		}
	}
}

func (s *Server) isComplete(id string) bool {
	s.mu.Lock()
	c, ok := s.complete[id]
	fn := s.completeFn // set once by NewServer
	asked, recently := s.notYet[id]
	s.mu.Unlock()
	if ok || fn == nil || (recently && time.Since(asked) < time.Second) {
		return c
	}
	c = fn(id)
	s.mu.Lock()
	if c { // complete is final: ask once
		s.complete[id] = true
		delete(s.notYet, id)
	} else {
		if len(s.notYet) > 10000 {
			clear(s.notYet)
		}
		s.notYet[id] = time.Now()
	}
	s.mu.Unlock()
	return c
}

// httpError is a refused request: its status and the JSON body shown,
// shaped like the API's errors ({"error": message, "code": code}).
type httpError struct {
	status int
	msg    string
	body   []byte
	clen   []string
}

func (e *httpError) Error() string { return e.msg }

func newHTTPError(status int, code, msg string) *httpError {
	b, err := json.Marshal(map[string]string{"error": msg, "code": code})
	if err != nil {
		panic(err) // strings only
	}
	b = append(b, '\n')
	return &httpError{status: status, msg: msg, body: b, clen: []string{strconv.Itoa(len(b))}}
}

var (
	errNotFoundHTTP = newHTTPError(http.StatusNotFound, "not_found", "not found")
	errMethod       = newHTTPError(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed: use GET or HEAD")
	errInternal     = newHTTPError(http.StatusInternalServerError, "internal", "internal error")
	errRange        = newHTTPError(http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "no requested range lies within the recording")
)

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hvCORS
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.fail(w, errMethod)
		return
	}
	req, ok := parseReplayPath(r.URL.Path)
	if !ok {
		s.fail(w, errNotFoundHTTP)
		return
	}
	public, ok := s.policy(r, req.id)
	if !ok {
		s.fail(w, errNotFoundHTTP)
		return
	}
	m, he := s.viewOf(r, req)
	if he != nil {
		s.fail(w, he)
		return
	}
	var err error
	switch req.kind {
	case kindInit:
		s.setCache(h, public, hvImmutable)
		s.write(w, r, hvMP4, s.initCL, s.init)
	case kindSegment:
		err = s.serveSegment(w, r, req, public, m)
	case kindPlaylist:
		err = s.servePlaylist(w, r, req.id, public)
	case kindDownload:
		err = s.serveDownload(w, r, req, public, m)
	}
	if err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			if errors.Is(err, ErrNotFound) {
				he = errNotFoundHTTP
			} else {
				s.log.Error("replay", "space", req.id, "err", err)
				he = errInternal
			}
		}
		s.fail(w, he)
	}
}

// setCache sets Cache-Control: hv when public, private/no-store otherwise.
func (s *Server) setCache(h http.Header, public bool, hv []string) {
	if public {
		h["Cache-Control"] = hv
	} else {
		h["Cache-Control"] = hvPrivate
	}
}

// write sends a complete body (not for HEAD).
func (s *Server) write(w http.ResponseWriter, r *http.Request, ctype, clen []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = ctype
	h["Content-Length"] = clen
	h["X-Content-Type-Options"] = hvNosniff
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// fail is the one place errors become responses.
func (s *Server) fail(w http.ResponseWriter, e *httpError) {
	h := w.Header()
	delete(h, "Content-Disposition")
	delete(h, "ETag")
	delete(h, "Last-Modified")
	delete(h, "Accept-Ranges")
	h["Cache-Control"] = hvNoStore
	h["Content-Type"] = hvJSON
	h["X-Content-Type-Options"] = hvNosniff
	if e.status == http.StatusMethodNotAllowed {
		h["Allow"] = hvAllow
	}
	h["Content-Length"] = e.clen
	w.WriteHeader(e.status)
	w.Write(e.body)
}

// Load returns spaceID's current index (duration, size, turns, gaps,
// where every packet is) from the server's cache: one List when the
// session files are unchanged, else a reload that rescans only what grew.
// The API's recording descriptions use it so that repeated reads cost no
// scan of the Ogg pages.
func (s *Server) Load(id string) (*Recording, error) { return s.recording(id) }

// recording returns spaceID's current index: the cached one when the
// session files are unchanged (one List), else a reload that rescans only
// what grew.
func (s *Server) recording(id string) (*Recording, error) {
	l, err := listSessions(s.st, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	prev, _ := s.recs.get(id)
	s.mu.Unlock()
	if prev != nil && prev.version == l.version {
		return prev, nil
	}
	rec, err := load(s.st, id, l, prev)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.recs.put(id, rec)
	s.mu.Unlock()
	return rec, nil
}

// serveSegment serves packets first..first+count-1 as one fMP4 fragment,
// built once and cached: the URL names its packets exactly, so its
// content never changes.
func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request, req replayReq, public bool, m mask) error {
	key := segKey{req.id, req.view, req.first, req.count}
	s.mu.Lock()
	e, ok := s.segs.get(key)
	s.mu.Unlock()
	if !ok {
		rec, err := s.recording(req.id)
		if err != nil {
			return err
		}
		if req.first+req.count > rec.Frames() {
			return errNotFoundHTTP
		}
		pkts, err := rec.Packets(req.first, req.count)
		if err != nil {
			return err
		}
		m.apply(req.first, pkts)
		body, err := hls.BuildFragment(uint32(req.first/SegmentPackets)+1, uint64(req.first)*frameSamples, pkts)
		if err != nil {
			return err
		}
		e = &segEntry{body: body, clen: []string{strconv.Itoa(len(body))}}
		s.mu.Lock()
		s.segs.put(key, e)
		s.mu.Unlock()
	}
	s.setCache(w.Header(), public, hvImmutable)
	s.write(w, r, hvMP4, e.clen, e.body)
	return nil
}

// servePlaylist serves the media playlist: every segment of the
// recording and EXT-X-ENDLIST when complete (VOD); only full segments,
// which never change, while not complete (EVENT).
func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, id string, public bool) error {
	rec, err := s.recording(id)
	if err != nil {
		return err
	}
	complete := s.isComplete(id)
	query := ""
	if !public {
		if tok := r.URL.Query().Get("token"); tok != "" {
			query = "?token=" + url.QueryEscape(tok)
		}
	}
	body := appendPlaylist(nil, rec.Frames(), complete, query)
	switch {
	case complete:
		s.setCache(w.Header(), public, hvVOD)
	default:
		s.setCache(w.Header(), public, hvPublicLive)
	}
	s.write(w, r, hvPlaylist, []string{strconv.Itoa(len(body))}, body)
	return nil
}

// appendPlaylist appends the playlist of a recording of frames packets.
// query (empty or "?token=...") is appended to every URI.
func appendPlaylist(b []byte, frames int, complete bool, query string) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n"...)
	if complete {
		b = append(b, "#EXT-X-PLAYLIST-TYPE:VOD\n"...)
	} else {
		b = append(b, "#EXT-X-PLAYLIST-TYPE:EVENT\n"...)
	}
	b = append(b, "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4"...)
	b = append(b, query...)
	b = append(b, "\"\n"...)
	for first := 0; first < frames; first += SegmentPackets {
		n := min(SegmentPackets, frames-first)
		if n < SegmentPackets && !complete {
			break // a partial segment's URI would change as it fills
		}
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendFloat(b, float64(n)*0.02, 'f', 3, 64)
		b = append(b, ",\n"...)
		b = strconv.AppendInt(b, int64(first), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, ".m4s"...)
		b = append(b, query...)
		b = append(b, '\n')
	}
	if complete {
		b = append(b, "#EXT-X-ENDLIST\n"...)
	}
	return b
}

// serveDownload serves the whole recording as Ogg Opus with Range
// support. The file is built once per recording version and kept in
// storage as "<id>/recording-<version hash>.opus"; while still
// recording, a build up to a minute old is served rather than building
// on every request.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, req replayReq, public bool, m mask) error {
	id := req.id
	complete := s.isComplete(id)
	d, err := s.download(id, req.view, complete, m)
	if err != nil {
		return err
	}
	obj, err := s.st.Open(d.name)
	if err != nil {
		return err
	}
	defer obj.Close()
	if obj.Size() != d.size {
		s.mu.Lock()
		delete(s.built, builtKey(id, req.view))
		s.mu.Unlock()
		return fmt.Errorf("record: download %s has %d bytes, want %d", d.name, obj.Size(), d.size)
	}
	h := w.Header()
	switch {
	case complete:
		s.setCache(h, public, hvImmutable)
	default:
		s.setCache(h, public, hvPublicLive)
	}
	h["Content-Type"] = hvOgg
	h["Access-Control-Expose-Headers"] = hvExpose
	h.Set("Content-Disposition", `attachment; filename="`+id+`.opus"`)
	etag := `"` + d.name[len(id)+len("/recording-"):len(d.name)-len(".opus")] + `"` // view and version
	h.Set("ETag", etag)
	if rg := r.Header.Get("Range"); rg != "" && rangeApplies(r, etag, d.built) {
		ranges, ignore, unsatisfiable := satisfiable(rg, d.size)
		if unsatisfiable {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(d.size, 10))
			return errRange
		}
		// ServeContent gets the ranges normalized, or none.
		r2 := *r
		r2.Header = r.Header.Clone()
		if ignore {
			r2.Header.Del("Range")
		} else {
			r2.Header.Set("Range", formatRanges(ranges))
		}
		r = &r2
	}
	// The node's write timeout is sized for parts and playlists; a whole
	// recording gets as long as it takes at 128 kbit/s (a slow phone),
	// and a reader slower than that is let go.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(max(downloadMinTime, time.Duration(d.size/(16<<10))*time.Second)))
	http.ServeContent(w, r, "", d.built, io.NewSectionReader(obj, 0, d.size))
	return nil
}

// downloadMinTime is the least time a download is given to be written.
const downloadMinTime = time.Minute

// builtKey is a download's key in Server.built: one per space and view.
func builtKey(id, view string) string { return id + "/" + view }

// download returns the built download of a view to serve, building it if
// needed. View 0 is recording-<version hash>.opus, any other view
// recording-v<view>-<version hash>.opus (the hash is hex: no "v").
func (s *Server) download(id, view string, complete bool, m mask) (download, error) {
	s.dlMu.Lock()
	defer s.dlMu.Unlock()
	rec, err := s.recording(id)
	if err != nil {
		return download{}, err
	}
	s.mu.Lock()
	d, ok := s.built[builtKey(id, view)]
	s.mu.Unlock()
	if ok && (d.version == rec.Version() || !complete && time.Since(d.built) < downloadMaxStale) {
		return d, nil
	}
	hv := fnv.New64a()
	hv.Write([]byte(rec.Version()))
	prefix := id + "/recording-"
	if view != "0" {
		prefix += "v" + view + "-"
	}
	d = download{
		name:    fmt.Sprintf("%s%016x.opus", prefix, hv.Sum64()),
		version: rec.Version(),
		size:    rec.oggSize(m),
	}
	// A build left by an earlier run (or another node) is reused when it
	// is whole: its size is known in advance.
	if obj, err := s.st.Open(d.name); err == nil {
		size := obj.Size()
		obj.Close()
		if size != d.size {
			if err := s.st.Remove(d.name); err != nil {
				return download{}, err
			}
			if err := s.build(rec, d.name, m); err != nil {
				return download{}, err
			}
		}
	} else if errors.Is(err, ErrNotFound) {
		if err := s.build(rec, d.name, m); err != nil {
			return download{}, err
		}
	} else {
		return download{}, err
	}
	d.built = time.Now()
	// Older builds are no longer served.
	if infos, err := s.st.List(prefix); err == nil {
		for _, in := range infos {
			if in.Name != d.name && (view != "0" || !strings.HasPrefix(in.Name, id+"/recording-v")) {
				_ = s.st.Remove(in.Name)
			}
		}
	}
	s.mu.Lock()
	s.built[builtKey(id, view)] = d
	s.mu.Unlock()
	return d, nil
}

func (s *Server) build(rec *Recording, name string, m mask) error {
	a, err := s.st.Append(name)
	if err != nil {
		return err
	}
	err = rec.writeOgg(a, m)
	if err == nil {
		err = a.Sync()
	}
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = s.st.Remove(name)
		return fmt.Errorf("record: build download %s: %w", name, err)
	}
	return nil
}
