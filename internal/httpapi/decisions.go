package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/moderation"
)

// redress is what every statement tells the recipient about the ways to
// contest it (Art. 17(3)(f)).
const redress = "You may contest this decision by an internal complaint via your link within six months (Art. 20 DSA), " +
	"before a certified out-of-court dispute settlement body (Art. 21 DSA), or before the courts."

// decisionRoutes registers decisions and statements of reasons.
func (a *API) decisionRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/moderation/cases/{id}/decision", a.decideCase)
	m.HandleFunc("POST /api/moderation/decisions/{id}/confirm", a.confirmDecision)
	m.HandleFunc("GET /api/statements/{puid}", a.getStatement)
	m.HandleFunc("GET /api/spaces/{id}/statements", a.spaceStatements)
}

// decisionJSON is a decision as the API shows it.
type decisionJSON struct {
	ID            string    `json:"id"`
	Case          string    `json:"case"`
	Space         string    `json:"space"`
	Status        string    `json:"status"`
	Measure       string    `json:"measure"`
	Ground        string    `json:"ground,omitempty"`
	LegalGround   string    `json:"legal_ground,omitempty"`
	TermsClause   string    `json:"terms_clause,omitempty"`
	Explanation   string    `json:"explanation,omitempty"`
	Territories   []string  `json:"territories"`
	Until         *string   `json:"until"`
	Decided       time.Time `json:"decided"`
	StatementURLs []string  `json:"statement_urls"`
}

func (a *API) toDecisionJSON(r *http.Request, d moderation.Decision) decisionJSON {
	q := d.Request
	j := decisionJSON{ID: d.ID, Case: d.Case, Space: d.Space, Status: d.Status, Measure: q.Measure, Ground: q.Ground,
		LegalGround: q.LegalGround, TermsClause: q.TermsClause, Explanation: q.Explanation,
		Territories: q.Territories, Until: q.Until, Decided: d.Decided, StatementURLs: []string{}}
	if j.Territories == nil {
		j.Territories = []string{}
	}
	for _, s := range d.Statements {
		j.StatementURLs = append(j.StatementURLs, a.base(r)+"/api/statements/"+url.PathEscape(s.PUID))
	}
	return j
}

func (a *API) decisions(w http.ResponseWriter, r *http.Request) (*moderation.Decisions, bool) {
	if a.opts.Decisions == nil {
		a.fail(w, r, errNoModeration)
		return nil, false
	}
	return a.opts.Decisions, true
}

// decideCase: POST /api/moderation/cases/{id}/decision (moderator) with a
// moderation.DecisionRequest → 201 the decision (status active, or
// pending for a removal); 400 naming the bad field, 404 unknown case, 409
// when the case is already decided.
func (a *API) decideCase(w http.ResponseWriter, r *http.Request) {
	me, ok := a.moderator(w, r)
	if !ok {
		return
	}
	ds, ok := a.decisions(w, r)
	if !ok {
		return
	}
	var q moderation.DecisionRequest
	if err := decode(w, r, &q); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.opts.Cases.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	sp, err := a.svc.Space(r.Context(), c.Notice.Space)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	date := sp.StartedAt
	if date.IsZero() {
		date = sp.CreatedAt
	}
	d, err := ds.Decide(r.Context(), c.Notice.ID, me, q, date)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a.toDecisionJSON(r, d))
}

// confirmDecision: POST /api/moderation/decisions/{id}/confirm (a
// moderator other than the one who decided) → the decision, now active;
// 403 same_moderator, 409 when it is not pending.
func (a *API) confirmDecision(w http.ResponseWriter, r *http.Request) {
	me, ok := a.moderator(w, r)
	if !ok {
		return
	}
	ds, ok := a.decisions(w, r)
	if !ok {
		return
	}
	d, err := ds.Confirm(r.Context(), r.PathValue("id"), me)
	if errors.Is(err, moderation.ErrSameModerator) {
		err = newError(http.StatusForbidden, "same_moderator", "a removal takes effect when a different moderator confirms it")
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a.toDecisionJSON(r, d))
}

// statementJSON is a published statement of reasons.
type statementJSON struct {
	Statement dsa.Statement `json:"statement"`
	Status    string        `json:"status"`
	Redress   string        `json:"redress"`
}

// getStatement: GET /api/statements/{puid} (public) → {statement (the
// Transparency Database JSON), status: active|pending|reversed, redress}.
func (a *API) getStatement(w http.ResponseWriter, r *http.Request) {
	ds, ok := a.decisions(w, r)
	if !ok {
		return
	}
	s, status, err := ds.Statement(r.Context(), r.PathValue("puid"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, statementJSON{Statement: s, Status: status, Redress: redress})
}

// spaceStatements: GET /api/spaces/{id}/statements (the space's host) →
// {statements: [...]}: every statement on the space, oldest first.
func (a *API) spaceStatements(w http.ResponseWriter, r *http.Request) {
	id, _, ok := a.guard(w, r, auth.RoleHost)
	if !ok {
		return
	}
	ds, ok := a.decisions(w, r)
	if !ok {
		return
	}
	list, err := ds.OfSpace(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := []statementJSON{}
	for _, d := range list {
		for _, s := range d.Statements {
			out = append(out, statementJSON{Statement: s, Status: d.Status, Redress: redress})
		}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, map[string]any{"statements": out})
}
