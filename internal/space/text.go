package space

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// checkText refuses what would make field's text lie about itself when
// shown: invalid UTF-8, control characters (C0, DEL, C1; a multiline field
// may hold newlines and tabs), line and paragraph separators outside
// multiline text, and the bidirectional formatting characters that
// reorder what follows them (U+202E makes "exe.txt" read "txt.exe").
func checkText(field, s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8 text", ErrInvalid, field)
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t' || r == '\r'):
		case unicode.IsControl(r):
			return fmt.Errorf("%w: %s contains the control character %U", ErrInvalid, field, r)
		case isBidiControl(r):
			return fmt.Errorf("%w: %s contains the bidirectional formatting character %U", ErrInvalid, field, r)
		case !multiline && (r == '\u2028' || r == '\u2029'):
			return fmt.Errorf("%w: %s contains the line separator %U", ErrInvalid, field, r)
		}
	}
	return nil
}

// isBidiControl reports the explicit directional formatting characters
// of Unicode's bidirectional algorithm (UAX #9): marks, embeddings,
// overrides and isolates.
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// MaxInviteTTL is the longest an invite may live.
const MaxInviteTTL = 365 * 24 * time.Hour

// InviteTTL converts a requested invite lifetime in seconds (the API's
// ttl_seconds; 0 = the node's default) to a duration, refusing negative
// values and anything over MaxInviteTTL before converting, so no value
// wraps around.
func InviteTTL(seconds int64) (time.Duration, error) {
	if seconds < 0 || seconds > int64(MaxInviteTTL/time.Second) {
		return 0, fmt.Errorf("%w: ttl_seconds must be between 0 and %d (a year)", ErrInvalid, int64(MaxInviteTTL/time.Second))
	}
	return time.Duration(seconds) * time.Second, nil
}
