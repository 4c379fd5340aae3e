package app

import (
	"net/http"
	"testing"
)

type moderatorDoc struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Revoked *string `json:"revoked"`
	Token   string  `json:"token"`
}

// TestModerators: the operator registers a moderator, whose token (id =
// moderator id) moderates and nothing else; revoking the moderator
// refuses the token at once and after a restart.
func TestModerators(t *testing.T) {
	cfg := testConfig(t)
	n, stop := runStoppable(t, cfg)
	op := n.operator()

	for _, body := range []any{map[string]any{"name": ""}, map[string]any{"name": "  "}, map[string]any{"nom": "x"}} {
		if st := n.api(t, "POST", "/api/moderators", op, body, nil); st != http.StatusBadRequest {
			t.Errorf("POST /api/moderators %v: %d, want 400", body, st)
		}
	}
	if st := n.api(t, "POST", "/api/moderators", "", map[string]any{"name": "Ada"}, nil); st != http.StatusUnauthorized {
		t.Errorf("anonymous add: %d, want 401", st)
	}
	var m moderatorDoc
	if st := n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Ada"}, &m); st != http.StatusCreated {
		t.Fatalf("add: %d", st)
	}
	if m.ID == "" || m.Token == "" || m.Name != "Ada" || m.Revoked != nil {
		t.Fatalf("add answered %+v", m)
	}
	var other moderatorDoc
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Grace"}, &other)

	var me moderatorDoc
	if st := n.api(t, "GET", "/api/moderation/me", m.Token, nil, &me); st != http.StatusOK || me.ID != m.ID {
		t.Fatalf("me: %d %+v, want 200 %s", st, me, m.ID)
	}
	// The operator registers moderators; it does not decide cases.
	if st := n.api(t, "GET", "/api/moderation/me", op, nil, nil); st != http.StatusForbidden {
		t.Errorf("operator on a moderator route: %d, want 403", st)
	}
	// A moderator is not an operator, nor a host.
	if st := n.api(t, "GET", "/api/moderators", m.Token, nil, nil); st != http.StatusForbidden {
		t.Errorf("moderator on an operator route: %d, want 403", st)
	}
	if st := n.api(t, "POST", "/api/spaces", m.Token, map[string]any{"title": "x"}, nil); st != http.StatusForbidden {
		t.Errorf("moderator creating a space: %d, want 403", st)
	}
	// Header only: never from the URL.
	if st, body, _ := n.raw(t, "GET", "/api/moderation/me?token="+m.Token, "", "", nil); st != http.StatusUnauthorized {
		t.Errorf("token in URL: %d %s, want 401", st, body)
	}

	var list struct {
		Moderators []moderatorDoc `json:"moderators"`
	}
	if st := n.api(t, "GET", "/api/moderators", op, nil, &list); st != http.StatusOK || len(list.Moderators) != 2 {
		t.Fatalf("list: %d %+v", st, list)
	}
	for _, x := range list.Moderators {
		if x.Token != "" {
			t.Errorf("list shows a token for %s", x.ID)
		}
	}

	if st := n.api(t, "DELETE", "/api/moderators/mod_nobody", op, nil, nil); st != http.StatusNotFound {
		t.Errorf("revoke unknown: %d, want 404", st)
	}
	var rev moderatorDoc
	if st := n.api(t, "DELETE", "/api/moderators/"+m.ID, op, nil, &rev); st != http.StatusOK || rev.Revoked == nil {
		t.Fatalf("revoke: %d %+v", st, rev)
	}
	if st := n.api(t, "GET", "/api/moderation/me", m.Token, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("revoked moderator: %d, want 401", st)
	}
	if st := n.api(t, "GET", "/api/moderation/me", other.Token, nil, nil); st != http.StatusOK {
		t.Errorf("the other moderator after a revocation: %d, want 200", st)
	}

	stop()
	n2, _ := runStoppable(t, cfg)
	if st := n2.api(t, "GET", "/api/moderation/me", m.Token, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("revoked moderator after restart: %d, want 401", st)
	}
	if st := n2.api(t, "GET", "/api/moderation/me", other.Token, nil, nil); st != http.StatusOK {
		t.Errorf("active moderator after restart: %d, want 200", st)
	}
	var list2 struct {
		Moderators []moderatorDoc `json:"moderators"`
	}
	n2.api(t, "GET", "/api/moderators", n2.operator(), nil, &list2)
	if len(list2.Moderators) != 2 {
		t.Fatalf("list after restart: %+v", list2.Moderators)
	}
	for _, x := range list2.Moderators {
		if (x.ID == m.ID) != (x.Revoked != nil) {
			t.Errorf("after restart %s (%s) revoked = %v", x.ID, x.Name, x.Revoked != nil)
		}
	}
}
