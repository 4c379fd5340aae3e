package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/live"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/space"
)

// apiError is an error with the status and public message chosen for it.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func newError(status int, code, msg string) error { return &apiError{status, code, msg} }

// statusTable maps domain errors to HTTP statuses and machine codes. The
// public message is the error's own text for these: they carry no
// internals. Anything not listed is a 500 with a generic message, and the
// real error is logged.
var statusTable = []struct {
	err    error
	status int
	code   string
}{
	{space.ErrNotFound, http.StatusNotFound, "not_found"},
	{ingest.ErrNoSpeaker, http.StatusNotFound, "no_speaker"},
	{space.ErrInvalid, http.StatusBadRequest, "invalid"},
	{ingest.ErrBadOffer, http.StatusBadRequest, "bad_offer"},
	{auth.ErrMissing, http.StatusUnauthorized, "token_missing"},
	{auth.ErrMalformed, http.StatusUnauthorized, "token_malformed"},
	{auth.ErrSignature, http.StatusUnauthorized, "token_invalid"},
	{auth.ErrExpired, http.StatusUnauthorized, "token_expired"},
	{auth.ErrRetired, http.StatusUnauthorized, "token_retired"},
	{auth.ErrRevoked, http.StatusUnauthorized, "token_revoked"},
	{live.ErrForbidden, http.StatusForbidden, "forbidden"},
	{ingest.ErrBarred, http.StatusForbidden, "barred"},
	{space.ErrAlreadyLive, http.StatusConflict, "already_live"},
	{space.ErrEnded, http.StatusConflict, "ended"},
	{ingest.ErrStageFull, http.StatusConflict, "stage_full"},
	{space.ErrNotScheduled, http.StatusConflict, "not_scheduled"},
	{space.ErrRecordingDeleted, http.StatusGone, "recording_deleted"},
	{live.ErrStillLive, http.StatusConflict, "still_live"},
	{ingest.ErrClosed, http.StatusServiceUnavailable, "shutting_down"},
	{moderation.ErrNotFound, http.StatusNotFound, "not_found"},
	{moderation.ErrInvalid, http.StatusBadRequest, "invalid"},
	{moderation.ErrConflict, http.StatusConflict, "conflict"},
}

// classify returns the status, code and public message for err.
func classify(err error) (int, string, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code, ae.msg
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "too_large", "request body too large"
	}
	for _, row := range statusTable {
		if errors.Is(err, row.err) {
			return row.status, row.code, err.Error()
		}
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

// jsonError turns an encoding/json error from decoding into v into a 400
// whose message names the field and the problem in plain words: the
// decoder's own texts name Go types ("cannot unmarshal number into Go
// struct field .ttl_seconds of type int64").
func jsonError(err error, v any) error {
	bad := func(msg string) error { return newError(http.StatusBadRequest, "bad_json", msg) }
	var (
		syn *json.SyntaxError
		ute *json.UnmarshalTypeError
		pe  *time.ParseError
	)
	switch {
	case errors.Is(err, io.EOF):
		return bad("the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("malformed JSON body: it ends too early")
	case errors.As(err, &syn):
		return bad(fmt.Sprintf("malformed JSON body at byte %d: %s", syn.Offset, syn.Error()))
	case errors.As(err, &ute):
		if ute.Field == "" {
			return bad("the body must be a JSON object")
		}
		return bad(fmt.Sprintf("%s must be %s", ute.Field, jsonKind(ute.Type.Kind(), ute.Value)))
	case errors.As(err, &pe) || strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		return bad(timeFields(v) + " must be a time as text in RFC 3339 form, e.g. \"2026-12-01T18:00:00Z\"")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return bad("unknown field " + f)
	}
	return bad("malformed JSON body")
}

// jsonKind says in words what a JSON value of Go kind k looks like; got is
// the decoder's description of what came ("number 1e30", "string").
func jsonKind(k reflect.Kind, got string) string {
	switch k {
	case reflect.String:
		return "text (a JSON string)"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.HasPrefix(got, "number") {
			return "a whole number within range"
		}
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, not negative"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "an object"
}

// timeFields names the time fields of the struct v points to (the
// decoder does not say which one failed), e.g. "scheduled_start".
func timeFields(v any) string {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	if t != nil && t.Kind() == reflect.Struct {
		tt := reflect.TypeFor[time.Time]()
		for i := range t.NumField() {
			f := t.Field(i)
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft != tt {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "a time field"
	}
	return strings.Join(names, " or ")
}
