package app

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/policy"
)

type decisionDoc struct {
	ID            string   `json:"id"`
	Status        string   `json:"status"`
	Measure       string   `json:"measure"`
	Ground        string   `json:"ground"`
	Territories   []string `json:"territories"`
	StatementURLs []string `json:"statement_urls"`
}

type statementDoc struct {
	Statement dsa.Statement `json:"statement"`
	Status    string        `json:"status"`
	Redress   string        `json:"redress"`
}

// postNoticeFrom posts goodNotice(sp) (a range 1000–5000 ms and the
// space) from address src and returns its id and secret.
func postNoticeFrom(t *testing.T, n *node, sp, src string) (string, string) {
	t.Helper()
	cl := clientFrom(src)
	defer cl.CloseIdleConnections()
	b, _ := json.Marshal(goodNotice(sp))
	st, body, _ := n.rawVia(t, cl, "POST", "/api/notices", "", "application/json", b)
	if st != http.StatusCreated {
		t.Fatalf("notice: %d %s", st, body)
	}
	var got struct{ ID, Secret string }
	json.Unmarshal([]byte(body), &got)
	return got.ID, got.Secret
}

// statementPath is the path of a statement URL.
func statementPath(t *testing.T, u string) string {
	t.Helper()
	i := strings.Index(u, "/api/statements/")
	if i < 0 {
		t.Fatalf("statement url %q", u)
	}
	return u[i:]
}

