package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/podium-live/podium/internal/moderation"
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

// clientFrom is an HTTP client whose connections come from loopback
// address src (not yet seen by the rate limits).
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// goodNotice is a valid notice about space id; tests change one field.
func goodNotice(id string) map[string]any {
	return map[string]any{
		"space":       id,
		"items":       []any{map[string]any{"kind": "range", "from_ms": 1000, "to_ms": 5000}, map[string]any{"kind": "space"}},
		"category":    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		"keywords":    []string{"KEYWORD_HATE_SPEECH"},
		"explanation": "Incitement to violence at 0:01.",
		"territories": []string{"DE", "fr"},
		"name":        "Nora Notifier",
		"email":       "nora@example.org",
		"bona_fide":   true,
	}
}

type noticeDoc struct {
	ID          string   `json:"id"`
	Space       string   `json:"space"`
	State       string   `json:"state"`
	Territories []string `json:"territories"`
	Name        string   `json:"name"`
	Email       string   `json:"email"`
	Explanation string   `json:"explanation"`
	Items       []struct {
		Kind   string `json:"kind"`
		FromMS *int64 `json:"from_ms"`
		ToMS   *int64 `json:"to_ms"`
	} `json:"items"`
}

// TestNoticeSubmitted: a logged-out notice is stored (it survives a
// restart) and shown to the holder of its secret only; every bad field is
// a 400 naming it and stores nothing.
func TestNoticeSubmitted(t *testing.T) {
	cfg := testConfig(t)
	n, stop := runStoppable(t, cfg)
	sp := n.createSpace(t).Space.ID

	var got struct {
		ID        string `json:"id"`
		Secret    string `json:"secret"`
		StatusURL string `json:"status_url"`
	}
	if st := n.api(t, "POST", "/api/notices", "", goodNotice(sp), &got); st != http.StatusCreated {
		t.Fatalf("POST /api/notices: %d", st)
	}
	if got.ID == "" || len(got.Secret) < 24 || !strings.Contains(got.StatusURL, "/notices/"+got.ID+"#secret=") {
		t.Fatalf("answer %+v", got)
	}

	type badCase struct {
		name  string
		edit  func(m map[string]any)
		want  int
		field string
	}
	cases := []badCase{
		{"no space", func(m map[string]any) { delete(m, "space") }, 400, "space"},
		{"unknown space", func(m map[string]any) { m["space"] = "sp_nope" }, 404, ""},
		{"no items", func(m map[string]any) { m["items"] = []any{} }, 400, "items"},
		{"unknown kind", func(m map[string]any) { m["items"] = []any{map[string]any{"kind": "video"}} }, 400, "items[0].kind"},
		{"range without to", func(m map[string]any) { m["items"] = []any{map[string]any{"kind": "range", "from_ms": 5}} }, 400, "items[0].to_ms"},
		{"range to<=from", func(m map[string]any) {
			m["items"] = []any{map[string]any{"kind": "space"}, map[string]any{"kind": "range", "from_ms": 5000, "to_ms": 5000}}
		}, 400, "items[1].to_ms"},
		{"negative from", func(m map[string]any) { m["items"] = []any{map[string]any{"kind": "range", "from_ms": -1, "to_ms": 5}} }, 400, "items[0].from_ms"},
		{"speaker without name", func(m map[string]any) { m["items"] = []any{map[string]any{"kind": "speaker"}} }, 400, "items[0].speaker"},
		{"no category", func(m map[string]any) { delete(m, "category") }, 400, "category"},
		{"unknown category", func(m map[string]any) { m["category"] = "STATEMENT_CATEGORY_RUDENESS" }, 400, "category"},
		{"unknown keyword", func(m map[string]any) { m["keywords"] = []string{"KEYWORD_NOPE"} }, 400, "keywords[0]"},
		{"no explanation", func(m map[string]any) { m["explanation"] = "  " }, 400, "explanation"},
		{"no territories", func(m map[string]any) { delete(m, "territories") }, 400, "territories"},
		{"unknown territory", func(m map[string]any) { m["territories"] = []string{"DE", "XX"} }, 400, "territories[1]"},
		{"not bona fide", func(m map[string]any) { m["bona_fide"] = false }, 400, "bona_fide"},
		{"bad email", func(m map[string]any) { m["email"] = "nora at example" }, 400, "email"},
		{"unknown field", func(m map[string]any) { m["colour"] = "red" }, 400, "colour"},
		{"id set", func(m map[string]any) { m["id"] = "ntc_mine" }, 400, "id"},
	}
	many := make([]any, 21)
	for i := range many {
		many[i] = map[string]any{"kind": "space"}
	}
	cases = append(cases, badCase{"21 items", func(m map[string]any) { m["items"] = many }, 400, "items"})
	for i, c := range cases {
		m := goodNotice(sp)
		c.edit(m)
		b, _ := json.Marshal(m)
		// Each from an address of its own: notices are rate limited.
		cl := clientFrom(fmt.Sprintf("127.0.%d.1", 40+i))
		st, body, _ := n.rawVia(t, cl, "POST", "/api/notices", "", "application/json", b)
		cl.CloseIdleConnections()
		if st != c.want || !strings.Contains(body, c.field) || !strings.Contains(body, `"code"`) {
			t.Errorf("%s: %d %s, want %d naming %q", c.name, st, body, c.want, c.field)
		}
	}
	big := goodNotice(sp)
	big["explanation"] = strings.Repeat("x", 70<<10)
	b, _ := json.Marshal(big)
	cl := clientFrom("127.0.90.1")
	defer cl.CloseIdleConnections()
	if st, body, _ := n.rawVia(t, cl, "POST", "/api/notices", "", "application/json", b); st != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB body: %d %s, want 413", st, body)
	}

	// Child sexual abuse material: no name or email needed, none kept.
	csam := goodNotice(sp)
	csam["category"] = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
	csam["keywords"] = []string{"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"}
	var anon struct{ ID, Secret string }
	if st := n.api(t, "POST", "/api/notices", "", csam, &anon); st != http.StatusCreated {
		t.Fatalf("CSAM notice: %d", st)
	}

	stop()
	n2, _ := runStoppable(t, cfg)
	var doc noticeDoc
	if st := n2.api(t, "GET", "/api/notices/"+got.ID, got.Secret, nil, &doc); st != http.StatusOK {
		t.Fatalf("GET notice after restart: %d", st)
	}
	if doc.ID != got.ID || doc.Space != sp || doc.State != "open" || doc.Name != "Nora Notifier" ||
		len(doc.Territories) != 2 || doc.Territories[1] != "FR" || len(doc.Items) != 2 || *doc.Items[0].ToMS != 5000 {
		t.Errorf("notice read back: %+v", doc)
	}
	if st := n2.api(t, "GET", "/api/notices/"+got.ID, "wrong-secret", nil, nil); st != http.StatusNotFound {
		t.Errorf("wrong secret: %d, want 404", st)
	}
	if st := n2.api(t, "GET", "/api/notices/"+got.ID, anon.Secret, nil, nil); st != http.StatusNotFound {
		t.Errorf("another notice's secret: %d, want 404", st)
	}
	if st := n2.api(t, "GET", "/api/notices/"+got.ID, "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("no secret: %d, want 401", st)
	}
	if st, _, _ := n2.raw(t, "GET", "/api/notices/"+got.ID+"?secret="+got.Secret, "", "", nil); st != http.StatusUnauthorized {
		t.Errorf("secret in URL: %d, want 401", st)
	}
	var a noticeDoc
	if st := n2.api(t, "GET", "/api/notices/"+anon.ID, anon.Secret, nil, &a); st != http.StatusOK || a.Name != "" || a.Email != "" {
		t.Errorf("CSAM notice: %d name %q email %q, want none kept", st, a.Name, a.Email)
	}
}

