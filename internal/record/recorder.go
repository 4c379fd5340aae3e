package record

import (
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options tune a Recorder. Zero values pick the defaults.
type Options struct {
	PartFrames  int           // frames per durable flush (one Ogg page), default 10 (=200 ms, one LL-HLS part)
	QueueFrames int           // frames buffered between mixer and writer before dropping, default 500 (10 s)
	RetryEvery  time.Duration // how often a failing recorder retries storage, default 5 s
}

func (o Options) withDefaults() Options {
	if o.PartFrames <= 0 {
		o.PartFrames = 10
	}
	if o.QueueFrames <= 0 {
		o.QueueFrames = 500
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = 5 * time.Second
	}
	return o
}

// Speaker is someone speaking in a frame.
type Speaker struct{ ID, Name string }

// Status is a Recorder's health and counters.
type Status struct {
	Failing    bool   // storage refuses; frames are being lost
	Err        string // user-facing reason while Failing
	Frames     int64  // frames made durable
	Bytes      int64  // bytes written (audio and sidecar)
	LostFrames int64  // frames offered but not recorded
	Sessions   int    // sessions this Recorder started
}

// Recorder records one space's mix. WriteFrame is called by the mixer
// goroutine (one goroutine at a time) and never blocks; a writer goroutine
// owns every session file and does all I/O. Status and Close may be called
// from any goroutine.
type Recorder struct {
	st   Storage
	id   string
	opts Options
	log  *slog.Logger
	base time.Time // wall time of offered frame 0

	// Mixer side: touched only by WriteFrame's goroutine.
	speaking      []Speaker // last set seen, never mutated once queued
	changePending bool      // a speaking change was dropped with its frame

	offered atomic.Int64 // frames offered so far; the writer reads it
	closed  atomic.Bool
	queue   chan item
	free    chan []byte // recycled packet buffers
	quit    chan struct{}
	done    chan struct{}

	frames, bytes, lost atomic.Int64

	mu       sync.Mutex // guards the fields below
	failing  bool
	errMsg   string
	sessions int

	closeOnce sync.Once
	closeErr  error // set by the writer before done is closed

	w writer // owned by the writer goroutine
}

// item is one queued frame.
type item struct {
	seq      int64
	pkt      []byte
	speaking []Speaker // the new set when changed
	changed  bool
}

// writer is the writer goroutine's state.
type writer struct {
	cur      *openSession // nil while failing
	speaking []Speaker    // latest set known to the writer
	retry    *time.Ticker
	page     []byte // scratch
}

// openSession is a session being written.
type openSession struct {
	num      int
	ogg, ev  Appender
	serial   uint32
	pageSeq  uint32
	frames   int
	startSeq int64
	pending  [][]byte // packets of the part being filled
	evbuf    []byte   // sidecar lines not yet written
	announce bool     // write the speaking set with the next frame
}

// Start begins a new session of spaceID's recording (session number = 1
// + the highest existing) at wall time now and returns its Recorder. It
// fails, leaving nothing behind, when storage refuses the session files;
// later failures never surface as errors but in Status.
func Start(st Storage, spaceID string, now time.Time, opts Options, log *slog.Logger) (*Recorder, error) {
	if err := checkName(spaceID); err != nil || len(spaceID) > 128 || containsSlash(spaceID) {
		return nil, fmt.Errorf("record: bad space id %q", spaceID)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	r := &Recorder{
		st: st, id: spaceID, opts: opts, log: log, base: now,
		queue: make(chan item, opts.QueueFrames),
		free:  make(chan []byte, opts.QueueFrames+opts.PartFrames),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	s, err := r.openSession("restart", 0)
	if err != nil {
		return nil, err
	}
	r.w.cur = s
	r.sessions = 1
	go r.run()
	return r, nil
}

func containsSlash(s string) bool {
	for i := range len(s) {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// WriteFrame queues one 20 ms Opus packet and who is speaking in it. It
// copies what it needs and never blocks: when the queue is full the frame
// is dropped and counted in Status.LostFrames.
func (r *Recorder) WriteFrame(pkt []byte, speaking []Speaker) {
	seq := r.offered.Add(1) - 1
	changed := r.changePending
	if !sameSpeakers(r.speaking, speaking) {
		r.speaking = slices.Clone(speaking)
		changed = true
	}
	if r.closed.Load() || len(pkt) == 0 || len(pkt) > maxPacket {
		r.lost.Add(1)
		r.changePending = changed
		return
	}
	var b []byte
	select {
	case b = <-r.free:
	default:
		b = make([]byte, 0, 256)
	}
	it := item{seq: seq, pkt: append(b[:0], pkt...), changed: changed}
	if changed {
		it.speaking = r.speaking
	}
	select {
	case r.queue <- it:
		r.changePending = false
	default:
		r.lost.Add(1)
		r.changePending = changed
		r.recycle(it.pkt)
	}
}

// sameSpeakers reports whether a and b hold the same speakers, in any order.
func sameSpeakers(a, b []Speaker) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.Equal(a, b) {
		return true
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

func (r *Recorder) recycle(b []byte) {
	select {
	case r.free <- b:
	default:
	}
}

// Status returns the recorder's health and counters.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Status{
		Failing: r.failing, Err: r.errMsg, Sessions: r.sessions,
		Frames: r.frames.Load(), Bytes: r.bytes.Load(), LostFrames: r.lost.Load(),
	}
}

// Close writes what is queued, ends the session with an end-of-stream
// page and stops the writer goroutine. It is safe to call more than once
// and from any goroutine; later calls return the first call's result.
func (r *Recorder) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.quit)
	})
	<-r.done
	return r.closeErr
}

