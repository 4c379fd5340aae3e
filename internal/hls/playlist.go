package hls

import (
	"strconv"
	"time"
)

// Playlist text is written by hand rather than through gohlslib's
// playlist.Media so that versions are built with one append pass on the
// writer goroutine and the tag order stays exactly as documented here:
//
//	#EXTM3U
//	#EXT-X-VERSION:9
//	#EXT-X-INDEPENDENT-SEGMENTS
//	#EXT-X-TARGETDURATION:2
//	#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600,CAN-SKIP-UNTIL=12.000
//	#EXT-X-PART-INF:PART-TARGET=0.200
//	#EXT-X-MEDIA-SEQUENCE:<first msn>
//	#EXT-X-DISCONTINUITY-SEQUENCE:<n>
//	#EXT-X-MAP:URI="init.mp4"
//	[#EXT-X-SKIP:SKIPPED-SEGMENTS=<k>]                      (delta updates)
//	per segment: [#EXT-X-DISCONTINUITY] #EXT-X-PROGRAM-DATE-TIME,
//	  #EXT-X-PART lines (last segments only), #EXTINF, "<msn>.m4s"
//	parts of the segment in progress
//	#EXT-X-PRELOAD-HINT:TYPE=PART,URI="<msn>.<part>.m4s" | #EXT-X-ENDLIST
//
// Version 9 is what EXT-X-SKIP requires; every URI is relative and carries
// no query, so one CDN cache entry serves every player.

// partSegmentsShown is how many of the newest segments list their parts
// (the one in progress counts): with 2 s segments, the last 4-6 s, well
// beyond PART-HOLD-BACK.
const partSegmentsShown = 3

// skipBoundary is CAN-SKIP-UNTIL, the spec's minimum of six target durations.
func (s *Stream) skipBoundary() time.Duration {
	return 6 * time.Duration(s.targetDur) * time.Second
}

// appendHeader appends the part of the playlist that never changes.
func (s *Stream) appendHeader(b []byte) []byte {
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(s.targetDur), 10)
	b = append(b, "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK="...)
	b = appendSeconds(b, 3*s.partDur)
	b = append(b, ",CAN-SKIP-UNTIL="...)
	b = appendSeconds(b, s.skipBoundary())
	b = append(b, "\n#EXT-X-PART-INF:PART-TARGET="...)
	b = appendSeconds(b, s.partDur)
	b = append(b, '\n')
	return b
}

// discontinuitySequence is EXT-X-DISCONTINUITY-SEQUENCE for a window that
// starts at firstMSN. A resumed Stream (see NewStream) that starts at
// msn k > 0 (a restart, or a late first start) gives its segments discontinuity sequence number k,
// which grows with every restart since k does. While segment k, which
// carries EXT-X-DISCONTINUITY, is still first in the window, the header is
// k-1 and the tag makes it k.
func (s *Stream) discontinuitySequence(segs []*segment) uint64 {
	if !s.resumed {
		return 0
	}
	if len(segs) > 0 && segs[0].disc {
		return s.startMSN - 1
	}
	return s.startMSN
}

// skippable is how many leading segments a delta update of sn may replace
// with EXT-X-SKIP: complete segments that end at least CAN-SKIP-UNTIL
// before the end of the playlist. The segment carrying EXT-X-DISCONTINUITY
// is never skipped, so discontinuity numbering never depends on a tag the
// delta does not show.
func (s *Stream) skippable(sn *snapshot) int {
	if len(sn.segs) == 0 || sn.segs[0].disc {
		return 0
	}
	var total time.Duration
	for _, seg := range sn.segs {
		total += seg.dur
	}
	bound := s.skipBoundary()
	var end time.Duration
	n := 0
	for _, seg := range sn.segs {
		end += seg.dur
		if !seg.complete || total-end < bound {
			break
		}
		n++
	}
	return n
}

// appendPlaylist appends the playlist of sn, or its delta update.
func (s *Stream) appendPlaylist(b []byte, sn *snapshot, delta bool) []byte {
	b = append(b, s.header...)
	b = append(b, "#EXT-X-MEDIA-SEQUENCE:"...)
	b = strconv.AppendUint(b, sn.firstMSN, 10)
	b = append(b, "\n#EXT-X-DISCONTINUITY-SEQUENCE:"...)
	b = strconv.AppendUint(b, s.discontinuitySequence(sn.segs), 10)
	b = append(b, "\n#EXT-X-MAP:URI=\"init.mp4\"\n"...)
	skip := 0
	if delta {
		skip = s.skippable(sn)
		b = append(b, "#EXT-X-SKIP:SKIPPED-SEGMENTS="...)
		b = strconv.AppendInt(b, int64(skip), 10)
		b = append(b, '\n')
	}
	for i, seg := range sn.segs {
		if i < skip {
			continue
		}
		if len(seg.parts) == 0 {
			continue // the segment in progress, nothing yet
		}
		if seg.disc {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		b = append(b, "#EXT-X-PROGRAM-DATE-TIME:"...)
		b = append(b, seg.pdt...)
		b = append(b, '\n')
		if i >= len(sn.segs)-partSegmentsShown {
			for j, p := range seg.parts {
				b = append(b, "#EXT-X-PART:DURATION="...)
				b = appendSeconds(b, p.dur)
				b = append(b, ",URI=\""...)
				b = appendPartName(b, seg.msn, uint64(j))
				b = append(b, "\",INDEPENDENT=YES\n"...)
			}
		}
		if seg.complete {
			b = append(b, "#EXTINF:"...)
			b = appendSeconds(b, seg.dur)
			b = append(b, ",\n"...)
			b = strconv.AppendUint(b, seg.msn, 10)
			b = append(b, ".m4s\n"...)
		}
	}
	if sn.closed {
		return append(b, "#EXT-X-ENDLIST\n"...)
	}
	last := sn.segs[len(sn.segs)-1]
	b = append(b, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\""...)
	b = appendPartName(b, last.msn, uint64(len(last.parts)))
	return append(b, "\"\n"...)
}

// appendPartName appends "<msn>.<part>.m4s".
func appendPartName(b []byte, msn, part uint64) []byte {
	b = strconv.AppendUint(b, msn, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, part, 10)
	return append(b, ".m4s"...)
}

// appendSeconds appends d as decimal seconds with millisecond precision.
func appendSeconds(b []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}
