package httpapi

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/admission"
	"github.com/podium-live/podium/internal/auth"
)

// TestClassifyByVerifiedCredential: only a credential that verifies for the
// space and role of the path lifts a request out of the anonymous class.
func TestClassifyByVerifiedCredential(t *testing.T) {
	signer, _ := auth.NewSigner(bytes.Repeat([]byte{1}, 32), nil)
	otherKey, _ := auth.NewSigner(bytes.Repeat([]byte{2}, 32), nil)
	tickets, _ := admission.NewTickets(bytes.Repeat([]byte{3}, 32), time.Minute, nil)
	a := &API{adm: &Admission{Tickets: tickets, Credentials: signer}}
	host := signer.Sign(auth.Claims{Role: auth.RoleHost, Space: "sp_a"})
	speaker := signer.Sign(auth.Claims{Role: auth.RoleSpeaker, Space: "sp_a", Invite: "in_1"})
	op := signer.Sign(auth.Claims{Role: auth.RoleOperator})
	mod := signer.Sign(auth.Claims{Role: auth.RoleModerator, ID: "mod_1"})
	expired := signer.Sign(auth.Claims{Role: auth.RoleHost, Space: "sp_a", Expires: time.Now().Add(-time.Minute).Unix()})
	forged := otherKey.Sign(auth.Claims{Role: auth.RoleHost, Space: "sp_a"})
	ticket, _, _ := tickets.Issue("sp_a", "")

	anon, ingest, stage := admission.ClassAnonymous, admission.ClassIngest, admission.ClassStageJoin
	for _, c := range []struct {
		name, method, path, bearer, ticket string
		class                              admission.Class
		key                                string
	}{
		{"no credential", "GET", "/api/spaces/sp_a/recording", "", "", anon, ""},
		{"junk bearer", "GET", "/api/spaces/sp_a/recording", "x", "", anon, ""},
		{"forged host", "GET", "/api/spaces/sp_a/recording", forged, "", anon, ""},
		{"expired host", "GET", "/api/spaces/sp_a/recording", expired, "", anon, ""},
		{"host of another space", "GET", "/api/spaces/sp_b/recording", host, "", anon, ""},
		{"host", "GET", "/api/spaces/sp_a/recording", host, "", ingest, ""},
		{"host starts", "POST", "/api/spaces/sp_a/start", host, "", ingest, ""},
		{"speaker on a host route", "POST", "/api/spaces/sp_a/start", speaker, "", anon, ""},
		{"speaker mutes", "POST", "/api/spaces/sp_a/speakers/spk_1/mute", speaker, "", ingest, "speaker:in_1"},
		{"speaker leaves", "DELETE", "/api/spaces/sp_a/whip/spk_1", speaker, "", ingest, "speaker:in_1"},
		{"speaker restarts ICE", "PATCH", "/api/spaces/sp_a/whip/spk_1", speaker, "", ingest, "speaker:in_1"},
		{"speaker of another space mutes", "POST", "/api/spaces/sp_b/speakers/spk_1/mute", speaker, "", anon, ""},
		{"host mutes", "POST", "/api/spaces/sp_a/speakers/spk_1/mute", host, "", ingest, ""},
		{"host restarts ICE", "PATCH", "/api/spaces/sp_a/whip/spk_1", host, "", ingest, ""},
		{"operator rotates", "POST", "/api/tokens/rotate", op, "", ingest, ""},
		{"operator revokes", "DELETE", "/api/tokens/tok_1", op, "", ingest, ""},
		{"notice", "POST", "/api/notices", "", "", admission.ClassChat, ""},
		{"notice with an operator token", "POST", "/api/notices", op, "", admission.ClassChat, ""},
		{"notice read", "GET", "/api/notices/ntc_1", "x", "", anon, ""},
		{"moderator", "GET", "/api/moderation/me", mod, "", ingest, ""},
		{"forged moderator", "GET", "/api/moderation/me", otherKey.Sign(auth.Claims{Role: auth.RoleModerator, ID: "mod_1"}), "", anon, ""},
		{"junk rotates", "POST", "/api/tokens/rotate", "x", "", anon, ""},
		{"forged operator rotates", "POST", "/api/tokens/rotate", otherKey.Sign(auth.Claims{Role: auth.RoleOperator}), "", anon, ""},
		{"host rotates", "POST", "/api/tokens/rotate", host, "", anon, ""},
		{"speaker revokes", "DELETE", "/api/tokens/tok_1", speaker, "", anon, ""},
		{"speaker joins the stage", "POST", "/api/spaces/sp_a/whip", speaker, "", stage, "invite:in_1"},
		{"host joins the stage", "POST", "/api/spaces/sp_a/whip", host, "", stage, "host:sp_a"},
		{"WHIP join with junk", "POST", "/api/spaces/sp_a/whip", "x", "", anon, ""},
		{"WHIP join of another space", "POST", "/api/spaces/sp_b/whip", speaker, "", anon, ""},
		{"operator creates", "POST", "/api/spaces", op, "", ingest, ""},
		{"operator status", "GET", "/api/admin/status", op, "", ingest, ""},
		{"host on admin", "GET", "/api/admin/status", host, "", anon, ""},
		{"join, whatever it carries", "POST", "/api/spaces/sp_a/join", host, "", admission.ClassJoin, ""},
		{"media with a ticket", "GET", "/hls/sp_a/index.m3u8", "", ticket, admission.ClassListener, ""},
		{"media with a ticket of another space", "GET", "/hls/sp_b/index.m3u8", "", ticket, anon, ""},
		{"media with a host token", "GET", "/hls/sp_a/index.m3u8", host, "", anon, ""},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		if c.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+c.bearer)
		}
		if c.ticket != "" {
			r.Header.Set(TicketHeader, c.ticket)
		}
		if class, key := a.Classify(r); class != c.class || key != c.key {
			t.Errorf("%s: class %v key %q, want %v %q", c.name, class, key, c.class, c.key)
		}
	}
}
