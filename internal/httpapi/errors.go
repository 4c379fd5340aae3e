package httpapi

import (
	"errors"
	"net/http"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/ingest"
	"github.com/podium-live/podium/internal/live"
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
