package hls

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Request parsing is the first line of defence: it runs before any lookup,
// allocates nothing, and rejects anything that is not one of the four URL
// shapes of the contract (docs/API.md, "Media (LL-HLS)"):
//
//	/hls/{id}/index.m3u8[?_HLS_msn=N[&_HLS_part=M]][&_HLS_skip=YES|v2]
//	/hls/{id}/init.mp4
//	/hls/{id}/{msn}.m4s
//	/hls/{id}/{msn}.{part}.m4s
//
// each also as /hls/{id}/{view}/…: a view of the space's audio (view "0"
// is the same as no view: the main stream).

// Prefix is the URL path prefix the Server handles.
const Prefix = "/hls/"

type reqKind uint8

const (
	kindPlaylist reqKind = iota + 1
	kindInit
	kindSegment
	kindPart
)

// request is a parsed media request. id aliases the request path.
type request struct {
	kind reqKind
	id   string
	// view is the view segment, "" when absent or "0" (the main stream).
	view string
	// Segment and part requests: the file's numbers. Playlist requests:
	// _HLS_msn and _HLS_part when hasMSN / hasPart.
	msn, part       uint64
	hasMSN, hasPart bool
	skip            bool // _HLS_skip=YES or v2
}

// reqError is a request refused: a status and the JSON body shown to the
// client, {"error": "<message>", "code": "<machine code>"} like the API's
// (docs/API.md). The values are package-level and their bodies prebuilt,
// so returning and writing one allocates nothing.
type reqError struct {
	status int
	code   string
	body   []byte
	clen   []string
}

func newReqError(status int, code, msg string) *reqError {
	b, err := json.Marshal(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{msg, code})
	if err != nil {
		panic(err) // two strings always marshal
	}
	b = append(b, '\n')
	return &reqError{status: status, code: code, body: b, clen: []string{strconv.Itoa(len(b))}}
}

func (e *reqError) Error() string { return string(e.body) }

var (
	errNotFound        = newReqError(404, "not_found", "not found")
	errBadMSN          = newReqError(400, "invalid", "bad _HLS_msn: want a decimal media sequence number")
	errBadPart         = newReqError(400, "invalid", "bad _HLS_part: want a decimal part index")
	errBadSkip         = newReqError(400, "invalid", "bad _HLS_skip: want YES or v2")
	errDuplicate       = newReqError(400, "invalid", "repeated _HLS_ query parameter")
	errPartWithoutMSN  = newReqError(400, "invalid", "_HLS_part requires _HLS_msn")
	errTooFar          = newReqError(400, "too_far", "_HLS_msn/_HLS_part is too far in the future")
	errPartTooFar      = newReqError(400, "too_far", "segment or part is too far in the future")
	errMethod          = newReqError(405, "method_not_allowed", "method not allowed")
	errUnavailable     = newReqError(503, "unavailable", "not produced in time, retry")
	errSpaceNotStarted = newReqError(404, "not_live", "no live stream for this space")
	// Internal outcomes, never written: the client went away; the stream
	// was replaced or removed while the request waited.
	errGone  = &reqError{}
	errMoved = &reqError{}
)

// maxIDLen bounds space ids; ids look like "sp_k3j4h5".
const maxIDLen = 64

// maxDigits bounds every number in a request, keeping arithmetic on them
// far from overflow.
const maxDigits = 15

// parseRequest parses a request path (as in r.URL.Path) and raw query.
func parseRequest(path, rawQuery string) (request, *reqError) {
	var r request
	rest, ok := strings.CutPrefix(path, Prefix)
	if !ok {
		return r, errNotFound
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return r, errNotFound
	}
	r.id, rest = rest[:slash], rest[slash+1:]
	if !validID(r.id) {
		return r, errNotFound
	}
	if slash = strings.IndexByte(rest, '/'); slash >= 0 {
		r.view, rest = rest[:slash], rest[slash+1:]
		if !validID(r.view) {
			return r, errNotFound
		}
		if r.view == "0" {
			r.view = ""
		}
	}
	switch rest {
	case "index.m3u8":
		r.kind = kindPlaylist
		if err := parseQuery(&r, rawQuery); err != nil {
			return r, err
		}
		return r, nil
	case "init.mp4":
		r.kind = kindInit
		return r, nil
	}
	name, ok := strings.CutSuffix(rest, ".m4s")
	if !ok {
		return r, errNotFound
	}
	first, second, two := strings.Cut(name, ".")
	if r.msn, ok = parseFileNumber(first); !ok {
		return r, errNotFound
	}
	if !two {
		r.kind = kindSegment
		return r, nil
	}
	if r.part, ok = parseFileNumber(second); !ok {
		return r, errNotFound
	}
	r.kind = kindPart
	return r, nil
}

// parseQuery reads the _HLS_ delivery directives. Other parameters do not
// change the response and are ignored.
func parseQuery(r *request, q string) *reqError {
	var hasSkip bool
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		key, val, _ := strings.Cut(kv, "=")
		var ok bool
		switch key {
		case "_HLS_msn":
			if r.hasMSN {
				return errDuplicate
			}
			if r.msn, ok = parseNumber(val); !ok {
				return errBadMSN
			}
			r.hasMSN = true
		case "_HLS_part":
			if r.hasPart {
				return errDuplicate
			}
			if r.part, ok = parseNumber(val); !ok {
				return errBadPart
			}
			r.hasPart = true
		case "_HLS_skip":
			if hasSkip {
				return errDuplicate
			}
			if val != "YES" && val != "v2" {
				return errBadSkip
			}
			hasSkip, r.skip = true, true
		}
	}
	if r.hasPart && !r.hasMSN {
		return errPartWithoutMSN
	}
	return nil
}

// parseNumber parses 1 to maxDigits decimal digits.
func parseNumber(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > maxDigits {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// parseFileNumber is parseNumber in canonical form (no leading zeros), so
// each file has exactly one URL and one cache entry.
func parseFileNumber(s string) (uint64, bool) {
	if len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	return parseNumber(s)
}

// validID reports whether id is a plausible space id: 1 to maxIDLen of
// [A-Za-z0-9_-].
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
