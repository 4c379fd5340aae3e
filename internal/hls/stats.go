package hls

import "sync/atomic"

// Stats are the Server's counters since it was made, for metrics.
type Stats struct {
	Playlists         uint64 // playlist requests without _HLS_msn
	BlockingPlaylists uint64 // playlist requests with _HLS_msn (blocking reloads)
	Parts             uint64 // part requests
	Segments          uint64 // segment requests
	Inits             uint64 // init segment requests
	BlockedWaits      uint64 // requests that waited for a part to be published
	Rejected          uint64 // 400: malformed or too far in the future
	NotFound          uint64 // 404: unknown space, path, or part gone from the window
	MethodNotAllowed  uint64 // 405
	TimedOut          uint64 // 503: waited longer than three target durations
	Canceled          uint64 // clients that went away while waiting
}

// counter is an atomic counter alone on its cache line, so that requests of
// different kinds on different cores do not contend.
type counter struct {
	atomic.Uint64
	_ [56]byte
}

type counters struct {
	playlists, blockingPlaylists, parts, segments, inits counter
	blockedWaits, rejected, notFound, methodNotAllowed   counter
	timedOut, canceled                                   counter
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Playlists:         c.playlists.Load(),
		BlockingPlaylists: c.blockingPlaylists.Load(),
		Parts:             c.parts.Load(),
		Segments:          c.segments.Load(),
		Inits:             c.inits.Load(),
		BlockedWaits:      c.blockedWaits.Load(),
		Rejected:          c.rejected.Load(),
		NotFound:          c.notFound.Load(),
		MethodNotAllowed:  c.methodNotAllowed.Load(),
		TimedOut:          c.timedOut.Load(),
		Canceled:          c.canceled.Load(),
	}
}
