// Package hls packages one Opus stream per live space as Low-Latency HLS
// (RFC 8216bis with Apple's LL-HLS extensions: parts, blocking playlist
// reload, preload hints, delta updates) with Opus in fMP4/CMAF, and serves it
// to very large audiences, directly or through CDNs.
//
// Everything a listener can ask for (init segment, part, segment, playlist
// version) is built once, on the mixer's goroutine, when a part completes,
// and is then served to everyone as immutable bytes with precomputed
// headers. Serving costs no goroutine, timer, session or allocation of its
// own: a blocked playlist request waits on a channel shared by all waiters
// of the stream, which is closed when the next part is published.
//
// # Concurrency rules
//
//   - A Stream has one writer (the mixer goroutine calls WriteFrame; Close may
//     come from anywhere). Stream.mu serializes the writer side and guards the
//     fields marked "guarded by mu".
//   - Readers (ServeHTTP on many goroutines) never lock. They Load the
//     current *snapshot from Stream.snap and read only through it.
//   - A snapshot and everything reachable from it (segments, parts, byte
//     slices) is immutable once stored. The writer builds a new snapshot,
//     stores it, and then closes the previous snapshot's wake channel, so a
//     reader that saw the old snapshot and waits on its wake channel always
//     finds a newer one when it wakes.
//   - The one shared mutable thing readers touch is the listener-estimate
//     counter ring, which uses atomics only.
package hls

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// FrameDuration is the duration of each packet given to Stream.WriteFrame.
const FrameDuration = 20 * time.Millisecond

// Config sets the shape of a stream's parts, segments and window.
type Config struct {
	PartDuration   time.Duration // default 200ms (must be a multiple of 20 ms)
	SegmentParts   int           // parts per segment, default 10 (=> 2 s segments)
	WindowSegments int           // complete segments listed in the playlist, default 10
}

// Defaults for the zero fields of Config.
const (
	DefaultPartDuration   = 200 * time.Millisecond
	DefaultSegmentParts   = 10
	DefaultWindowSegments = 10
)

func (c Config) withDefaults() Config {
	if c.PartDuration == 0 {
		c.PartDuration = DefaultPartDuration
	}
	if c.SegmentParts == 0 {
		c.SegmentParts = DefaultSegmentParts
	}
	if c.WindowSegments == 0 {
		c.WindowSegments = DefaultWindowSegments
	}
	return c
}

// Validate reports whether c (after defaults for zero fields) is usable.
// NewStream does not fail: it repairs an invalid Config (rounding the part
// duration to a multiple of 20 ms, clamping counts), so callers that want
// a clear start-up error call Validate first.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.PartDuration < FrameDuration || c.PartDuration%FrameDuration != 0 || c.PartDuration > 5*time.Second {
		errs = append(errs, fmt.Errorf("hls: part duration %v must be a multiple of 20ms between 20ms and 5s", c.PartDuration))
	}
	if c.SegmentParts < 1 || c.SegmentParts > 100 {
		errs = append(errs, fmt.Errorf("hls: segment parts %d must be between 1 and 100", c.SegmentParts))
	}
	if c.WindowSegments < 2 || c.WindowSegments > 100 {
		errs = append(errs, fmt.Errorf("hls: window segments %d must be between 2 and 100", c.WindowSegments))
	}
	return errors.Join(errs...)
}

func (c Config) repaired() Config {
	c = c.withDefaults()
	c.PartDuration = c.PartDuration.Round(FrameDuration)
	c.PartDuration = min(max(c.PartDuration, FrameDuration), 5*time.Second)
	c.SegmentParts = min(max(c.SegmentParts, 1), 100)
	c.WindowSegments = min(max(c.WindowSegments, 2), 100)
	return c
}

// blob is a response body with its precomputed Content-Length header value.
type blob struct {
	b    []byte
	clen []string
}

func newBlob(b []byte) *blob {
	return &blob{b: b, clen: []string{strconv.Itoa(len(b))}}
}

// part is one published part. Immutable once published.
type part struct {
	data     *blob
	dur      time.Duration
	playlist *blob // playlist version as of this part; nil before the first segment completed
	delta    *blob // its delta-update variant; nil when nothing can be skipped
}

// segment is one media segment. A segment still in progress is replaced by
// a new segment value (sharing the parts backing array, append-only) on
// every publish, so each snapshot's view of it is immutable.
type segment struct {
	msn      uint64
	parts    []*part
	dur      time.Duration // sum of the parts' durations
	complete bool
	data     *blob  // concatenation of the parts' fragments; nil until complete
	disc     bool   // first segment after a (re)start of a space that was already live
	pdt      string // EXT-X-PROGRAM-DATE-TIME value
}

