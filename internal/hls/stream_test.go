package hls

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

var t0 = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)

// fakePacket is a distinct, recognizable payload for frame i.
func fakePacket(i int) []byte {
	return []byte{0xfc, byte(i >> 16), byte(i >> 8), byte(i)}
}

// feed writes n frames numbered from *next.
func feed(s *Stream, next *int, n int) {
	for range n {
		s.WriteFrame(fakePacket(*next))
		*next++
	}
}

func parseMedia(t *testing.T, b []byte) *playlist.Media {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("playlist.Unmarshal: %v\n%s", err, b)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		t.Fatalf("got %T, want *playlist.Media", pl)
	}
	return m
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	for _, c := range []Config{
		{PartDuration: 30 * time.Millisecond},
		{PartDuration: 10 * time.Millisecond},
		{SegmentParts: -1},
		{WindowSegments: 1},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: Validate() = nil, want an error", c)
		}
	}
	s := NewStream("x", t0, t0, Config{PartDuration: 30 * time.Millisecond})
	if got := s.Config().PartDuration; got%FrameDuration != 0 {
		t.Errorf("repaired part duration %v is not a multiple of 20ms", got)
	}
}

func TestInitDeterministicOpus(t *testing.T) {
	a := NewStream("x", t0, t0, Config{})
	b := NewStream("x", t0, t0.Add(time.Hour), Config{SegmentParts: 4})
	if !bytes.Equal(a.init.b, b.init.b) {
		t.Fatal("init segments differ between streams")
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(a.init.b)); err != nil {
		t.Fatal(err)
	}
	if len(init.Tracks) != 1 || init.Tracks[0].TimeScale != 48000 {
		t.Fatalf("tracks = %+v, want one track at 48000", init.Tracks)
	}
	if c, ok := init.Tracks[0].Codec.(*codecs.Opus); !ok || c.ChannelCount != 1 {
		t.Fatalf("codec = %#v, want mono Opus", init.Tracks[0].Codec)
	}
}

