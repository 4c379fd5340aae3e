package hls

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Precomputed header values. They are shared by all responses and must
// never be modified (net/http only reads them).
var (
	hvCORS       = []string{"*"}
	hvPlaylist   = []string{"application/vnd.apple.mpegurl"}
	hvMP4        = []string{"audio/mp4"}
	hvJSON       = []string{"application/json"}
	hvNosniff    = []string{"nosniff"}
	hvAllow      = []string{"GET, HEAD"}
	hvRetryAfter = []string{"1"}
	// Parts, segments and init never change under their URL (see NewStream
	// for why a restart never reuses a URL).
	hvImmutable = []string{"public, max-age=31536000, immutable"}
	// The plain playlist changes with every part. One second lets a CDN
	// collapse a join storm to about one origin request per second per
	// edge, while a player starting from it is at most a second behind
	// before its first blocking reload brings it to the live edge.
	hvLivePlaylist = []string{"public, max-age=1"}
	// A 404 may turn into content soon (a space about to go live); cache
	// it only briefly, so repeated misses still reach the origin rarely.
	hv404 = []string{"public, max-age=1"}
	// 400, 405 and 503 depend on timing or are client errors: never cache
	// (a cached "too far ahead" would outlive its truth).
	hvNoStore = []string{"no-store"}
	// A private view (the monitor) is for credentials only.
	hvPrivate = []string{"private, no-store"}
)

// Server serves every registered Stream under the /hls/ prefix. It is an
// http.Handler and holds no per-listener state.
//
// The registry is a copy-on-write map behind an atomic pointer: ServeHTTP
// reads it without locking, Add and Remove (rare) copy it under mu. Lock
// order: Server.mu before Stream.mu (Add and Remove poke the old stream).
type Server struct {
	log     *slog.Logger
	mu      sync.Mutex // serializes Add and Remove
	streams atomic.Pointer[map[streamKey]*Stream]
	// heartbeat is closed and replaced by Run every heartbeatEvery, so
	// waiting requests can notice that they waited too long without a
	// timer of their own. Without Run it never fires, and a wait ends when
	// the part appears, the stream closes, or the client goes away.
	heartbeat atomic.Pointer[chan struct{}]
	stats     counters
}

var _ http.Handler = (*Server)(nil)

// streamKey names a registered stream: the space and the view segment
// ("" for the main stream). Looking one up allocates nothing.
type streamKey struct{ id, view string }

// heartbeatEvery is the resolution of the wait time limit.
const heartbeatEvery = 500 * time.Millisecond

// NewServer returns a Server with no streams. log may be nil.
func NewServer(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{log: log}
	m := map[streamKey]*Stream{}
	s.streams.Store(&m)
	hb := make(chan struct{})
	s.heartbeat.Store(&hb)
	return s
}

// Add registers st under its id, replacing any stream with that id (a
// restart); requests waiting on the replaced stream are served by st. Ids
// outside [A-Za-z0-9_-]{1,64} can never be requested.
func (s *Server) Add(st *Stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.streams.Load()
	m := make(map[streamKey]*Stream, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	key := streamKey{st.id, st.view}
	m[key] = st
	s.streams.Store(&m)
	if prev := old[key]; prev != nil && prev != st {
		prev.poke() // its waiters move to st
	}
	if !validID(st.id) {
		s.log.Warn("hls: stream id cannot appear in a URL", "space", st.id)
	}
}

// Remove unregisters the stream with the given id; requests waiting on it
// are answered 404 (Close it first for them to get the final playlist).
func (s *Server) Remove(id string) { s.RemoveView(id, "") }

// RemoveView unregisters the stream of one view of space id ("" = the
// main stream), like Remove.
func (s *Server) RemoveView(id, view string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.streams.Load()
	key := streamKey{id, view}
	prev, ok := old[key]
	if !ok {
		return
	}
	m := make(map[streamKey]*Stream, len(old))
	for k, v := range old {
		if k != key {
			m[k] = v
		}
	}
	s.streams.Store(&m)
	prev.poke() // its waiters get 404
}

// Stream returns the stream registered under id, or nil.
func (s *Server) Stream(id string) *Stream {
	return (*s.streams.Load())[streamKey{id, ""}]
}

// Run drives the heartbeat that bounds how long a request waits for a part
// (three target durations, then 503 with Retry-After). It returns nil when
// ctx ends. Running it is optional but recommended.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			ch := make(chan struct{})
			close(*s.heartbeat.Swap(&ch))
		}
	}
}

