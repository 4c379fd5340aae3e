package httpapi

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

var errOffset = errors.New(`malformed time: use 1h02m10s, 62m, 90s, 90 or 1:02:10`)

// parseOffset reads a moment in a recording as written in links: "1h02m10s",
// "62m", "90s", "90" (seconds) or "1:02:10" / "2:10".
func parseOffset(s string) (time.Duration, error) {
	if s == "" || len(s) > 16 {
		return 0, errOffset
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, errOffset
		}
		var d time.Duration
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || len(p) == 0 || (i > 0 && (n > 59 || len(p) != 2)) {
				return 0, errOffset
			}
			d = d*60 + time.Duration(n)
		}
		return d * time.Second, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, errOffset
		}
		return time.Duration(n) * time.Second, nil
	}
	var d time.Duration
	rest := s
	seen := ""
	for _, unit := range []struct {
		suffix string
		d      time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		i := strings.Index(rest, unit.suffix)
		if i < 0 {
			continue
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil || n < 0 || i == 0 || i > 6 {
			return 0, errOffset
		}
		d += time.Duration(n) * unit.d
		rest = rest[i+1:]
		seen += unit.suffix
	}
	if rest != "" || seen == "" {
		return 0, errOffset
	}
	return d, nil
}