// TestDecisionWithholdRange: a moderator withholds the noticed passage in
// DE; the statement of reasons is built, valid and public; the policy
// withholds the passage for DE and not for FR; the notifier sees the
// decision; the host reads the space's statements; a decided case is 409.
func TestDecisionWithholdRange(t *testing.T) {
	n := startNode(t)
	op := n.operator()
	c := n.createSpace(t)
	sp := c.Space.ID
	var ada moderatorDoc
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Ada"}, &ada)
	id, secret := postNoticeFrom(t, n, sp, "127.0.80.1")

	until := time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)
	var d decisionDoc
	st := n.api(t, "POST", "/api/moderation/cases/"+id+"/decision", ada.Token, map[string]any{
		"measure": "withhold_range", "ground": "illegal", "legal_ground": "§ 130 StGB",
		"explanation": "incites hatred against a group", "territories": []string{"de"}, "until": until, "language": "DE",
	}, &d)
	if st != http.StatusCreated || d.Status != "active" || len(d.StatementURLs) != 1 {
		t.Fatalf("decide: %d %+v", st, d)
	}
	var s statementDoc
	if st := n.api(t, "GET", statementPath(t, d.StatementURLs[0]), "", nil, &s); st != http.StatusOK {
		t.Fatalf("statement: %d", st)
	}
	if err := s.Statement.Validate(); err != nil {
		t.Errorf("statement does not validate: %v", err)
	}
	ss := s.Statement
	if s.Status != "active" || !strings.Contains(s.Redress, "six months") ||
		!slices.Equal(ss.DecisionVisibility, []string{dsa.DecisionVisibilityContentDisabled}) ||
		ss.DecisionGround != dsa.DecisionGroundIllegalContent || ss.IllegalContentLegalGround != "§ 130 StGB" ||
		!slices.Equal(ss.ContentType, []string{dsa.ContentTypeAudio}) ||
		ss.Category != "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH" || !slices.Equal(ss.CategorySpecification, []string{"KEYWORD_HATE_SPEECH"}) ||
		!slices.Equal(ss.TerritorialScope, []string{"DE"}) || ss.ContentLanguage != "DE" ||
		ss.ApplicationDate != time.Now().UTC().Format(time.DateOnly) || ss.EndDateVisibilityRestriction != until ||
		ss.SourceType != dsa.SourceArticle16 || ss.AutomatedDetection != dsa.No || ss.AutomatedDecision != dsa.AutomatedDecisionNotAutomated ||
		ss.PUID != d.ID || !strings.Contains(ss.DecisionFacts, "00:00:01–00:00:05") || !strings.Contains(ss.DecisionFacts, "in DE") {
		t.Errorf("statement %+v", s)
	}
	if strings.Contains(ss.DecisionFacts, "Nora") || strings.Contains(ss.DecisionFacts, "nora@") {
		t.Errorf("decision facts carry personal data: %q", ss.DecisionFacts)
	}

	pol := n.policies.Policy(sp)
	de := pol.For("DE")
	if de.ID == policy.None || len(de.Restrictions) != 1 || de.Restrictions[0].Kind != policy.WithholdRange ||
		de.Restrictions[0].From != time.Second || de.Restrictions[0].To != 5*time.Second ||
		!strings.Contains(de.Restrictions[0].Text, "Withheld in DE") || !strings.Contains(de.Restrictions[0].Text, "§ 130 StGB") {
		t.Errorf("DE view %+v", de)
	}
	if fr := pol.For("FR"); fr.ID != policy.None {
		t.Errorf("FR view %q, want %q", fr.ID, policy.None)
	}

	// The notifier sees the decision and the statement.
	var nd struct {
		State        string      `json:"state"`
		Decision     decisionDoc `json:"decision"`
		StatementURL string      `json:"statement_url"`
	}
	if st := n.api(t, "GET", "/api/notices/"+id, secret, nil, &nd); st != http.StatusOK || nd.State != "decided" ||
		nd.Decision.Measure != "withhold_range" || nd.Decision.Ground != "illegal" || nd.StatementURL != d.StatementURLs[0] {
		t.Errorf("notice after decision: %d %+v", st, nd)
	}
	// The host reads the space's statements; a stranger does not.
	var hs struct{ Statements []statementDoc }
	if st := n.api(t, "GET", "/api/spaces/"+sp+"/statements", c.HostToken, nil, &hs); st != http.StatusOK || len(hs.Statements) != 1 || hs.Statements[0].Statement.PUID != d.ID {
		t.Errorf("host statements: %d %+v", st, hs)
	}
	if st := n.api(t, "GET", "/api/spaces/"+sp+"/statements", "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("anonymous space statements: %d, want 401", st)
	}
	// Once decided, a case is not decided again.
	if st := n.api(t, "POST", "/api/moderation/cases/"+id+"/decision", ada.Token, map[string]any{"measure": "no_action"}, nil); st != http.StatusConflict {
		t.Errorf("decision on a decided case: %d, want 409", st)
	}
	if st := n.api(t, "GET", "/api/statements/dec-nope", "", nil, nil); st != http.StatusNotFound {
		t.Errorf("unknown statement: %d, want 404", st)
	}
	// A notice, a decision and its statement, each in the verified log.
	if got, err := moderation.NewLog(n.store, nil).Verify(context.Background()); err != nil || got != 3 {
		t.Errorf("log: %d rows, %v; want 3", got, err)
	}
	// A withdrawn moderator decides nothing.
	id2, _ := postNoticeFrom(t, n, sp, "127.0.81.1")
	n.api(t, "DELETE", "/api/moderators/"+ada.ID, op, nil, nil)
	if st := n.api(t, "POST", "/api/moderation/cases/"+id2+"/decision", ada.Token, map[string]any{"measure": "no_action"}, nil); st != http.StatusUnauthorized {
		t.Errorf("withdrawn moderator decides: %d, want 401", st)
	}
}