// ServeHTTP serves playlists, parts, segments and init segments.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, s.serve(w, r))
}

// serve answers r, or returns what to answer instead (nil: done).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) *reqError {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = hvCORS
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h["Allow"] = hvAllow
		return errMethod
	}
	req, perr := parseRequest(r.URL.Path, r.URL.RawQuery)
	if perr != nil {
		return perr
	}
	// A request that was waiting on a stream replaced (restart) or removed
	// meanwhile starts over with the registry's current answer.
	for {
		st := (*s.streams.Load())[streamKey{req.id, req.view}]
		if st == nil {
			return errSpaceNotStarted
		}
		var e *reqError
		switch req.kind {
		case kindPlaylist:
			e = s.servePlaylist(w, r, st, &req)
		case kindPart:
			e = s.servePart(w, r, st, &req)
		case kindSegment:
			e = s.serveSegment(w, r, st, &req)
		case kindInit:
			s.stats.inits.Add(1)
			serveBlob(w, r, st.init, hvMP4, st.immutableCC)
			return nil
		}
		if e != errMoved {
			return e
		}
	}
}

func (s *Server) servePlaylist(w http.ResponseWriter, r *http.Request, st *Stream, req *request) *reqError {
	sn := st.current()
	// The first part whose playlist version exists: the last part of the
	// first segment.
	servable := (st.startMSN+1)*st.sp - 1

	if !req.hasMSN {
		s.stats.playlists.Add(1)
		if sn.playlist == nil {
			var e *reqError
			if sn, e = s.wait(r.Context(), st, sn, servable); sn == nil {
				return e
			}
		}
		pl := sn.playlist
		if req.skip && sn.delta != nil {
			pl = sn.delta
		}
		serveBlob(w, r, pl, hvPlaylist, st.liveCC)
		return nil
	}

	s.stats.blockingPlaylists.Add(1)
	target := req.msn*st.sp + st.sp - 1 // _HLS_msn alone: the whole segment
	if req.hasPart {
		// A part index past the end of its segment means the following
		// parts, as players ask for "last part + 1".
		target = req.msn*st.sp + req.part
	}
	if st.msnTooFar(sn, req.msn) || (req.hasPart && st.partTooFar(sn, target)) {
		return errTooFar
	}
	target = max(target, servable)
	if !sn.closed && target >= sn.nextAbs {
		var e *reqError
		if sn, e = s.wait(r.Context(), st, sn, target); sn == nil {
			return e
		}
	}
	// The version as of the requested part, so identical requests get
	// identical bytes; the current one when the stream is closed or the
	// part already left the window.
	pl, delta := sn.playlist, sn.delta
	if !sn.closed {
		if p, _ := sn.lookupPart(target/st.sp, target%st.sp); p != nil && p.playlist != nil {
			pl, delta = p.playlist, p.delta
		}
	}
	if req.skip && delta != nil {
		pl = delta
	}
	serveBlob(w, r, pl, hvPlaylist, st.blockingCC)
	return nil
}

