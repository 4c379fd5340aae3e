package mix

const (
	// ringSize is the number of jitter-buffer slots (a power of two). It is
	// larger than maxDepth so that two packets held at once never share a slot.
	ringSize = 64
	ringMask = ringSize - 1
	// maxDepth bounds how far ahead of the playout point a packet may be
	// held: 50 packets, one second of 20 ms audio.
	maxDepth = 50
	// restartGap is how far behind the playout point a packet must be to be
	// taken as the sender restarting its sequence rather than as late.
	restartGap = 100
	// plcFrames is how many consecutive missing packets are concealed before
	// a source is treated as stopped (underrun) and re-buffers.
	plcFrames = 3
	// driftWindow is how many frames the buffer depth is watched before
	// excess depth (sender clock faster than ours, or the tail of a burst)
	// is dropped; driftSlack is the excess tolerated.
	driftWindow = 50
	driftSlack  = 2
	// maxGrow bounds the playout delay added by stalls (frames), and
	// calmFrames is how long a source must play without one before a frame
	// of that delay is given back.
	maxGrow    = 7
	calmFrames = 500
)

// popResult says what the jitter buffer has for the current playout slot.
type popResult int

const (
	popNone   popResult = iota // not playing: buffering or stopped
	popPacket                  // the expected packet
	popLost                    // the expected packet is missing: conceal it
)

// slot holds one buffered packet. buf is kept when the slot empties so its
// storage is reused.
type slot struct {
	buf []byte
	seq uint16
	ok  bool
}

// jitterBuffer orders one source's packets by RTP sequence number and hands
// them out at the playout rate. It is not safe for concurrent use: it belongs
// to the goroutine producing frames (see Source).
//
// Invariant: every buffered packet has a sequence number in
// [next, next+maxDepth), in RTP (wrapping) order, so no two share a slot.
type jitterBuffer struct {
	slots  [ringSize]slot
	target int // packets (or frames of waiting) before playout starts

	// grown is playout delay added on top of target because packets
	// stalled (the sender, the network or this machine held them back and
	// then delivered them at once): a stall that was waited out (stalled
	// frames of concealment) would recur as loss at the old depth.
	// Bounded by maxGrow; calm counts frames since the last stall.
	grown, stalled, calm int

	playing bool
	// next is the sequence number to play next while playing, and the lowest
	// buffered one while buffering with count > 0.
	next uint16
	// floor is the first sequence number not yet played or given up; older
	// packets are late. Valid when hasFloor.
	floor    uint16
	hasFloor bool
	count    int    // buffered packets
	high     uint16 // highest buffered sequence number, valid when count > 0
	waited   int    // frames spent buffering with count > 0
	missRun  int    // consecutive missing packets concealed
	minDepth int    // smallest depth seen in the current drift window
	ticks    int    // frames into the current drift window

	c *counters
}

// seqDiff returns a-b in RTP sequence order, in [-32768, 32767].
func seqDiff(a, b uint16) int { return int(int16(a - b)) }

// insert files pkt under seq and returns a buffer for the caller to reuse:
// the slot's previous storage, or pkt itself when pkt was dropped.
func (j *jitterBuffer) insert(seq uint16, pkt []byte) []byte {
	if j.hasFloor {
		if d := seqDiff(seq, j.floor); d < 0 {
			if d > -restartGap {
				j.c.late.Add(1)
				return pkt
			}
			// Far behind what was played: the sender restarted its sequence.
			j.c.resyncs.Add(1)
			j.reset()
		}
	}
	resynced := false
	if j.count == 0 && !j.playing {
		j.next = seq
	} else {
		d := seqDiff(seq, j.next)
		if d < 0 {
			// Only while buffering: an earlier packet than the lowest held.
			if h := seqDiff(j.high, seq); h < 0 || h >= maxDepth {
				j.c.late.Add(1)
				return pkt
			}
			j.next = seq
		} else if d >= maxDepth {
			// Too far ahead: a burst or the sender's clock running fast.
			// Drop the oldest packets so that seq ends target deep.
			j.c.resyncs.Add(1)
			j.advanceTo(seq - uint16(j.depth()) + 1)
			resynced = true
		}
	}
	s := &j.slots[seq&ringMask]
	if s.ok {
		if s.seq == seq {
			j.c.duplicates.Add(1)
			return pkt
		}
		// Unreachable while the invariant holds; keep the newer packet.
		j.count--
		j.c.dropped.Add(1)
	}
	spare := s.buf
	s.buf, s.seq, s.ok = pkt, seq, true
	j.count++
	if j.count == 1 || seqDiff(seq, j.high) > 0 {
		j.high = seq
	}
	if resynced {
		j.seekLowest()
	}
	return spare
}