// snapshot is the immutable state readers see.
type snapshot struct {
	firstMSN uint64     // msn of segs[0]
	segs     []*segment // oldest first; unless closed, the last one is in progress
	// retired are the newest segments that left the playlist, oldest first,
	// ending at firstMSN-1: still served (RFC 8216bis §6.2.2), never listed.
	retired  []*segment
	nextAbs  uint64 // absolute index (msn*SegmentParts+part) of the next part to be published
	closed   bool
	playlist *blob         // current playlist; nil until the first segment completes
	delta    *blob         // current delta update; nil when nothing can be skipped
	wake     chan struct{} // closed when a newer snapshot is published
}

// lookupPart returns the part (msn, idx) and whether it may still appear
// (future is true when the part does not exist yet but the stream may
// produce it).
func (sn *snapshot) lookupPart(msn, idx uint64) (p *part, future bool) {
	if msn < sn.firstMSN {
		if seg := sn.lookupRetired(msn); seg != nil && idx < uint64(len(seg.parts)) {
			return seg.parts[idx], false
		}
		return nil, false
	}
	i := msn - sn.firstMSN
	if i >= uint64(len(sn.segs)) {
		return nil, !sn.closed
	}
	seg := sn.segs[i]
	if idx < uint64(len(seg.parts)) {
		return seg.parts[idx], false
	}
	return nil, !seg.complete && !sn.closed
}

// lookupSegment returns the complete segment msn, or whether it may still
// appear.
func (sn *snapshot) lookupSegment(msn uint64) (seg *segment, future bool) {
	if msn < sn.firstMSN {
		return sn.lookupRetired(msn), false
	}
	i := msn - sn.firstMSN
	if i >= uint64(len(sn.segs)) {
		return nil, !sn.closed
	}
	seg = sn.segs[i]
	if !seg.complete {
		return nil, !sn.closed
	}
	return seg, false
}

// lookupRetired returns segment msn < firstMSN if it is still retained.
func (sn *snapshot) lookupRetired(msn uint64) *segment {
	back := sn.firstMSN - msn // >= 1
	if back > uint64(len(sn.retired)) {
		return nil
	}
	return sn.retired[uint64(len(sn.retired))-back]
}

// Stream packages one space's Opus stream. Create it with NewStream.
type Stream struct {
	id  string
	cfg Config
	// view is the view segment of the stream's URLs ("" = the space's
	// main stream, also served as view "0"); see NewView.
	view string

	// Derived from cfg at construction; immutable.
	framesPerPart int
	sp            uint64 // parts per segment
	partDur       time.Duration
	segDur        time.Duration
	targetDur     int    // EXT-X-TARGETDURATION, whole seconds
	startMSN      uint64 // msn of the first segment this Stream produces
	start         time.Time
	advanceParts  uint64 // the Advance Part Limit: how many parts past the newest one a request may wait for
	keepRetired   int    // how many segments that left the playlist stay served
	resumed       bool   // an earlier incarnation of this space's stream may have published parts
	init          *blob
	blockingCC    []string // Cache-Control of blocking playlist responses
	immutableCC   []string // Cache-Control of parts, segments and init
	liveCC        []string // Cache-Control of the plain playlist
	header        []byte   // playlist header up to EXT-X-MEDIA-SEQUENCE, exclusive

	snap atomic.Pointer[snapshot]

	mu      sync.Mutex  // serializes the writer side
	builder partBuilder // guarded by mu
	closed  bool        // guarded by mu
}