func (s *Server) servePart(w http.ResponseWriter, r *http.Request, st *Stream, req *request) *reqError {
	s.stats.parts.Add(1)
	if req.part >= st.sp {
		return errNotFound
	}
	sn := st.current()
	p, future := sn.lookupPart(req.msn, req.part)
	if p == nil {
		if !future {
			return errNotFound
		}
		// A preload hint: wait for the part if it is coming soon.
		abs := req.msn*st.sp + req.part
		if st.msnTooFar(sn, req.msn) || st.partTooFar(sn, abs) {
			return errPartTooFar
		}
		var e *reqError
		if sn, e = s.wait(r.Context(), st, sn, abs); sn == nil {
			return e
		}
		if p, _ = sn.lookupPart(req.msn, req.part); p == nil {
			return errNotFound // the stream closed first
		}
	}
	serveBlob(w, r, p.data, hvMP4, st.immutableCC)
	return nil
}

func (s *Server) serveSegment(w http.ResponseWriter, r *http.Request, st *Stream, req *request) *reqError {
	s.stats.segments.Add(1)
	sn := st.current()
	seg, future := sn.lookupSegment(req.msn)
	if seg == nil {
		if !future {
			return errNotFound
		}
		abs := req.msn*st.sp + st.sp - 1
		if st.msnTooFar(sn, req.msn) {
			return errPartTooFar
		}
		var e *reqError
		if sn, e = s.wait(r.Context(), st, sn, abs); sn == nil {
			return e
		}
		if seg, _ = sn.lookupSegment(req.msn); seg == nil {
			return errNotFound
		}
	}
	serveBlob(w, r, seg.data, hvMP4, st.immutableCC)
	return nil
}

// wait blocks until part abs is published or the stream closes, starting
// from snapshot sn. It uses only shared channels: the snapshot's wake
// channel, the request context and the server heartbeat. It returns a nil
// snapshot when the client went away (errGone: nothing to answer), the
// wait took too long (errUnavailable), or the stream was replaced or
// removed (errMoved).
func (s *Server) wait(ctx context.Context, st *Stream, sn *snapshot, abs uint64) (*snapshot, *reqError) {
	if sn.closed || abs < sn.nextAbs {
		return sn, nil
	}
	s.stats.blockedWaits.Add(1)
	var since time.Time
	limit := 3 * time.Duration(st.targetDur) * time.Second
	for {
		// Add and Remove change the registry before they poke the old
		// stream, so checking the registry after loading sn means either
		// the check sees the change or sn.wake gets closed by the poke.
		if (*s.streams.Load())[streamKey{st.id, st.view}] != st {
			return nil, errMoved
		}
		select {
		case <-sn.wake:
			sn = st.current()
			if sn.closed || abs < sn.nextAbs {
				return sn, nil
			}
		case <-ctx.Done():
			s.stats.canceled.Add(1)
			return nil, errGone
		case <-*s.heartbeat.Load():
			now := time.Now()
			if since.IsZero() {
				since = now // the first beat starts the clock: off by at most one beat
			} else if now.Sub(since) >= limit {
				return nil, errUnavailable
			}
		}
	}
}

// serveBlob writes a prebuilt body with prebuilt headers.
func serveBlob(w http.ResponseWriter, r *http.Request, b *blob, ctype, cc []string) {
	h := w.Header()
	h["Content-Type"] = ctype
	h["Cache-Control"] = cc
	h["Content-Length"] = b.clen
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b.b) // a failed write means the client left; nothing to do
	}
}

// fail answers with e's status and prebuilt JSON body; nil or errGone:
// nothing.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *reqError) {
	if e == nil || e == errGone {
		return
	}
	h := w.Header()
	h["Content-Type"] = hvJSON
	h["X-Content-Type-Options"] = hvNosniff
	h["Content-Length"] = e.clen
	switch e.status {
	case http.StatusNotFound:
		s.stats.notFound.Add(1)
		h["Cache-Control"] = hv404
	case http.StatusMethodNotAllowed:
		s.stats.methodNotAllowed.Add(1)
		h["Cache-Control"] = hvNoStore
	case http.StatusServiceUnavailable:
		s.stats.timedOut.Add(1)
		h["Cache-Control"] = hvNoStore
		h["Retry-After"] = hvRetryAfter
	default:
		s.stats.rejected.Add(1)
		h["Cache-Control"] = hvNoStore
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body)
	}
}
