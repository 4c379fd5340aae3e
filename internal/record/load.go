package record

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Gap marks where the recording was interrupted: At is the recording
// time where the next session begins (gaps are collapsed, so the
// timeline is continuous), Wall the wall-clock time that was missed.
type Gap struct {
	At     time.Duration
	Wall   time.Duration
	Reason string // "restart" or "disk"
}

// Turn is one speaker speaking, in recording time.
type Turn struct {
	SpeakerID, Name string
	Start, End      time.Duration
}

// Recording is the loaded index of a space's recording: where every
// packet is in storage, the gaps between sessions and who spoke when. It
// is immutable and safe for concurrent use; packets are read from
// storage on demand.
type Recording struct {
	st       Storage
	id       string
	sessions []*session
	version  string // the listing it was built from (names and sizes)
	frames   int
	size     int64
	gaps     []Gap
	turns    []Turn
	ended    bool
}

// session is one session's loaded state. Never modified once part of a
// Recording: a reload copies what changed.
type session struct {
	num             int
	oggSize, evSize int64 // sizes in the listing this state was built from
	scan            scan
	side            sidecar
	base            int // recording frame of the session's first packet
}

// listing is the current set of session objects of a space.
type listing struct {
	nums    []int
	ogg, ev map[int]int64
	version string
	size    int64
}

func listSessions(st Storage, spaceID string) (listing, error) {
	if err := checkName(spaceID); err != nil || strings.Contains(spaceID, "/") {
		return listing{}, fmt.Errorf("record: bad space id: %w", ErrNotFound)
	}
	infos, err := st.List(sessionPrefix(spaceID))
	if err != nil {
		return listing{}, err
	}
	l := listing{ogg: map[int]int64{}, ev: map[int]int64{}}
	var v strings.Builder
	for _, in := range infos {
		n, kind, ok := parseSessionName(spaceID, in.Name)
		if !ok {
			continue
		}
		if kind == "ogg" {
			l.ogg[n] = in.Size
			l.nums = append(l.nums, n)
		} else {
			l.ev[n] = in.Size
		}
		l.size += in.Size
		v.WriteString(in.Name)
		v.WriteByte(':')
		v.WriteString(strconv.FormatInt(in.Size, 10))
		v.WriteByte(';')
	}
	sort.Ints(l.nums)
	l.version = v.String()
	return l, nil
}

// Load reads the index of spaceID's recording. It is ErrNotFound when the
// space has no session.
func Load(st Storage, spaceID string) (*Recording, error) {
	l, err := listSessions(st, spaceID)
	if err != nil {
		return nil, err
	}
	return load(st, spaceID, l, nil)
}

// load builds a Recording from listing l, reusing what prev (an earlier
// load of the same space, may be nil) already scanned: unchanged sessions
// are shared, grown ones are scanned from where prev stopped.
func load(st Storage, spaceID string, l listing, prev *Recording) (*Recording, error) {
	if len(l.nums) == 0 {
		return nil, fmt.Errorf("record: %s: %w", spaceID, ErrNotFound)
	}
	old := map[int]*session{}
	if prev != nil {
		for _, s := range prev.sessions {
			old[s.num] = s
		}
	}
	rec := &Recording{st: st, id: spaceID, version: l.version, size: l.size}
	for _, n := range l.nums {
		s, err := loadSession(st, spaceID, n, l.ogg[n], l.ev[n], old[n])
		if err != nil {
			return nil, err
		}
		rec.sessions = append(rec.sessions, s)
	}
	rec.index()
	return rec, nil
}

func loadSession(st Storage, spaceID string, n int, oggSize, evSize int64, prev *session) (*session, error) {
	if prev != nil && prev.oggSize == oggSize && prev.evSize == evSize {
		return prev, nil
	}
	s := &session{num: n, oggSize: oggSize, evSize: evSize}
	if prev != nil && prev.oggSize <= oggSize {
		s.scan = prev.scan
		// Clip capacity so appends copy instead of writing into prev's arrays.
		s.scan.off = slices.Clip(s.scan.off)
		s.scan.len = slices.Clip(s.scan.len)
	}
	if prev == nil || prev.oggSize != oggSize {
		obj, err := st.Open(oggName(spaceID, n))
		if errors.Is(err, ErrNotFound) {
			return s, nil // removed meanwhile: an empty session
		}
		if err != nil {
			return nil, err
		}
		err = s.scan.resume(obj, obj.Size())
		obj.Close()
		if err != nil {
			return nil, fmt.Errorf("record: read %s: %w", oggName(spaceID, n), err)
		}
	}
	if prev != nil && prev.evSize == evSize {
		s.side = prev.side
	} else if evSize > 0 {
		obj, err := st.Open(eventsName(spaceID, n))
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil {
			s.side, err = readSidecar(io.NewSectionReader(obj, 0, obj.Size()))
			obj.Close()
			if err != nil {
				return nil, fmt.Errorf("record: read %s: %w", eventsName(spaceID, n), err)
			}
		}
	}
	return s, nil
}

