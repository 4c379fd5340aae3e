// Package mix is the per-space audio mixer. Each live space has one Mixer:
// speakers' Opus packets are pushed into per-source jitter buffers, and
// every 20 ms one goroutine decodes the next packet of each source (or
// conceals a lost one), sums the non-muted sources, runs a peak limiter and
// encodes one mono 48 kHz Opus packet of the mix for the listeners.
//
// Cost is kept to what is heard: a source with nothing buffered is not
// decoded, a muted source's packets are consumed without decoding, and a
// mix with no audio reuses a silence packet precomputed at New instead of
// running the encoder. Steady-state frames allocate nothing.
//
// Lock order: Mixer.frameMu, then Mixer.mu, then Source.mu, then
// Mixer.levelMu. No lock is held while calling out except frameMu.
package mix

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podium-live/podium/internal/codec"
)

const (
	// FrameDuration is the length of one mixed frame.
	FrameDuration = 20 * time.Millisecond
	// silencePrimeFrames is how many frames of zeros are encoded at New to
	// bring the encoder to its steady state before keeping a silence packet.
	silencePrimeFrames = 10
	// tailFrames is how long the encoder keeps running on silence after the
	// last audible frame, so speech fades out through the codec normally
	// before the precomputed silence packet takes over.
	tailFrames = 5
	// maxJitterFrames bounds Config.JitterFrames well inside maxDepth.
	maxJitterFrames = 25
)

// Config tunes a Mixer. The zero value is usable.
type Config struct {
	Bitrate      int              // Opus output bitrate in bits/s, 0 = 48000
	JitterFrames int              // playout delay in 20 ms frames before a source starts playing, 0 = 3
	Clock        func() time.Time // paces Run and measures lateness; nil = time.Now
}

// Stats are cumulative counters, suitable for Prometheus counters.
type Stats struct {
	Frames       uint64 // frames produced
	Overruns     uint64 // frames produced a frame or more late (back-to-back)
	Encodes      uint64 // frames that ran the Opus encoder; the rest reused the silence packet
	Limited      uint64 // frames in which the limiter reduced gain
	Packets      uint64 // packets accepted by Push
	Invalid      uint64 // packets refused by Push: empty or larger than codec.MaxPacket
	Late         uint64 // packets dropped for arriving after their turn
	Duplicates   uint64 // packets dropped as duplicates
	Dropped      uint64 // packets dropped to bound latency (full inbox, burst, drift)
	Resyncs      uint64 // times a jitter buffer jumped to re-sync with its sender
	Concealed    uint64 // frames filled by packet-loss concealment
	Underruns    uint64 // times a playing source ran dry and went back to buffering
	DecodeErrors uint64 // packets the decoder rejected (concealed instead)
}

// counters backs Stats. Fields are atomics: sources update them from Push
// and from the frame-producing goroutine.
type counters struct {
	frames, overruns, encodes, limited                   atomic.Uint64
	packets, invalid, late, duplicates, dropped, resyncs atomic.Uint64
	concealed, underruns, decodeErrors                   atomic.Uint64
}

// Mixer mixes one space's speakers into one Opus stream.
type Mixer struct {
	log          *slog.Logger
	out          func(idx int64, pkt []byte)
	clock        func() time.Time
	jitterFrames int
	c            counters
	running      atomic.Bool // a Run is in progress

	mu      sync.Mutex
	sources map[string]*Source // guarded by mu
	muted   map[string]bool    // guarded by mu; kept across remove and re-add
	version atomic.Uint64      // bumped under mu whenever sources changes

	levelMu sync.Mutex
	levels  []Level // guarded by levelMu; sorted by ID, rewritten every frame

	// frameMu is held while a frame is produced (by Run, or by Tick in
	// tests and benchmarks). It guards all audio state below and every
	// Source's audio state.
	frameMu  sync.Mutex
	seen     uint64    // version the active list was built from
	active   []*Source // sorted by ID
	scratch  []Level   // this frame's levels, copied to levels
	mix      [codec.FrameSamples]float32
	enc      *codec.Encoder
	pkt      [codec.MaxPacket]byte
	silence  []byte
	lim      limiter
	idx      int64 // next frame index
	tail     int   // frames left to encode after audio stopped
	encFails int   // consecutive encoder failures, to log only the first
}