// advanceTo drops every buffered packet before seq and moves next (and the
// floor) to seq.
func (j *jitterBuffer) advanceTo(seq uint16) {
	dist := int(seq - j.next)
	if dist >= ringSize {
		dist = ringSize // every buffered packet lies within ringSize of next
	}
	for i := 0; i < dist && j.count > 0; i++ {
		s := &j.slots[(j.next+uint16(i))&ringMask]
		if s.ok {
			s.ok = false
			j.count--
			j.c.dropped.Add(1)
		}
	}
	j.next = seq
	j.floor, j.hasFloor = seq, true
}

// seekLowest moves next forward to the lowest buffered packet, if any.
func (j *jitterBuffer) seekLowest() {
	if j.count == 0 {
		return
	}
	for i := range uint16(ringSize) {
		s := &j.slots[(j.next+i)&ringMask]
		if s.ok && s.seq == j.next+i {
			j.next += i
			if j.playing {
				j.floor = j.next
			}
			return
		}
	}
}

// pop reports what to play for the next playout slot and advances past it.
// For popPacket the returned bytes stay valid until the next insert.
func (j *jitterBuffer) pop() ([]byte, popResult) {
	if !j.playing {
		if j.count == 0 {
			return nil, popNone
		}
		j.waited++
		if d := j.depth(); j.count < d && j.waited < d {
			return nil, popNone
		}
		j.playing, j.waited, j.missRun, j.stalled = true, 0, 0, 0
		j.floor, j.hasFloor = j.next, true
	}
	if s := &j.slots[j.next&ringMask]; s.ok && s.seq == j.next {
		return j.take(s), popPacket
	}
	if j.missRun < plcFrames {
		j.missRun++
		if j.count == 0 {
			// Nothing newer has come either: the stream stalled rather than
			// lost this packet. Conceal, but keep waiting for it, so that
			// it plays when it comes instead of being dropped as late.
			j.stalled++
			return nil, popLost
		}
		j.next++
		j.floor = j.next
		return nil, popLost
	}
	if j.count > 0 {
		// A hole longer than the concealment budget: skip to what we have.
		j.seekLowest()
		return j.take(&j.slots[j.next&ringMask]), popPacket
	}
	// Nothing left: the source stopped or stalled. Re-buffer.
	j.playing = false
	j.floor, j.hasFloor = j.next, true
	j.c.underruns.Add(1)
	return nil, popNone
}

func (j *jitterBuffer) take(s *slot) []byte {
	if j.stalled > 0 {
		// A stall was waited out: keep the delay it added.
		j.grown = min(j.grown+j.stalled, maxGrow)
		j.stalled, j.calm = 0, 0
	}
	s.ok = false
	j.count--
	j.next++
	j.floor = j.next
	j.missRun = 0
	return s.buf
}

// trimDrift runs once per frame. When the buffer has stayed deeper than
// target+driftSlack for a whole window, the excess is dropped so latency
// does not creep up.
func (j *jitterBuffer) trimDrift() {
	if !j.playing {
		j.ticks, j.minDepth = 0, maxDepth
		return
	}
	if j.ticks == 0 || j.count < j.minDepth {
		j.minDepth = j.count
	}
	j.ticks++
	if j.calm++; j.calm >= calmFrames && j.grown > 0 {
		j.grown--
		j.calm = 0
	}
	if j.ticks < driftWindow {
		return
	}
	if excess := j.minDepth - j.depth(); excess > driftSlack {
		j.c.resyncs.Add(1)
		j.advanceTo(j.next + uint16(excess))
		j.seekLowest()
	}
	j.ticks = 0
}

// depth is the playout delay now aimed at, in packets.
func (j *jitterBuffer) depth() int { return j.target + j.grown }

// reset forgets every packet and the playout position, keeping storage.
func (j *jitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i].ok = false
	}
	j.playing, j.hasFloor = false, false
	j.count, j.waited, j.missRun, j.ticks, j.stalled = 0, 0, 0, 0, 0
}
