package httpapi

import (
	"testing"
	"time"
)

func TestParseOffset(t *testing.T) {
	good := map[string]time.Duration{
		"1h02m10s": time.Hour + 2*time.Minute + 10*time.Second,
		"62m":      62 * time.Minute,
		"90s":      90 * time.Second,
		"90":       90 * time.Second,
		"1:02:10":  time.Hour + 2*time.Minute + 10*time.Second,
		"2:10":     130 * time.Second,
		"1h":       time.Hour,
		"4m5s":     245 * time.Second,
		"0":        0,
	}
	for in, want := range good {
		if got, err := parseOffset(in); err != nil || got != want {
			t.Errorf("parseOffset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "-5", "1x", "h", "1:2", "1:60:00", "5s3m", "1h-2m", "::", "1:02:10:00", "99999999999999999",
		// Each overflowed time.Duration into a negative offset.
		"9223372037", "2562048h", "153722868m", "2562048:00:00", "9223372036854775807"} {
		if got, err := parseOffset(bad); err == nil {
			t.Errorf("parseOffset(%q) = %v, want error", bad, got)
		}
	}
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"1h02m10s", "90", "1:02:10", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := parseOffset(s); err == nil && (d < 0 || d > maxOffset) {
			t.Fatalf("parseOffset(%q) = %v, outside 0..%v", s, d, maxOffset)
		}
	})
}
