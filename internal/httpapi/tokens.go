package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

// Credentials issue and withdraw tokens (the node's signer and operator
// credential file).
type Credentials interface {
	Verify(token string) (auth.Claims, error)
	// Rotate makes a new signing key current (old tokens accepted for
	// grace) and returns the re-issued operator token.
	Rotate(ctx context.Context, grace time.Duration) (string, error)
	// Revoke refuses the token with id from now on.
	Revoke(ctx context.Context, id string) error
	// HostToken issues a space's new host token and revokes the previous.
	HostToken(ctx context.Context, spaceID string) (string, time.Time, error)
	// Preview signs a read-only token for a space's replay.
	Preview(spaceID string, ttl time.Duration) string
}

// DefaultRotationGrace is how long tokens signed with the old key stay
// valid after a rotation unless the request says otherwise.
const DefaultRotationGrace = 24 * time.Hour

// previewTTL is how long a preview link to an unpublished replay works: a
// quarter of an hour to start playing, plus the recording's length, so a
// player started at once reaches the end.
func previewTTL(recording time.Duration) time.Duration { return 15*time.Minute + recording }

// errTokenInURL answers a token sent in the query string where only a
// header is accepted.
var errTokenInURL = newError(http.StatusUnauthorized, "token_in_url",
	"tokens are not accepted in the URL here: send it in the header Authorization: Bearer TOKEN")

// previewFor reports whether r carries a valid preview token for space id,
// in the header or in ?token= (the one credential a URL may carry), and
// returns it.
func (a *API) previewFor(r *http.Request, id string) (string, bool) {
	tok := auth.FromHeader(r.Header.Get("Authorization"))
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	return tok, a.isPreview(tok, id)
}

// isPreview reports whether tok is a valid preview token for space id.
func (a *API) isPreview(tok, id string) bool {
	if tok == "" {
		return false
	}
	c, err := a.opts.Credentials.Verify(tok)
	return err == nil && c.Role == auth.RolePreview && c.Space == id
}

func (a *API) rotateKeys(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	var req struct {
		GraceSeconds *int64 `json:"grace_seconds"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	grace := DefaultRotationGrace
	if req.GraceSeconds != nil {
		if *req.GraceSeconds < 0 || *req.GraceSeconds > int64(auth.MaxLifetime/time.Second) {
			a.fail(w, r, newError(http.StatusBadRequest, "invalid", "grace_seconds must be between 0 and 31622400 (366 days)"))
			return
		}
		grace = time.Duration(*req.GraceSeconds) * time.Second
	}
	tok, err := a.opts.Credentials.Rotate(r.Context(), grace)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"operator_token":          tok,
		"old_keys_accepted_until": time.Now().Add(grace).UTC().Truncate(time.Second),
	})
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) {
	if _, err := a.authorize(r, "", auth.RoleOperator); err != nil {
		a.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		a.fail(w, r, newError(http.StatusBadRequest, "invalid", "a token id has 1 to 64 characters"))
		return
	}
	if err := a.opts.Credentials.Revoke(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// newHostToken gives the space a new host token and link; the previous
// host token stops working at once.
func (a *API) newHostToken(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	tok, exp, err := a.opts.Credentials.HostToken(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"host_token": tok,
		"host_url":   a.studioURL(r, id, tok),
		"expires_at": exp.UTC(),
	})
}

// studioURL is the studio page's link for a host or speaker token. The token
// rides in the fragment (#token=...), which browsers never send: it stays
// out of server and proxy logs and Referer headers. The page reads it from
// location.hash and removes it from the address bar.
func (a *API) studioURL(r *http.Request, spaceID, tok string) string {
	return a.base(r) + "/studio/" + url.PathEscape(spaceID) + "#token=" + url.QueryEscape(tok)
}