// run is the writer goroutine.
func (r *Recorder) run() {
	defer close(r.done)
	for {
		var retry <-chan time.Time
		if r.w.retry != nil {
			retry = r.w.retry.C
		}
		select {
		case it := <-r.queue:
			r.consume(it)
		case <-retry:
			r.retryStart()
		case <-r.quit:
			for {
				select {
				case it := <-r.queue:
					r.consume(it)
					continue
				default:
				}
				break
			}
			r.closeErr = r.finish()
			return
		}
	}
}

// consume adds one frame to the session, flushing a part when full.
func (r *Recorder) consume(it item) {
	w := &r.w
	if it.changed {
		w.speaking = it.speaking
	}
	s := w.cur
	if s == nil || it.seq < s.startSeq {
		r.lost.Add(1)
		r.recycle(it.pkt)
		return
	}
	if it.changed || s.announce {
		if len(w.speaking) > 0 || !s.announce {
			s.evbuf = appendSpeakingLine(s.evbuf, s.frames+len(s.pending), w.speaking)
		}
		s.announce = false
	}
	s.pending = append(s.pending, it.pkt)
	if len(s.pending) >= r.opts.PartFrames {
		if err := r.flush(false); err != nil {
			r.fail(err)
		}
	}
}

// flush writes the pending part (and sidecar lines) and syncs both files.
func (r *Recorder) flush(eos bool) error {
	s := r.w.cur
	if len(s.evbuf) > 0 {
		if _, err := s.ev.Write(s.evbuf); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		if err := s.ev.Sync(); err != nil {
			return fmt.Errorf("sync events: %w", err)
		}
		r.bytes.Add(int64(len(s.evbuf)))
		s.evbuf = s.evbuf[:0]
	}
	if len(s.pending) == 0 && !eos {
		return nil
	}
	page := r.w.page[:0]
	pkts, frames := s.pending, s.frames
	for first := true; first || len(pkts) > 0; first = false {
		k := pageFit(func(i int) int { return len(pkts[i]) }, len(pkts), len(pkts))
		frames += k
		var flags byte
		if eos && k == len(pkts) {
			flags = flagEOS
		}
		page = appendPage(page, flags, uint64(frames)*frameSamples, s.serial, s.pageSeq, pkts[:k])
		s.pageSeq++
		pkts = pkts[k:]
	}
	r.w.page = page
	if _, err := s.ogg.Write(page); err != nil {
		return fmt.Errorf("write audio: %w", err)
	}
	if err := s.ogg.Sync(); err != nil {
		return fmt.Errorf("sync audio: %w", err)
	}
	r.bytes.Add(int64(len(page)))
	r.frames.Add(int64(len(s.pending)))
	s.frames = frames
	for i, p := range s.pending {
		r.recycle(p)
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
	return nil
}

// fail abandons the current session after a storage error: its file ends
// at the last complete page (a torn page is ignored by readers), the
// pending frames are lost, and the writer retries every RetryEvery.
func (r *Recorder) fail(err error) {
	s := r.w.cur
	r.w.cur = nil
	r.lost.Add(int64(len(s.pending)))
	for _, p := range s.pending {
		r.recycle(p)
	}
	_ = s.ogg.Close()
	_ = s.ev.Close()
	msg := userMessage(err)
	r.mu.Lock()
	first := !r.failing
	r.failing, r.errMsg = true, msg
	r.mu.Unlock()
	if first {
		r.log.Error("recording paused: storage failed", "space", r.id, "session", s.num, "err", err)
	}
	r.w.retry = time.NewTicker(r.opts.RetryEvery)
}

// retryStart tries to start a new session after a failure.
func (r *Recorder) retryStart() {
	s, err := r.openSession("disk", r.offered.Load())
	if err != nil {
		return // still failing; logged once already
	}
	r.w.retry.Stop()
	r.w.retry = nil
	r.w.cur = s
	r.mu.Lock()
	r.failing, r.errMsg = false, ""
	r.sessions++
	r.mu.Unlock()
	r.log.Info("recording resumed", "space", r.id, "session", s.num)
}

// finish ends the session cleanly: last part with EOS, end line, close.
func (r *Recorder) finish() error {
	if r.w.retry != nil {
		r.w.retry.Stop()
	}
	s := r.w.cur
	if s == nil {
		return nil
	}
	s.evbuf = appendEndLine(s.evbuf, s.frames+len(s.pending))
	err := r.flush(true)
	r.w.cur = nil
	if err != nil {
		r.lost.Add(int64(len(s.pending)))
	}
	err = errors.Join(err, s.ogg.Close(), s.ev.Close())
	if err != nil {
		return fmt.Errorf("record: %s: close session %d: %w", r.id, s.num, err)
	}
	return nil
}

// userMessage is the text hosts see for a storage error.
func userMessage(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return "disk full: recording paused; live stream unaffected"
	case errors.Is(err, syscall.EDQUOT):
		return "disk quota exceeded: recording paused; live stream unaffected"
	default:
		return "storage error: recording paused; live stream unaffected"
	}
}