// NewStream returns a stream for space id. liveSince is when the space went
// live, now the time of the first frame. Media sequence numbers count
// segment durations since liveSince, so a Stream made again for the same
// space after a restart continues at higher sequence numbers (and a later
// media timeline) under the same URLs; its first segment then carries
// EXT-X-DISCONTINUITY. A Stream made less than one part duration after
// liveSince is the space's first: no earlier incarnation, paced in real
// time, can have published a part by then, so there is nothing to be
// discontinuous with and its first segment carries no such tag.
//
// The first msn is ceil((now-liveSince)/segmentDuration): the next segment
// boundary of the wall-clock grid, which a previous incarnation running in
// real time cannot have started yet, so no part URL is ever reused with
// different bytes (parts are cached as immutable).
func NewStream(id string, liveSince, now time.Time, cfg Config) *Stream {
	cfg = cfg.repaired()
	s := &Stream{
		id:            id,
		cfg:           cfg,
		framesPerPart: int(cfg.PartDuration / FrameDuration),
		sp:            uint64(cfg.SegmentParts),
		partDur:       cfg.PartDuration,
		segDur:        cfg.PartDuration * time.Duration(cfg.SegmentParts),
		start:         now,
	}
	s.targetDur = int((s.segDur + time.Second - 1) / time.Second)
	if elapsed := now.Sub(liveSince); elapsed > 0 {
		s.startMSN = uint64((elapsed + s.segDur - 1) / s.segDur)
		s.resumed = elapsed >= s.partDur
	}
	// RFC 8216bis §6.2.5.2: three divided by the part target duration
	// when it is under a second, three otherwise.
	s.advanceParts = 3
	if s.partDur < time.Second {
		s.advanceParts = uint64(3 * time.Second / s.partDur)
	}
	// §6.2.2: a segment that left the playlist stays available for its
	// duration plus the playlist's. The longest playlist holds the window
	// and a segment in progress short of one part, so WindowSegments+2
	// segment durations cover it; segments retire one per segment
	// duration, so that many are kept.
	s.keepRetired = cfg.WindowSegments + 2
	initBytes, err := buildInit()
	if err != nil {
		// Marshalling constant boxes into memory cannot fail.
		panic(err)
	}
	s.init = newBlob(initBytes)
	// A blocking response is a deterministic snapshot, so caches may keep
	// it; a few target durations is longer than anyone asks for that part.
	s.blockingCC = []string{"public, max-age=" + strconv.Itoa(3*s.targetDur)}
	s.immutableCC, s.liveCC = hvImmutable, hvLivePlaylist
	s.header = s.appendHeader(nil)

	first := &segment{msn: s.startMSN, disc: s.resumed, pdt: s.pdt(s.startMSN)}
	s.snap.Store(&snapshot{
		firstMSN: s.startMSN,
		segs:     []*segment{first},
		nextAbs:  s.startMSN * s.sp,
		wake:     make(chan struct{}),
	})
	return s
}

// NewView is NewStream for one view of space id, served under
// /hls/{id}/{view}/…: a territory's view of the policy, or the undelayed
// monitor feed. A private view's responses are "private, no-store" (the
// monitor: only credentials may read it, and no cache may keep it).
func NewView(id, view string, private bool, liveSince, now time.Time, cfg Config) *Stream {
	s := NewStream(id, liveSince, now, cfg)
	s.view = view
	if private {
		s.blockingCC, s.immutableCC, s.liveCC = hvPrivate, hvPrivate, hvPrivate
	}
	return s
}

// View is the view segment the stream is served under ("" for the main
// stream).
func (s *Stream) View() string { return s.view }

// ID is the space id the stream is served under.
func (s *Stream) ID() string { return s.id }

// Config is the stream's effective configuration.
func (s *Stream) Config() Config { return s.cfg }

// pdt is the program date time of segment msn: the stream's first frame
// plus the media duration produced before it.
func (s *Stream) pdt(msn uint64) string {
	t := s.start.Add(time.Duration(msn-s.startMSN) * s.segDur)
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// WriteFrame appends one 20 ms Opus packet (copied). It is called from one
// goroutine; after Close it does nothing.
func (s *Stream) WriteFrame(pkt []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.builder.add(pkt)
	if s.builder.frames() >= s.framesPerPart {
		s.publishPartLocked(false)
	}
}

// Close ends the stream: pending frames become a last (shorter) part, the
// playlist gets EXT-X-ENDLIST, and every waiting request is answered with
// it. Close is idempotent.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.builder.frames() > 0 {
		s.publishPartLocked(true)
		return
	}
	old := s.snap.Load()
	segs := append([]*segment(nil), old.segs...)
	last := segs[len(segs)-1]
	if len(last.parts) == 0 {
		segs = segs[:len(segs)-1]
	} else {
		segs[len(segs)-1] = completeSegment(last)
	}
	segs, dropped := s.trim(segs)
	first := old.firstMSN
	if len(segs) > 0 {
		first = segs[0].msn
	}
	s.storeLocked(old, &snapshot{
		firstMSN: first,
		segs:     segs,
		retired:  s.retire(old.retired, dropped),
		nextAbs:  old.nextAbs,
		closed:   true,
	}, nil)
}