// New builds a mixer. out is called from the frame-producing goroutine once
// per 20 ms frame, in order, with one encoded mono 48 kHz Opus packet of
// the mix; out must not retain pkt after returning (copy it), should return
// quickly (a slow out delays the next frame), and must not call Tick. idx is the frame index since the mixer started (0, 1, 2, ...):
// frames are never skipped; if Run falls behind it produces the missing
// frames back-to-back and counts an overrun for each.
func New(cfg Config, out func(idx int64, pkt []byte), log *slog.Logger) (*Mixer, error) {
	if out == nil {
		return nil, errors.New("mix: out func is nil")
	}
	if cfg.Bitrate < 0 {
		return nil, fmt.Errorf("mix: bitrate %d is negative", cfg.Bitrate)
	}
	if cfg.JitterFrames < 0 || cfg.JitterFrames > maxJitterFrames {
		return nil, fmt.Errorf("mix: jitter frames %d outside 0..%d", cfg.JitterFrames, maxJitterFrames)
	}
	if cfg.JitterFrames == 0 {
		cfg.JitterFrames = 3
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	enc, err := codec.NewEncoder(cfg.Bitrate)
	if err != nil {
		return nil, fmt.Errorf("mix: %w", err)
	}
	m := &Mixer{
		log:          log,
		out:          out,
		clock:        cfg.Clock,
		jitterFrames: cfg.JitterFrames,
		sources:      make(map[string]*Source),
		muted:        make(map[string]bool),
		enc:          enc,
		lim:          newLimiter(codec.SampleRate),
	}
	var zeros [codec.FrameSamples]float32
	for range silencePrimeFrames {
		n, err := enc.Encode(zeros[:], m.pkt[:])
		if err != nil {
			return nil, fmt.Errorf("mix: precompute silence: %w", err)
		}
		m.silence = append(m.silence[:0], m.pkt[:n]...)
	}
	return m, nil
}

// Run produces a frame every 20 ms until ctx is done, then returns nil.
// Frames are scheduled against the Clock from the moment Run starts, so
// timer jitter does not accumulate. Only one Run may be active at a time.
func (m *Mixer) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("mix: Run is already running")
	}
	defer m.running.Store(false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := m.clock()
	for n := int64(0); ; n++ {
		late := m.clock().Sub(start.Add(time.Duration(n) * FrameDuration))
		if late < 0 {
			timer.Reset(-late)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			return nil
		} else if late >= FrameDuration {
			m.c.overruns.Add(1)
		}
		m.Tick()
	}
}

// Tick produces exactly one frame synchronously and passes it to out. Run
// calls it every 20 ms; tests and benchmarks call it directly. It is safe
// to call from any goroutine but not from out.
func (m *Mixer) Tick() {
	m.frameMu.Lock()
	defer m.frameMu.Unlock()
	m.refreshLocked()

	clear(m.mix[:])
	heard := false
	for i, s := range m.active {
		frame := s.render(s.muted.Load())
		if frame != nil {
			for k, v := range frame {
				m.mix[k] += v
			}
			heard = true
		}
		lv, speaking := s.meter.update(frame)
		m.scratch[i] = Level{ID: s.id, Level: lv, Speaking: speaking}
	}
	m.levelMu.Lock()
	copy(m.levels, m.scratch)
	m.levelMu.Unlock()

	if heard && !allZero(m.mix[:]) {
		m.tail = tailFrames
	} else if m.tail > 0 {
		m.tail--
	}
	pkt := m.silence
	if m.tail > 0 {
		pkt = m.encodeLocked()
	} else {
		m.lim.env = 0
	}
	idx := m.idx
	m.idx++
	m.c.frames.Add(1)
	m.out(idx, pkt)
}