// openSession creates the next session's files and makes their headers
// durable. On failure it removes what it created.
func (r *Recorder) openSession(reason string, startSeq int64) (*openSession, error) {
	infos, err := r.st.List(sessionPrefix(r.id))
	if err != nil {
		return nil, fmt.Errorf("record: %s: new session: %w", r.id, err)
	}
	n := 1
	for _, in := range infos {
		if v, _, ok := parseSessionName(r.id, in.Name); ok && v >= n {
			n = v + 1
		}
	}
	if n == 1 {
		reason = ""
	}
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", r.id, n)
	s := &openSession{num: n, serial: h.Sum32(), pageSeq: 2, startSeq: startSeq, announce: true}
	oggN, evN := oggName(r.id, n), eventsName(r.id, n)
	cleanup := func() {
		if s.ogg != nil {
			_ = s.ogg.Close()
		}
		if s.ev != nil {
			_ = s.ev.Close()
		}
		_ = r.st.Remove(oggN)
		_ = r.st.Remove(evN)
	}
	err = func() error {
		if s.ev, err = r.st.Append(evN); err != nil {
			return err
		}
		if s.ogg, err = r.st.Append(oggN); err != nil {
			return err
		}
		line := appendHeaderLine(nil, sessionHeader{
			Session: n, Space: r.id, Reason: reason,
			StartWall: r.base.Add(time.Duration(startSeq) * frameDur).UTC(),
		})
		if _, err := s.ev.Write(line); err != nil {
			return err
		}
		if err := s.ev.Sync(); err != nil {
			return err
		}
		hdr := appendHeaders(nil, s.serial)
		if _, err := s.ogg.Write(hdr); err != nil {
			return err
		}
		if err := s.ogg.Sync(); err != nil {
			return err
		}
		r.bytes.Add(int64(len(line) + len(hdr)))
		return nil
	}()
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("record: %s: start session %d: %w", r.id, n, err)
	}
	return s, nil
}