// index computes the timeline: session bases, gaps and turns.
func (r *Recording) index() {
	var prevEnd time.Time
	havePrev := false
	skippedRestart := false
	type run struct{ start, end int }
	runs := map[string][]run{}
	names := map[string]string{}
	var ids []string
	for _, s := range r.sessions {
		fr := s.scan.frames()
		s.base = r.frames
		if fr == 0 {
			if s.side.header.Reason == "restart" {
				skippedRestart = true
			}
			continue
		}
		start := s.side.header.StartWall
		if !s.side.ok {
			start = prevEnd
		}
		if havePrev {
			reason := s.side.header.Reason
			if reason == "" || skippedRestart {
				reason = "restart"
			}
			wall := max(start.Sub(prevEnd), 0)
			r.gaps = append(r.gaps, Gap{At: time.Duration(r.frames) * frameDur, Wall: wall, Reason: reason})
		}
		havePrev, skippedRestart = true, false
		prevEnd = start.Add(time.Duration(fr) * frameDur)

		// Speaking runs; every run ends with its session.
		open := map[string]int{}
		closeRun := func(id string, at int) {
			if st, ok := open[id]; ok {
				runs[id] = append(runs[id], run{st, at})
				delete(open, id)
			}
		}
		for _, ev := range s.side.events {
			if ev.frame >= fr {
				break
			}
			at := r.frames + ev.frame
			now := map[string]bool{}
			for _, sp := range ev.speaking {
				now[sp.ID] = true
				if sp.Name != "" || names[sp.ID] == "" {
					names[sp.ID] = sp.Name
				}
				if _, ok := open[sp.ID]; !ok {
					if _, seen := runs[sp.ID]; !seen {
						ids = append(ids, sp.ID)
						runs[sp.ID] = nil
					}
					open[sp.ID] = at
				}
			}
			for id := range open {
				if !now[id] {
					closeRun(id, at)
				}
			}
		}
		for id := range open {
			closeRun(id, r.frames+fr)
		}
		r.frames += fr
		r.ended = s.scan.stage == 3
	}
	r.turns = turns(ids, names, func(id string) [][2]int {
		out := make([][2]int, len(runs[id]))
		for i, x := range runs[id] {
			out[i] = [2]int{x.start, x.end}
		}
		return out
	})
}

// ID is the space the recording belongs to.
func (r *Recording) ID() string { return r.id }

// Duration is the recording's length: frames × 20 ms.
func (r *Recording) Duration() time.Duration { return time.Duration(r.frames) * frameDur }

// Size is the bytes the recording's sessions take in storage.
func (r *Recording) Size() int64 { return r.size }

// Frames is the number of 20 ms packets.
func (r *Recording) Frames() int { return r.frames }

// Gaps are the interruptions, in recording order.
func (r *Recording) Gaps() []Gap { return slices.Clone(r.gaps) }

// Turns are who spoke when, ordered by start.
func (r *Recording) Turns() []Turn { return slices.Clone(r.turns) }

// Ended reports whether the last session with audio was closed cleanly
// (it has an end-of-stream page); false while recording or after a crash.
func (r *Recording) Ended() bool { return r.ended }

// Version identifies the stored state the index was built from; it
// changes whenever a session file changes.
func (r *Recording) Version() string { return r.version }

// Packets returns packets first..first+count-1, read from storage.
func (r *Recording) Packets(first, count int) ([][]byte, error) {
	var pr packetReader
	defer pr.close()
	return pr.read(r, first, count)
}

// packetReader reads packets keeping session objects open between calls.
type packetReader struct {
	objs map[int]Object
}

func (pr *packetReader) close() {
	for _, o := range pr.objs {
		o.Close()
	}
}

func (pr *packetReader) read(r *Recording, first, count int) ([][]byte, error) {
	if first < 0 || count < 0 || first > r.frames || count > r.frames-first {
		return nil, fmt.Errorf("record: packets %d+%d outside 0..%d", first, count, r.frames)
	}
	out := make([][]byte, count)
	// The session holding first: the last one whose base is <= first.
	si := sort.Search(len(r.sessions), func(i int) bool { return r.sessions[i].base > first }) - 1
	for done := 0; done < count; si++ {
		s := r.sessions[si]
		i := first + done - s.base
		n := min(count-done, s.scan.frames()-i)
		if n <= 0 {
			continue
		}
		obj, err := pr.object(r, s.num)
		if err != nil {
			return nil, err
		}
		var total int64
		for k := i; k < i+n; k++ {
			total += int64(s.scan.len[k])
		}
		buf := make([]byte, total)
		pos := int64(0)
		// Read runs of packets that are contiguous in the file at once.
		for k := i; k < i+n; {
			j, end := k+1, s.scan.off[k]+int64(s.scan.len[k])
			for j < i+n && s.scan.off[j] == end {
				end += int64(s.scan.len[j])
				j++
			}
			runLen := end - s.scan.off[k]
			if m, err := obj.ReadAt(buf[pos:pos+runLen], s.scan.off[k]); err != nil && (err != io.EOF || int64(m) != runLen) {
				return nil, fmt.Errorf("record: read %s: %w", oggName(r.id, s.num), err)
			}
			for ; k < j; k++ {
				l := int64(s.scan.len[k])
				out[done] = buf[pos : pos+l : pos+l]
				pos += l
				done++
			}
		}
	}
	return out, nil
}

func (pr *packetReader) object(r *Recording, num int) (Object, error) {
	if o, ok := pr.objs[num]; ok {
		return o, nil
	}
	o, err := r.st.Open(oggName(r.id, num))
	if err != nil {
		return nil, err
	}
	if pr.objs == nil {
		pr.objs = map[int]Object{}
	}
	pr.objs[num] = o
	return o, nil
}

// Delete removes every stored object of spaceID's recording.
func Delete(st Storage, spaceID string) error {
	if err := checkName(spaceID); err != nil || strings.Contains(spaceID, "/") {
		return fmt.Errorf("record: delete: bad space id %q", spaceID)
	}
	infos, err := st.List(spaceID + "/")
	if err != nil {
		return fmt.Errorf("record: delete %s: %w", spaceID, err)
	}
	var errs []error
	for _, in := range infos {
		if err := st.Remove(in.Name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("record: delete %s: %w", spaceID, err)
	}
	return nil
}