// encodeLocked limits and encodes the mix, falling back to the silence
// packet if the encoder fails.
func (m *Mixer) encodeLocked() []byte {
	if m.lim.process(m.mix[:]) {
		m.c.limited.Add(1)
	}
	m.c.encodes.Add(1)
	n, err := m.enc.Encode(m.mix[:], m.pkt[:])
	if err != nil {
		if m.encFails == 0 {
			m.log.Error("mix: encode failed; sending silence", "err", err)
		}
		m.encFails++
		return m.silence
	}
	m.encFails = 0
	return m.pkt[:n]
}

// refreshLocked rebuilds the active source list after sources changed.
func (m *Mixer) refreshLocked() {
	if m.version.Load() == m.seen {
		return
	}
	m.mu.Lock()
	old := len(m.active)
	m.active = m.active[:0]
	for _, s := range m.sources {
		m.active = append(m.active, s)
	}
	m.seen = m.version.Load()
	m.mu.Unlock()
	if old > len(m.active) {
		clear(m.active[len(m.active):old]) // let removed sources be collected
	}
	slices.SortFunc(m.active, func(a, b *Source) int { return cmp.Compare(a.id, b.id) })
	m.scratch = slices.Grow(m.scratch[:0], len(m.active))[:len(m.active)]
	levels := make([]Level, len(m.active))
	for i, s := range m.active {
		levels[i].ID = s.id
	}
	m.levelMu.Lock()
	m.levels = levels
	m.levelMu.Unlock()
}

// AddSource registers a speaker and returns the Source to push its packets
// into. If id already has a source it is replaced: the old Source's Push
// becomes a no-op and the new one starts with an empty jitter buffer. A
// mute set for id with SetMuted applies to the new source. Safe from any
// goroutine.
func (m *Mixer) AddSource(id string) *Source {
	dec, err := codec.NewDecoder()
	if err != nil {
		m.log.Error("mix: source will be silent", "err", err)
		dec = nil
	}
	s := newSource(id, m.jitterFrames, &m.c, dec)
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.sources[id]; old != nil {
		old.closed.Store(true)
	}
	s.muted.Store(m.muted[id])
	m.sources[id] = s
	m.version.Add(1)
	return s
}

// RemoveSource unregisters a speaker; its Source's Push becomes a no-op.
// Removing an unknown id does nothing. A mute on id is kept, so a speaker
// who reconnects stays muted. Safe from any goroutine.
func (m *Mixer) RemoveSource(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sources[id]
	if s == nil {
		return
	}
	s.closed.Store(true)
	delete(m.sources, id)
	m.version.Add(1)
}

// SetMuted mutes or unmutes a speaker from the next frame on. A muted
// source's packets are consumed without being decoded and contribute
// nothing to the mix or to Levels. The setting is remembered for id even
// while it has no source. Safe from any goroutine.
func (m *Mixer) SetMuted(id string, muted bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if muted {
		m.muted[id] = true
	} else {
		delete(m.muted, id)
	}
	if s := m.sources[id]; s != nil {
		s.muted.Store(muted)
	}
}

// Levels returns a snapshot of every source's level as of the last frame,
// sorted by ID. A source added or removed since then shows up in (or
// leaves) the snapshot at the next frame. Safe from any goroutine.
func (m *Mixer) Levels() []Level {
	m.levelMu.Lock()
	defer m.levelMu.Unlock()
	return slices.Clone(m.levels)
}

// Overruns returns how many frames Run produced a frame or more late.
func (m *Mixer) Overruns() uint64 { return m.c.overruns.Load() }

// Stats returns the mixer's cumulative counters.
func (m *Mixer) Stats() Stats {
	c := &m.c
	return Stats{
		Frames:       c.frames.Load(),
		Overruns:     c.overruns.Load(),
		Encodes:      c.encodes.Load(),
		Limited:      c.limited.Load(),
		Packets:      c.packets.Load(),
		Invalid:      c.invalid.Load(),
		Late:         c.late.Load(),
		Duplicates:   c.duplicates.Load(),
		Dropped:      c.dropped.Load(),
		Resyncs:      c.resyncs.Load(),
		Concealed:    c.concealed.Load(),
		Underruns:    c.underruns.Load(),
		DecodeErrors: c.decodeErrors.Load(),
	}
}

func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}
