package record

import "strings"

// Replay requests (docs/API.md, "Recordings"); anything else is 404:
//
//	/replay/{id}/index.m3u8
//	/replay/{id}/init.mp4
//	/replay/{id}/{first}-{count}.m4s   first % 300 == 0, 1 <= count <= 300
//	/replay/{id}/recording.opus
//
// and each of them under /replay/{id}/{view}/…, the view (policy.View)
// the listener's territory gets; without one, view 0 (the original).
//
// Numbers are canonical decimals (no sign, no leading zeros), so every
// piece of content has exactly one URL. The parser allocates nothing.

// Prefix is the URL path prefix the Server handles.
const Prefix = "/replay/"

// SegmentPackets is the length of a replay segment: 300 packets, 6 s.
const SegmentPackets = 300

type replayKind uint8

const (
	kindPlaylist replayKind = iota + 1
	kindInit
	kindSegment
	kindDownload
)

type replayReq struct {
	kind         replayKind
	id           string // aliases the path
	view         string // aliases the path; policy.None when the URL names none
	first, count int
}

// parseReplayPath parses a request path; ok is false for anything that
// is not one of the URL shapes above.
func parseReplayPath(p string) (req replayReq, ok bool) {
	rest, found := strings.CutPrefix(p, Prefix)
	if !found {
		return req, false
	}
	id, file, found := strings.Cut(rest, "/")
	if !found || !validID(id) {
		return req, false
	}
	req.id = id
	req.view = "0"
	if v, f, found := strings.Cut(file, "/"); found {
		if !validID(v) {
			return req, false
		}
		req.view, file = v, f
	}
	switch file {
	case "index.m3u8":
		req.kind = kindPlaylist
	case "init.mp4":
		req.kind = kindInit
	case "recording.opus":
		req.kind = kindDownload
	default:
		name, found := strings.CutSuffix(file, ".m4s")
		if !found {
			return req, false
		}
		a, b, found := strings.Cut(name, "-")
		if !found {
			return req, false
		}
		first, ok1 := parseCount(a)
		count, ok2 := parseCount(b)
		if !ok1 || !ok2 || first%SegmentPackets != 0 || count < 1 || count > SegmentPackets {
			return req, false
		}
		req.kind, req.first, req.count = kindSegment, first, count
	}
	return req, true
}

// validID accepts [A-Za-z0-9_-]{1,64}, the space id alphabet.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// parseCount parses a canonical decimal below one billion.
func parseCount(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := range len(s) {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
