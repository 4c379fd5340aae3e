package httpapi

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

var (
	errOffset      = errors.New(`malformed time: use 1h02m10s, 62m, 90s, 90 or 1:02:10`)
	errOffsetRange = errors.New(`time is too far: at most 100000h`)
)

// maxOffset bounds a moment in a recording; every form is checked against
// it before multiplying, so no input overflows time.Duration.
const maxOffset = 100000 * time.Hour

// scaled returns n units, or errOffsetRange when that passes maxOffset.
func scaled(n int, unit time.Duration) (time.Duration, error) {
	if n < 0 {
		return 0, errOffset
	}
	if int64(n) > int64(maxOffset/unit) {
		return 0, errOffsetRange
	}
	return time.Duration(n) * unit, nil
}

// parseOffset reads a moment in a recording as written in links: "1h02m10s",
// "62m", "90s", "90" (seconds) or "1:02:10" / "2:10". It is never negative
// and never more than maxOffset.
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
		unit := time.Second
		for i := len(parts) - 1; i >= 0; i-- {
			p := parts[i]
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || len(p) == 0 || (i > 0 && (n > 59 || len(p) != 2)) {
				return 0, errOffset
			}
			v, err := scaled(n, unit)
			if err != nil {
				return 0, err
			}
			d += v
			unit *= 60
		}
		if d > maxOffset {
			return 0, errOffsetRange
		}
		return d, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return scaled(n, time.Second)
	} else if errors.Is(err, strconv.ErrRange) {
		return 0, errOffsetRange
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
		v, err := scaled(n, unit.d)
		if err != nil {
			return 0, err
		}
		d += v
		rest = rest[i+1:]
		seen += unit.suffix
	}
	if rest != "" || seen == "" {
		return 0, errOffset
	}
	if d > maxOffset {
		return 0, errOffsetRange
	}
	return d, nil
}