func TestPlaylistStructure(t *testing.T) {
	s := NewStream("sp_1", t0, t0, Config{WindowSegments: 6})
	next := 0
	feed(s, &next, 99) // one frame short of segment 0
	if s.current().playlist != nil {
		t.Fatal("playlist published before the first segment completed")
	}
	feed(s, &next, 1)
	sn := s.current()
	if sn.playlist == nil {
		t.Fatal("no playlist after the first segment")
	}
	// 8 segments and 3 parts: the window holds 6.
	feed(s, &next, 7*100+3*10)
	sn = s.current()
	m := parseMedia(t, sn.playlist.b)
	if m.Version != 9 || m.TargetDuration != 2 {
		t.Errorf("version %d target %d, want 9 and 2", m.Version, m.TargetDuration)
	}
	if m.ServerControl == nil || !m.ServerControl.CanBlockReload ||
		m.ServerControl.PartHoldBack == nil || *m.ServerControl.PartHoldBack != 600*time.Millisecond ||
		m.ServerControl.CanSkipUntil == nil || *m.ServerControl.CanSkipUntil != 12*time.Second {
		t.Errorf("server control = %+v", m.ServerControl)
	}
	if m.PartInf == nil || m.PartInf.PartTarget != 200*time.Millisecond {
		t.Errorf("part inf = %+v", m.PartInf)
	}
	if m.Map == nil || m.Map.URI != "init.mp4" {
		t.Errorf("map = %+v", m.Map)
	}
	if m.MediaSequence != 2 || len(m.Segments) != 6 {
		t.Fatalf("media sequence %d with %d segments, want 2 and 6", m.MediaSequence, len(m.Segments))
	}
	for i, seg := range m.Segments {
		msn := 2 + i
		if seg.URI != itoa(msn)+".m4s" || seg.Duration != 2*time.Second {
			t.Errorf("segment %d: %q %v", msn, seg.URI, seg.Duration)
		}
		if seg.DateTime == nil || !seg.DateTime.Equal(t0.Add(time.Duration(msn)*2*time.Second)) {
			t.Errorf("segment %d date time %v", msn, seg.DateTime)
		}
		wantParts := 0
		if i >= 4 {
			wantParts = 10
		}
		if len(seg.Parts) != wantParts {
			t.Errorf("segment %d has %d parts, want %d", msn, len(seg.Parts), wantParts)
		}
		for j, p := range seg.Parts {
			if p.URI != itoa(msn)+"."+itoa(j)+".m4s" || !p.Independent || p.Duration != 200*time.Millisecond {
				t.Errorf("segment %d part %d = %+v", msn, j, p)
			}
		}
	}
	if len(m.Parts) != 3 || m.Parts[2].URI != "8.2.m4s" {
		t.Errorf("trailing parts = %d", len(m.Parts))
	}
	if m.PreloadHint == nil || m.PreloadHint.URI != "8.3.m4s" {
		t.Errorf("preload hint = %+v", m.PreloadHint)
	}
	if m.Endlist {
		t.Error("live playlist has ENDLIST")
	}
	if strings.Contains(string(sn.playlist.b), "?") {
		t.Error("playlist URIs carry a query")
	}
	// Segments that left the playlist are still served (retired), the
	// rest present.
	if p, _ := sn.lookupPart(1, 9); p == nil {
		t.Error("part 1.9 gone as soon as it left the playlist")
	}
	if p, _ := sn.lookupPart(2, 0); p == nil {
		t.Error("part 2.0 missing")
	}
	if seg, _ := sn.lookupSegment(7); seg == nil || len(seg.data.b) == 0 {
		t.Error("segment 7 missing")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPlaylistDelta(t *testing.T) {
	s := NewStream("sp_1", t0, t0, Config{WindowSegments: 10})
	next := 0
	feed(s, &next, 6*100)
	if sn := s.current(); sn.delta != nil {
		t.Fatalf("delta with only %d segments", len(sn.segs))
	}
	feed(s, &next, 4*100+50) // 10 complete segments + 5 parts
	sn := s.current()
	if sn.delta == nil {
		t.Fatal("no delta update with a 20 s window")
	}
	full := parseMedia(t, sn.playlist.b)
	d := parseMedia(t, sn.delta.b)
	if d.Skip == nil || d.Skip.SkippedSegments != 4 {
		t.Fatalf("skip = %+v, want 4 segments skipped (those ending >= 12 s before the end)", d.Skip)
	}
	if d.MediaSequence != full.MediaSequence || len(d.Segments)+d.Skip.SkippedSegments != len(full.Segments) {
		t.Errorf("delta: msn %d, %d+%d segments; full: msn %d, %d segments",
			d.MediaSequence, len(d.Segments), d.Skip.SkippedSegments, full.MediaSequence, len(full.Segments))
	}
	if d.Segments[0].URI != full.Segments[4].URI || d.PreloadHint.URI != full.PreloadHint.URI {
		t.Error("delta does not continue where the skip ends")
	}
}

func TestRestartContinues(t *testing.T) {
	live := t0
	a := NewStream("sp_1", live, live, Config{WindowSegments: 6})
	next := 0
	feed(a, &next, 250) // 5 s
	am := parseMedia(t, a.current().playlist.b)
	lastA := am.MediaSequence + len(am.Segments)

	// The node restarts 7 s after going live (2 s after the last frame).
	b := NewStream("sp_1", live, live.Add(7*time.Second), Config{WindowSegments: 6})
	if !bytes.Equal(a.init.b, b.init.b) {
		t.Fatal("init.mp4 differs after restart")
	}
	feed(b, &next, 250)
	sn := b.current()
	bm := parseMedia(t, sn.playlist.b)
	if bm.MediaSequence != 4 || bm.MediaSequence <= lastA {
		t.Fatalf("restarted stream starts at msn %d, want 4 (> %d)", bm.MediaSequence, lastA)
	}
	if !bm.Segments[0].Discontinuity || bm.DiscontinuitySequence == nil || *bm.DiscontinuitySequence != 3 {
		t.Errorf("first segment discontinuity %v, sequence %v; want true, 3", bm.Segments[0].Discontinuity, bm.DiscontinuitySequence)
	}
	if d := bm.Segments[0].DateTime; d == nil || !d.Equal(live.Add(7*time.Second)) {
		t.Errorf("first segment date time %v", d)
	}
	// The media timeline moves forward: tfdt of 4.0 is 4 segments in.
	var parts fmp4.Parts
	p, _ := sn.lookupPart(4, 0)
	if err := parts.Unmarshal(p.data.b); err != nil {
		t.Fatal(err)
	}
	if got, want := parts[0].Tracks[0].BaseTime, uint64(4*2*48000); got != want {
		t.Errorf("tfdt of 4.0 = %d, want %d", got, want)
	}
	// Once the discontinuity left the window the sequence counts it.
	feed(b, &next, 7*100)
	bm = parseMedia(t, b.current().playlist.b)
	if bm.Segments[0].Discontinuity || *bm.DiscontinuitySequence != 4 {
		t.Errorf("later: discontinuity %v sequence %d; want false, 4", bm.Segments[0].Discontinuity, *bm.DiscontinuitySequence)
	}
	// A fresh start has no discontinuity at all.
	if s := a.current(); s.segs[0].disc || a.discontinuitySequence(s.segs) != 0 {
		t.Error("first start marked as a discontinuity")
	}
}

func TestPartContents(t *testing.T) {
	s := NewStream("sp_1", t0, t0, Config{})
	next := 0
	feed(s, &next, 200+30)
	sn := s.current()
	wantFrame := 0
	for msn := range uint64(3) {
		for j := range uint64(10) {
			p, _ := sn.lookupPart(msn, j)
			if msn == 2 && j >= 3 {
				if p != nil {
					t.Fatalf("part %d.%d exists before being written", msn, j)
				}
				continue
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(p.data.b); err != nil {
				t.Fatalf("part %d.%d: %v", msn, j, err)
			}
			tr := parts[0].Tracks[0]
			if tr.BaseTime != uint64(wantFrame*960) || len(tr.Samples) != 10 {
				t.Fatalf("part %d.%d: base %d, %d samples", msn, j, tr.BaseTime, len(tr.Samples))
			}
			for _, smp := range tr.Samples {
				if smp.Duration != 960 || !bytes.Equal(smp.Payload, fakePacket(wantFrame)) {
					t.Fatalf("part %d.%d: sample %d wrong", msn, j, wantFrame)
				}
				wantFrame++
			}
		}
	}
	// A segment is its parts back to back.
	seg, _ := sn.lookupSegment(1)
	var parts fmp4.Parts
	if err := parts.Unmarshal(seg.data.b); err != nil || len(parts) != 10 {
		t.Fatalf("segment 1: %d fragments, %v", len(parts), err)
	}
}

func TestCloseFinalizes(t *testing.T) {
	s := NewStream("sp_1", t0, t0, Config{})
	next := 0
	feed(s, &next, 200+35) // 2 segments, 3 parts and 5 frames
	s.Close()
	s.Close()
	feed(s, &next, 10) // ignored
	sn := s.current()
	m := parseMedia(t, sn.playlist.b)
	if !m.Endlist || m.PreloadHint != nil {
		t.Fatalf("final playlist: endlist %v, hint %+v", m.Endlist, m.PreloadHint)
	}
	last := m.Segments[len(m.Segments)-1]
	if len(m.Segments) != 3 || last.Duration != 700*time.Millisecond || len(last.Parts) != 4 {
		t.Fatalf("segments %d, last %v with %d parts", len(m.Segments), last.Duration, len(last.Parts))
	}
	if last.Parts[3].Duration != 100*time.Millisecond {
		t.Errorf("short last part %v", last.Parts[3].Duration)
	}

	// Closing without frames: an empty, ended playlist.
	e := NewStream("sp_2", t0, t0, Config{})
	e.Close()
	if b := e.current().playlist.b; !bytes.HasSuffix(b, []byte("#EXT-X-ENDLIST\n")) {
		t.Errorf("empty closed playlist:\n%s", b)
	}
}

// TestFreshStartNoDiscontinuity: a stream made just after its space went
// live starts on the next segment boundary but is nobody's continuation, so
// it carries no EXT-X-DISCONTINUITY; one made a part duration or more
// later may follow an earlier incarnation and keeps it.
func TestFreshStartNoDiscontinuity(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		disc  bool
	}{{0, false}, {50 * time.Millisecond, false}, {199 * time.Millisecond, false}, {200 * time.Millisecond, true}, {7 * time.Second, true}} {
		s := NewStream("sp_1", t0, t0.Add(tt.after), Config{})
		next := 0
		feed(s, &next, 300)
		pl := s.current().playlist.b
		m := parseMedia(t, pl)
		got := strings.Contains(string(pl), "#EXT-X-DISCONTINUITY\n")
		if got != tt.disc || m.Segments[0].Discontinuity != tt.disc {
			t.Errorf("stream made %v after going live: discontinuity %v, want %v\n%s", tt.after, got, tt.disc, pl)
		}
		if !tt.disc && (m.DiscontinuitySequence == nil || *m.DiscontinuitySequence != 0) {
			t.Errorf("fresh stream %v: discontinuity sequence %v, want 0", tt.after, m.DiscontinuitySequence)
		}
	}
}
