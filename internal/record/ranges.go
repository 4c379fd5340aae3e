package record

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRanges bounds the ranges of one request; more are answered with
// the whole object (RFC 9110 §14.2 lets a server ignore Range).
const maxRanges = 16

// byteRange is one satisfiable range: bytes first..last, inclusive.
type byteRange struct{ first, last int64 }

// satisfiable reads a Range header (RFC 9110 §14.1.2) for an object of
// size bytes. It returns the ranges within the object; ignore when the
// header is to be ignored (absent, another unit, too many ranges, not
// even a byte-ranges-specifier: the whole object is sent); and
// unsatisfiable when every range is invalid ("5-2") or lies outside the
// object ("-0", a first byte past the end): 416. net/http's ServeContent
// answers "bytes=-0" with a 206 and the Content-Range "bytes 100-99/100",
// so ranges are checked here and handed on normalized.
func satisfiable(header string, size int64) (ranges []byteRange, ignore, unsatisfiable bool) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if header == "" || !ok {
		return nil, true, false
	}
	parts := strings.Split(spec, ",")
	if len(parts) > maxRanges {
		return nil, true, false
	}
	specs := 0
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue // RFC 9110 allows empty list elements
		}
		specs++
		a, b, ok := strings.Cut(p, "-")
		if !ok {
			return nil, true, false
		}
		if a == "" { // suffix: the last b bytes
			n, ok := parseDigits(b)
			if !ok {
				return nil, true, false
			}
			if n == 0 || size == 0 {
				continue // suffix-length 0 selects nothing
			}
			ranges = append(ranges, byteRange{max(size-n, 0), size - 1})
			continue
		}
		first, ok := parseDigits(a)
		if !ok {
			return nil, true, false
		}
		last := size - 1
		if b != "" {
			if last, ok = parseDigits(b); !ok {
				return nil, true, false
			}
			if last < first {
				continue // invalid range-spec
			}
		}
		if first >= size {
			continue
		}
		ranges = append(ranges, byteRange{first, min(last, size-1)})
	}
	if specs == 0 {
		return nil, true, false // "bytes=" or "bytes=,": no range at all
	}
	if len(ranges) == 0 {
		return nil, false, true
	}
	return ranges, false, false
}

// parseDigits parses 1*DIGIT that fits an int64.
func parseDigits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// formatRanges writes ranges back as a Range header.
func formatRanges(rs []byteRange) string {
	b := []byte("bytes=")
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, r.first, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, r.last, 10)
	}
	return string(b)
}

// rangeApplies reports whether the request's Range is to be honoured
// given its If-Range (RFC 9110 §13.1.5): absent, or naming the current
// strong ETag or exactly the modification time.
func rangeApplies(r *http.Request, etag string, modtime time.Time) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) {
		return ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Equal(modtime.Truncate(time.Second))
}