// TestDecisionBadFields: every bad decision is a 400 naming the field and
// leaves the case open.
func TestDecisionBadFields(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t).Space.ID
	var ada moderatorDoc
	n.api(t, "POST", "/api/moderators", n.operator(), map[string]any{"name": "Ada"}, &ada)
	id, _ := postNoticeFrom(t, n, sp, "127.0.82.1")
	good := func() map[string]any {
		return map[string]any{"measure": "withhold_range", "ground": "illegal", "legal_ground": "§ 130 StGB",
			"explanation": "incites hatred", "territories": []string{"DE"}}
	}
	for _, tc := range []struct {
		name, field string
		edit        func(m map[string]any)
	}{
		{"no measure", "measure", func(m map[string]any) { delete(m, "measure") }},
		{"unknown measure", "measure", func(m map[string]any) { m["measure"] = "ban" }},
		{"no ground", "ground", func(m map[string]any) { delete(m, "ground") }},
		{"unknown ground", "ground", func(m map[string]any) { m["ground"] = "taste" }},
		{"illegal without legal ground", "legal_ground", func(m map[string]any) { delete(m, "legal_ground") }},
		{"illegal without explanation", "explanation", func(m map[string]any) { m["explanation"] = " " }},
		{"terms without clause", "terms_clause", func(m map[string]any) { m["ground"] = "terms" }},
		{"withhold without territories", "territories", func(m map[string]any) { delete(m, "territories") }},
		{"unknown territory", "territories[1]", func(m map[string]any) { m["territories"] = []string{"DE", "XX"} }},
		{"remove with territories", "territories", func(m map[string]any) { m["measure"] = "remove" }},
		{"remove on illegal ground", "ground", func(m map[string]any) { m["measure"] = "remove"; delete(m, "territories") }},
		{"bad until", "until", func(m map[string]any) { m["until"] = "next week" }},
		{"unknown category", "category", func(m map[string]any) { m["category"] = "STATEMENT_CATEGORY_RUDENESS" }},
		{"bad range", "ranges[0]", func(m map[string]any) { m["ranges"] = []any{map[string]any{"from_ms": 5, "to_ms": 5}} }},
		{"ranges on another measure", "ranges", func(m map[string]any) {
			m["measure"] = "withhold_recording"
			m["ranges"] = []any{map[string]any{"from_ms": 5, "to_ms": 9}}
		}},
		{"unknown field", "colour", func(m map[string]any) { m["colour"] = "red" }},
	} {
		m := good()
		tc.edit(m)
		b, _ := json.Marshal(m)
		st, body, _ := n.raw(t, "POST", "/api/moderation/cases/"+id+"/decision", ada.Token, "application/json", b)
		if st != http.StatusBadRequest || !strings.Contains(body, tc.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", tc.name, st, body, tc.field)
		}
	}
	var c caseDoc
	if n.api(t, "GET", "/api/moderation/cases/"+id, ada.Token, nil, &c); c.State != "open" {
		t.Errorf("case after bad decisions: %q, want open", c.State)
	}
	if n.policies.Policy(sp) != nil {
		t.Errorf("bad decisions put a policy in force")
	}
}