// TestNoticeFloodLimited: notices from one address are limited (429)
// while another address still gets through.
func TestNoticeFloodLimited(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t).Space.ID
	b, _ := json.Marshal(goodNotice(sp))
	from := clientFrom
	flood := from("127.0.31.1")
	defer flood.CloseIdleConnections()
	limited := 0
	for range 40 {
		if st, _, _ := n.rawVia(t, flood, "POST", "/api/notices", "", "application/json", b); st == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("40 notices from one address at once: none limited")
	}
	other := from("127.0.32.1")
	defer other.CloseIdleConnections()
	if st, body, _ := n.rawVia(t, other, "POST", "/api/notices", "", "application/json", b); st != http.StatusCreated {
		t.Errorf("a notice from another network during the flood: %d %s, want 201", st, body)
	}
}

// TestFlaggerNoticeTrustedLane: a trusted flagger's notice goes to the
// trusted lane with source_type SOURCE_TRUSTED_FLAGGER; anyone else's to
// the notices lane; another role's credential on a notice is refused, and
// so is a withdrawn flagger's.
func TestFlaggerNoticeTrustedLane(t *testing.T) {
	n := startNode(t)
	op := n.operator()
	sp := n.createSpace(t).Space.ID
	var f moderatorDoc
	if st := n.api(t, "POST", "/api/flaggers", op, map[string]any{"name": "Hotline e.V."}, &f); st != http.StatusCreated || !strings.HasPrefix(f.ID, "flg_") || f.Token == "" {
		t.Fatalf("add flagger: %d %+v", st, f)
	}
	var list map[string][]moderatorDoc
	if st := n.api(t, "GET", "/api/flaggers", op, nil, &list); st != http.StatusOK || len(list["flaggers"]) != 1 {
		t.Fatalf("list flaggers: %d %+v", st, list)
	}
	var mods map[string][]moderatorDoc
	if n.api(t, "GET", "/api/moderators", op, nil, &mods); len(mods["moderators"]) != 0 {
		t.Errorf("a flagger listed as a moderator: %+v", mods)
	}
	post := func(src, token string) (int, string, string) {
		cl := clientFrom(src)
		defer cl.CloseIdleConnections()
		b, _ := json.Marshal(goodNotice(sp))
		st, body, _ := n.rawVia(t, cl, "POST", "/api/notices", token, "application/json", b)
		var got struct{ ID, Secret string }
		json.Unmarshal([]byte(body), &got)
		return st, got.ID, got.Secret
	}
	lane := func(id, secret string) (string, string, string) {
		var d struct {
			Lane       string `json:"lane"`
			Flagger    string `json:"flagger"`
			SourceType string `json:"source_type"`
		}
		if st := n.api(t, "GET", "/api/notices/"+id, secret, nil, &d); st != http.StatusOK {
			t.Fatalf("GET notice: %d", st)
		}
		return d.Lane, d.Flagger, d.SourceType
	}
	st, id, secret := post("127.0.60.1", f.Token)
	if st != http.StatusCreated {
		t.Fatalf("flagger's notice: %d", st)
	}
	if l, who, src := lane(id, secret); l != "trusted" || who != f.ID || src != "SOURCE_TRUSTED_FLAGGER" {
		t.Errorf("flagger's notice: lane %q flagger %q source %q", l, who, src)
	}
	st, id, secret = post("127.0.61.1", "")
	if st != http.StatusCreated {
		t.Fatalf("anonymous notice: %d", st)
	}
	if l, who, src := lane(id, secret); l != "notices" || who != "" || src != "SOURCE_ARTICLE_16" {
		t.Errorf("anonymous notice: lane %q flagger %q source %q", l, who, src)
	}
	var m moderatorDoc
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Ada"}, &m)
	for name, tok := range map[string]string{"operator": op, "moderator": m.Token} {
		if st, _, _ := post("127.0.62.1", tok); st != http.StatusForbidden {
			t.Errorf("%s's credential on a notice: %d, want 403", name, st)
		}
	}
	if st := n.api(t, "GET", "/api/moderation/me", f.Token, nil, nil); st != http.StatusForbidden {
		t.Errorf("flagger on a moderator route: %d, want 403", st)
	}
	if st := n.api(t, "DELETE", "/api/flaggers/"+f.ID, op, nil, nil); st != http.StatusOK {
		t.Fatalf("revoke flagger: %d", st)
	}
	if st, _, _ := post("127.0.63.1", f.Token); st != http.StatusUnauthorized {
		t.Errorf("withdrawn flagger's notice: %d, want 401", st)
	}
}