// publishPartLocked turns the pending frames into the next part and
// publishes a new snapshot. final marks the last part of a closing stream.
func (s *Stream) publishPartLocked(final bool) {
	old := s.snap.Load()
	abs := old.nextAbs
	frames := s.builder.frames()
	data, err := s.builder.build(uint32(abs+1), abs*uint64(s.framesPerPart)*frameSamples)
	if err != nil {
		// Marshalling into memory cannot fail; never publish a broken part.
		panic(err)
	}
	p := &part{data: newBlob(data), dur: time.Duration(frames) * FrameDuration}

	cur := old.segs[len(old.segs)-1]
	seg := *cur
	seg.parts = append(cur.parts, p) // append-only: readers of cur see only their prefix
	seg.dur += p.dur
	segp := &seg
	if uint64(len(seg.parts)) == s.sp || final {
		segp = completeSegment(segp)
	}

	segs := make([]*segment, 0, len(old.segs)+1)
	segs = append(segs, old.segs[:len(old.segs)-1]...)
	segs = append(segs, segp)
	if segp.complete && !final {
		next := segp.msn + 1
		segs = append(segs, &segment{msn: next, pdt: s.pdt(next)})
	}
	segs, dropped := s.trim(segs)
	s.storeLocked(old, &snapshot{
		firstMSN: segs[0].msn,
		segs:     segs,
		retired:  s.retire(old.retired, dropped),
		nextAbs:  abs + 1,
		closed:   final,
	}, p)
}

// trim drops the oldest segments so that WindowSegments complete segments
// remain (plus the one in progress), and returns the dropped ones.
func (s *Stream) trim(segs []*segment) (kept, dropped []*segment) {
	complete := len(segs)
	if complete > 0 && !segs[len(segs)-1].complete {
		complete--
	}
	if drop := complete - s.cfg.WindowSegments; drop > 0 {
		return segs[drop:], segs[:drop]
	}
	return segs, nil
}

// retire returns the retired list after the segments dropped from the
// playlist join it: at most keepRetired, the newest. A retired segment's
// parts keep their bytes but not their playlist versions, so retained
// memory is the media alone (and a blocking reload naming a retired part
// gets the current playlist).
func (s *Stream) retire(retired, dropped []*segment) []*segment {
	if len(dropped) == 0 {
		return retired
	}
	n := min(len(retired)+len(dropped), s.keepRetired)
	out := make([]*segment, 0, n)
	all := len(retired) + len(dropped)
	for i := all - n; i < all; i++ {
		if i < len(retired) {
			out = append(out, retired[i])
			continue
		}
		seg := *dropped[i-len(retired)]
		parts := make([]*part, len(seg.parts))
		for j, p := range seg.parts {
			parts[j] = &part{data: p.data, dur: p.dur}
		}
		seg.parts = parts
		out = append(out, &seg)
	}
	return out
}

// completeSegment returns a complete copy of seg with its data built.
func completeSegment(seg *segment) *segment {
	c := *seg
	n := 0
	for _, p := range c.parts {
		n += len(p.data.b)
	}
	data := make([]byte, 0, n)
	for _, p := range c.parts {
		data = append(data, p.data.b...)
	}
	c.data = newBlob(data)
	c.complete = true
	return &c
}

// storeLocked fills in the playlist versions of sn (and of p, the part just
// published, if any), stores sn and wakes everyone waiting on old.
func (s *Stream) storeLocked(old, sn *snapshot, p *part) {
	if sn.closed || (len(sn.segs) > 0 && sn.segs[0].complete) {
		sn.playlist = newBlob(s.appendPlaylist(nil, sn, false))
		if s.skippable(sn) > 0 {
			sn.delta = newBlob(s.appendPlaylist(nil, sn, true))
		}
	}
	if p != nil {
		p.playlist, p.delta = sn.playlist, sn.delta
	}
	sn.wake = make(chan struct{})
	s.snap.Store(sn)
	close(old.wake)
}

// poke republishes the current state unchanged, waking every waiter so it
// can notice that the Server no longer serves this stream.
func (s *Stream) poke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load()
	sn := *old
	sn.wake = make(chan struct{})
	s.snap.Store(&sn)
	close(old.wake)
}

// msnTooFar reports whether a request for segment msn (a blocking reload's
// _HLS_msn, or a segment or part file) is refused at once: RFC 8216bis
// §6.2.5.2 holds requests up to two segments past the last complete one
// in the playlist, nextAbs/sp - 1. A closed stream answers everything now.
func (s *Stream) msnTooFar(sn *snapshot, msn uint64) bool {
	return !sn.closed && msn > sn.nextAbs/s.sp+1
}

// partTooFar reports whether part abs (absolute index) is more than the
// Advance Part Limit past the newest published part, nextAbs-1.
func (s *Stream) partTooFar(sn *snapshot, abs uint64) bool {
	return !sn.closed && abs >= sn.nextAbs+s.advanceParts
}

// current returns the snapshot readers should use now.
func (s *Stream) current() *snapshot { return s.snap.Load() }