// TestDecisionRemoveConfirmed: a removal is pending until a different
// moderator confirms it; then the recording is withheld everywhere.
func TestDecisionRemoveConfirmed(t *testing.T) {
	n := startNode(t)
	op := n.operator()
	sp := n.createSpace(t).Space.ID
	var ada, grace moderatorDoc
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Ada"}, &ada)
	n.api(t, "POST", "/api/moderators", op, map[string]any{"name": "Grace"}, &grace)
	id, _ := postNoticeFrom(t, n, sp, "127.0.83.1")
	var d decisionDoc
	if st := n.api(t, "POST", "/api/moderation/cases/"+id+"/decision", ada.Token, map[string]any{
		"measure": "remove", "ground": "terms", "terms_clause": "Terms § 4.2 (hate speech)", "explanation": "hate speech throughout",
	}, &d); st != http.StatusCreated || d.Status != "pending" {
		t.Fatalf("remove: %d %+v", st, d)
	}
	if n.policies.Policy(sp) != nil {
		t.Fatalf("a pending removal is in force")
	}
	var s statementDoc
	n.api(t, "GET", statementPath(t, d.StatementURLs[0]), "", nil, &s)
	if s.Status != "pending" || !slices.Equal(s.Statement.DecisionVisibility, []string{dsa.DecisionVisibilityContentRemoved}) ||
		len(s.Statement.TerritorialScope) != len(dsa.EEA) || s.Statement.DecisionGround != dsa.DecisionGroundIncompatibleContent ||
		s.Statement.IncompatibleContentGround != "Terms § 4.2 (hate speech)" {
		t.Errorf("pending statement %+v", s)
	}
	st, body, _ := n.raw(t, "POST", "/api/moderation/decisions/"+d.ID+"/confirm", ada.Token, "", nil)
	if st != http.StatusForbidden || !strings.Contains(body, "same_moderator") {
		t.Errorf("self-confirmation: %d %s, want 403 same_moderator", st, body)
	}
	if n.policies.Policy(sp) != nil {
		t.Fatalf("a self-confirmed removal is in force")
	}
	if st := n.api(t, "POST", "/api/moderation/decisions/"+d.ID+"/confirm", grace.Token, nil, &d); st != http.StatusOK || d.Status != "active" {
		t.Fatalf("confirm: %d %+v", st, d)
	}
	for _, tr := range []policy.Territory{"DE", "FR", "US"} {
		if v := n.policies.Policy(sp).For(tr); v.Withheld() == nil {
			t.Errorf("%s after removal: %+v, want withheld", tr, v)
		}
	}
	n.api(t, "GET", statementPath(t, d.StatementURLs[0]), "", nil, &s)
	if s.Status != "active" {
		t.Errorf("statement after confirmation: %q", s.Status)
	}
	if st := n.api(t, "POST", "/api/moderation/decisions/"+d.ID+"/confirm", grace.Token, nil, nil); st != http.StatusConflict {
		t.Errorf("second confirmation: %d, want 409", st)
	}
	// notice, decision, statement, confirmation
	if got, err := moderation.NewLog(n.store, nil).Verify(context.Background()); err != nil || got != 4 {
		t.Errorf("log: %d rows, %v; want 4", got, err)
	}
}

// TestDecisionNoActionAndLabel: no_action closes the case with no
// statement and nothing in force; label puts a label (no audio change) in
// force with a LABELLED statement.
func TestDecisionNoActionAndLabel(t *testing.T) {
	n := startNode(t)
	sp := n.createSpace(t).Space.ID
	var ada moderatorDoc
	n.api(t, "POST", "/api/moderators", n.operator(), map[string]any{"name": "Ada"}, &ada)
	a, _ := postNoticeFrom(t, n, sp, "127.0.84.1")
	b, _ := postNoticeFrom(t, n, sp, "127.0.85.1")
	var d decisionDoc
	if st := n.api(t, "POST", "/api/moderation/cases/"+a+"/decision", ada.Token, map[string]any{"measure": "no_action"}, &d); st != http.StatusCreated || d.Status != "active" || len(d.StatementURLs) != 0 {
		t.Fatalf("no_action: %d %+v", st, d)
	}
	var c caseDoc
	if n.api(t, "GET", "/api/moderation/cases/"+a, ada.Token, nil, &c); c.State != "decided" || n.policies.Policy(sp) != nil {
		t.Errorf("after no_action: case %q, policy %v", c.State, n.policies.Policy(sp))
	}
	if st := n.api(t, "POST", "/api/moderation/cases/"+b+"/decision", ada.Token, map[string]any{
		"measure": "label", "ground": "terms", "terms_clause": "Terms § 2 (disputed claims)", "explanation": "contested health claims",
	}, &d); st != http.StatusCreated || len(d.StatementURLs) != 1 {
		t.Fatalf("label: %d %+v", st, d)
	}
	var s statementDoc
	n.api(t, "GET", statementPath(t, d.StatementURLs[0]), "", nil, &s)
	if !slices.Equal(s.Statement.DecisionVisibility, []string{dsa.DecisionVisibilityContentLabelled}) || len(s.Statement.TerritorialScope) != len(dsa.EEA) {
		t.Errorf("label statement %+v", s.Statement)
	}
	v := n.policies.Policy(sp).For("FR")
	if v.ID != policy.None || len(v.Restrictions) != 1 || v.Restrictions[0].Kind != policy.Label {
		t.Errorf("FR view after a label: %+v (a label changes no audio)", v)
	}
}