type caseDoc struct {
	ID       string  `json:"id"`
	Lane     string  `json:"lane"`
	State    string  `json:"state"`
	Space    string  `json:"space"`
	Deadline string  `json:"deadline"`
	Assignee *string `json:"assignee"`
	Notice   struct {
		Explanation string `json:"explanation"`
	} `json:"notice"`
}

// TestCases: each notice opens a case in its lane; moderators list them
// by lane and state, read one, and assign it; nobody else may.
func TestCases(t *testing.T) {
	n := startNode(t)
	op := n.operator()
	sp := n.createSpace(t).Space.ID
	var ada, grace, f moderatorDoc
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Ada"}, &ada)
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Grace"}, &grace)
	n.api(t, "POST", "/api/flaggers", op, map[string]any{"name": "Hotline"}, &f)
	post := func(src, token string) string {
		cl := clientFrom(src)
		defer cl.CloseIdleConnections()
		b, _ := json.Marshal(goodNotice(sp))
		st, body, _ := n.rawVia(t, cl, "POST", "/api/notices", token, "application/json", b)
		if st != http.StatusCreated {
			t.Fatalf("notice: %d %s", st, body)
		}
		var got struct{ ID string }
		json.Unmarshal([]byte(body), &got)
		return got.ID
	}
	plain, trusted := post("127.0.70.1", ""), post("127.0.71.1", f.Token)

	var all struct{ Cases []caseDoc }
	if st := n.api(t, "GET", "/api/moderation/cases", ada.Token, nil, &all); st != http.StatusOK || len(all.Cases) != 2 {
		t.Fatalf("cases: %d %+v", st, all)
	}
	var tl struct{ Cases []caseDoc }
	n.api(t, "GET", "/api/moderation/cases?lane=trusted&state=open", ada.Token, nil, &tl)
	if len(tl.Cases) != 1 || tl.Cases[0].ID != trusted || tl.Cases[0].Lane != "trusted" || tl.Cases[0].State != "open" || tl.Cases[0].Space != sp {
		t.Errorf("trusted lane: %+v", tl.Cases)
	}
	var nl struct{ Cases []caseDoc }
	n.api(t, "GET", "/api/moderation/cases?lane=notices", ada.Token, nil, &nl)
	if len(nl.Cases) != 1 || nl.Cases[0].ID != plain {
		t.Errorf("notices lane: %+v", nl.Cases)
	}
	if st, body, _ := n.raw(t, "GET", "/api/moderation/cases?lane=fast", ada.Token, "", nil); st != http.StatusBadRequest || !strings.Contains(body, "lane") {
		t.Errorf("unknown lane: %d %s", st, body)
	}
	for name, tok := range map[string]string{"operator": op, "flagger": f.Token, "anonymous": ""} {
		if st := n.api(t, "GET", "/api/moderation/cases", tok, nil, nil); st != http.StatusForbidden && st != http.StatusUnauthorized {
			t.Errorf("%s lists cases: %d, want 401/403", name, st)
		}
	}

	var c caseDoc
	if st := n.api(t, "GET", "/api/moderation/cases/"+plain, grace.Token, nil, &c); st != http.StatusOK || c.Assignee != nil || c.Notice.Explanation == "" || c.Deadline == "" {
		t.Fatalf("case: %d %+v", st, c)
	}
	if st := n.api(t, "GET", "/api/moderation/cases/ntc_nope", grace.Token, nil, nil); st != http.StatusNotFound {
		t.Errorf("unknown case: %d, want 404", st)
	}
	if st := n.api(t, "POST", "/api/moderation/cases/"+plain+"/assign", ada.Token, nil, &c); st != http.StatusOK || c.Assignee == nil || *c.Assignee != ada.ID {
		t.Fatalf("assign to self: %d %+v", st, c)
	}
	if st := n.api(t, "POST", "/api/moderation/cases/"+plain+"/assign", ada.Token, map[string]any{"assignee": grace.ID}, &c); st != http.StatusOK || *c.Assignee != grace.ID {
		t.Fatalf("assign to Grace: %d %+v", st, c)
	}
	if st := n.api(t, "POST", "/api/moderation/cases/"+plain+"/assign", ada.Token, map[string]any{"assignee": f.ID}, nil); st != http.StatusBadRequest {
		t.Errorf("assign to a flagger: %d, want 400", st)
	}
	// Two notices and two assignments, each in the hash-chained log.
	if got, err := moderation.NewLog(n.store, nil).Verify(context.Background()); err != nil || got != 4 {
		t.Errorf("moderation log: %d rows, %v; want 4 verified", got, err)
	}
	n.api(t, "DELETE", "/api/moderators/"+ada.ID, op, nil, nil)
	if st := n.api(t, "GET", "/api/moderation/cases", ada.Token, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("withdrawn moderator lists cases: %d, want 401", st)
	}
	if st := n.api(t, "POST", "/api/moderation/cases/"+plain+"/assign", grace.Token, map[string]any{"assignee": ada.ID}, nil); st != http.StatusBadRequest {
		t.Errorf("assign to a withdrawn moderator: %d, want 400", st)
	}
}
