package moderation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/policy"
)

// Measures a decision takes.
const (
	MeasureNoAction          = "no_action"
	MeasureLabel             = "label"
	MeasureWithholdRange     = "withhold_range"
	MeasureWithholdRecording = "withhold_recording"
	MeasureRemove            = "remove"
)

// Grounds of a decision.
const (
	GroundIllegal = "illegal"
	GroundTerms   = "terms"
)

// Decision and statement states: active (in force), pending (a removal
// awaiting a second moderator), reversed.
const (
	StateDecided   = "decided"
	StatusActive   = "active"
	StatusPending  = "pending"
	StatusReversed = "reversed"
)

// Event kinds of decisions.
const (
	EventDecision     = "decision"
	EventConfirmation = "confirmation"
	EventStatement    = "statement"
)

// ErrSameModerator: a removal must be confirmed by another moderator.
var ErrSameModerator = errors.New("moderation: a removal is confirmed by a different moderator")

// Range is a passage of the recording, in milliseconds.
type Range struct {
	FromMS int64 `json:"from_ms"`
	ToMS   int64 `json:"to_ms"`
}

// DecisionRequest is what a moderator decides on a case.
type DecisionRequest struct {
	Measure     string   `json:"measure"`
	Ground      string   `json:"ground"`
	LegalGround string   `json:"legal_ground"`
	TermsClause string   `json:"terms_clause"`
	Explanation string   `json:"explanation"`
	Territories []string `json:"territories"`
	Until       *string  `json:"until"`
	Facts       string   `json:"facts"`
	Category    string   `json:"category"`
	Keywords    []string `json:"keywords"`
	Language    string   `json:"language"`
	Ranges      []Range  `json:"ranges"`
}

// Decision is a decision as stored.
type Decision struct {
	ID        string          `json:"id"`
	Case      string          `json:"case"`
	Space     string          `json:"space"`
	Moderator string          `json:"moderator"`
	Decided   time.Time       `json:"decided"`
	Status    string          `json:"status"`
	Confirmer string          `json:"confirmer,omitempty"`
	Request   DecisionRequest `json:"request"`
	// Restrictions the decision puts in force (once active).
	Restrictions []policy.Restriction `json:"restrictions"`
	// Statements of reasons, one per restriction (puid = restriction id).
	Statements []dsa.Statement `json:"statements"`
}

// DecisionStore keeps decisions and their statements. store.SQLite
// implements it.
type DecisionStore interface {
	// Decide, in one transaction, closes open case d.Case (ErrConflict if
	// it is not open) and stores d, its statements and, if d is active,
	// its restrictions.
	Decide(ctx context.Context, d Decision) error
	// Decision returns decision id (ErrNotFound).
	Decision(ctx context.Context, id string) (Decision, error)
	// CaseDecision returns the decision on case id (ErrNotFound).
	CaseDecision(ctx context.Context, caseID string) (Decision, error)
	// Confirm, in one transaction, makes pending decision id active,
	// confirmed by, and stores its restrictions (ErrConflict if not pending).
	Confirm(ctx context.Context, id, by string) (Decision, error)
	// Statement returns the statement puid and its decision (ErrNotFound).
	Statement(ctx context.Context, puid string) (dsa.Statement, Decision, error)
	// SpaceDecisions returns the decisions on space, oldest first.
	SpaceDecisions(ctx context.Context, space string) ([]Decision, error)
}

// Decisions takes decisions on cases and publishes their statements.
type Decisions struct {
	st       DecisionStore
	cases    CaseStore
	policies *Policies
	log      *Log
	now      func() time.Time
}

// NewDecisions returns the decisions kept in st, put in force through
// policies and recorded in log. now may be nil.
func NewDecisions(st DecisionStore, cases CaseStore, policies *Policies, log *Log, now func() time.Time) *Decisions {
	if now == nil {
		now = time.Now
	}
	return &Decisions{st: st, cases: cases, policies: policies, log: log, now: now}
}

// Check validates q against the notice it decides, filling defaults
// (category, keywords, ranges from the notice). The first problem is a
// *FieldError naming the field.
func (q *DecisionRequest) Check(n Notice) error {
	switch q.Measure {
	case MeasureNoAction, MeasureLabel, MeasureWithholdRange, MeasureWithholdRecording, MeasureRemove:
	case "":
		return bad("measure", "is required (no_action, label, withhold_range, withhold_recording or remove)")
	default:
		return bad("measure", "unknown measure %q (no_action, label, withhold_range, withhold_recording or remove)", q.Measure)
	}
	q.Explanation = strings.TrimSpace(q.Explanation)
	if !utf8.ValidString(q.Explanation) || utf8.RuneCountInString(q.Explanation) > MaxExplanationLen {
		return bad("explanation", "at most %d characters of UTF-8", MaxExplanationLen)
	}
	if len(q.Facts) > MaxExplanationLen || !utf8.ValidString(q.Facts) {
		return bad("facts", "at most %d characters of UTF-8", MaxExplanationLen)
	}
	if q.Measure == MeasureNoAction {
		return nil
	}
	switch q.Ground {
	case GroundIllegal:
		if strings.TrimSpace(q.LegalGround) == "" {
			return bad("legal_ground", "is required for ground illegal (the law, e.g. § 130 StGB)")
		}
	case GroundTerms:
		if strings.TrimSpace(q.TermsClause) == "" {
			return bad("terms_clause", "is required for ground terms (the clause of the terms)")
		}
	case "":
		return bad("ground", "is required (illegal or terms) for every measure but no_action")
	default:
		return bad("ground", "unknown ground %q (illegal or terms)", q.Ground)
	}
	if q.Explanation == "" {
		return bad("explanation", "is required: say why")
	}
	if q.Measure == MeasureRemove {
		if len(q.Territories) > 0 {
			return bad("territories", "remove applies everywhere: send no territories (withhold in territories instead)")
		}
		if q.Ground != GroundTerms {
			return bad("ground", "remove needs ground terms (a ground valid everywhere); withhold illegal content in the territories where it is illegal")
		}
	}
	if (q.Measure == MeasureWithholdRange || q.Measure == MeasureWithholdRecording) && len(q.Territories) == 0 {
		return bad("territories", "withholding names the territories (ISO 3166-1 codes); use remove for everywhere")
	}
	if len(q.Territories) > MaxTerritories {
		return bad("territories", "at most %d", MaxTerritories)
	}
	for i, s := range q.Territories {
		t, err := policy.ParseTerritory(s)
		if err != nil || t == policy.Unknown {
			return bad(fmt.Sprintf("territories[%d]", i), "unknown territory %q (an ISO 3166-1 alpha-2 code)", s)
		}
		q.Territories[i] = string(t)
	}
	slices.Sort(q.Territories)
	q.Territories = slices.Compact(q.Territories)
	if q.Until != nil {
		if _, err := time.Parse(time.DateOnly, *q.Until); err != nil {
			return bad("until", "a date YYYY-MM-DD or null")
		}
	}
	if q.Category == "" {
		q.Category = n.Category
		if q.Keywords == nil {
			q.Keywords = n.Keywords
		}
	}
	if !slices.ContainsFunc(dsa.Categories, func(c dsa.Category) bool { return c.Key == q.Category }) {
		return bad("category", "unknown category %q", q.Category)
	}
	for i, k := range q.Keywords {
		if !slices.Contains(dsa.Keywords, k) {
			return bad(fmt.Sprintf("keywords[%d]", i), "unknown keyword %q", k)
		}
	}
	if q.Language != "" && (len(q.Language) != 2 || strings.ToUpper(q.Language) != q.Language) {
		return bad("language", "an ISO 639-1 code in upper case, e.g. DE")
	}
	if q.Measure == MeasureWithholdRange {
		if len(q.Ranges) == 0 {
			for _, it := range n.Items {
				if it.Kind == ItemRange && it.FromMS != nil && it.ToMS != nil {
					q.Ranges = append(q.Ranges, Range{*it.FromMS, *it.ToMS})
				}
			}
		}
		if len(q.Ranges) == 0 {
			return bad("ranges", "withhold_range needs ranges [{from_ms, to_ms}] (the notice names none)")
		}
		if len(q.Ranges) > MaxItems {
			return bad("ranges", "at most %d", MaxItems)
		}
		for i, r := range q.Ranges {
			if r.FromMS < 0 || r.ToMS <= r.FromMS {
				return bad(fmt.Sprintf("ranges[%d]", i), "from_ms ≥ 0 and to_ms after it")
			}
		}
	} else if len(q.Ranges) > 0 {
		return bad("ranges", "only withhold_range takes ranges")
	}
	return nil
}

func clock(ms int64) string {
	s := ms / 1000
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}

// eeaOf returns the EEA codes among territories (every EEA code for none).
func eeaOf(territories []string) []string {
	if len(territories) == 0 {
		return slices.Clone(dsa.EEA)
	}
	out := []string{}
	for _, t := range territories {
		if slices.Contains(dsa.EEA, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}

func where(territories []string) string {
	if len(territories) == 0 {
		return "everywhere"
	}
	return "in " + strings.Join(territories, ", ")
}

// build makes d's restrictions and statements from its request.
func (ds *Decisions) build(d *Decision, contentDate time.Time, n Notice) error {
	q := &d.Request
	if q.Measure == MeasureNoAction {
		return nil
	}
	reason := q.Explanation + " (" + q.LegalGround + ")"
	if q.Ground == GroundTerms {
		reason = q.Explanation + " (terms: " + q.TermsClause + ")"
	}
	var terr []policy.Territory
	for _, t := range q.Territories {
		terr = append(terr, policy.Territory(t))
	}
	var until time.Time
	if q.Until != nil {
		day, _ := time.Parse(time.DateOnly, *q.Until)
		until = day.Add(24 * time.Hour)
	}
	type part struct {
		r     policy.Restriction
		facts string
		vis   string
	}
	var parts []part
	listeners := "listeners " + where(q.Territories)
	if len(q.Territories) > 0 {
		listeners = "listeners in " + strings.Join(q.Territories, ", ")
	}
	switch q.Measure {
	case MeasureWithholdRange:
		for _, rg := range q.Ranges {
			parts = append(parts, part{
				r: policy.Restriction{Kind: policy.WithholdRange, From: time.Duration(rg.FromMS) * time.Millisecond,
					To: time.Duration(rg.ToMS) * time.Millisecond, Text: "Withheld " + where(q.Territories) + ": " + reason},
				facts: fmt.Sprintf("Passage %s–%s of a recorded live audio conversation withheld for %s after a notice; the rest of the recording is unaffected.",
					clock(rg.FromMS), clock(rg.ToMS), listeners),
				vis: dsa.DecisionVisibilityContentDisabled,
			})
		}
	case MeasureWithholdRecording:
		parts = append(parts, part{
			r:     policy.Restriction{Kind: policy.WithholdRecording, Text: "Withheld " + where(q.Territories) + ": " + reason},
			facts: fmt.Sprintf("The recording of a live audio conversation withheld for %s after a notice.", listeners),
			vis:   dsa.DecisionVisibilityContentDisabled,
		})
	case MeasureRemove:
		parts = append(parts, part{
			r:     policy.Restriction{Kind: policy.WithholdRecording, Text: "Removed: " + reason},
			facts: "The recording of a live audio conversation removed for every listener after a notice, on the ground of the terms of service, confirmed by a second moderator.",
			vis:   dsa.DecisionVisibilityContentRemoved,
		})
	case MeasureLabel:
		parts = append(parts, part{
			r:     policy.Restriction{Kind: policy.Label, Text: "Label " + where(q.Territories) + ": " + reason},
			facts: fmt.Sprintf("The recording of a live audio conversation labelled for %s after a notice; the audio is unaffected.", listeners),
			vis:   dsa.DecisionVisibilityContentLabelled,
		})
	}
	today := ds.now().UTC().Format(time.DateOnly)
	for i, p := range parts {
		id := d.ID
		if len(parts) > 1 {
			id = fmt.Sprintf("%s-%d", d.ID, i+1)
		}
		r := p.r
		r.ID, r.Territories, r.Until = id, terr, until
		facts := p.facts
		if f := strings.TrimSpace(q.Facts); f != "" {
			facts += " " + f
		}
		s := dsa.Statement{
			DecisionVisibility:    []string{p.vis},
			ContentType:           []string{dsa.ContentTypeAudio},
			Category:              q.Category,
			CategorySpecification: q.Keywords,
			TerritorialScope:      eeaOf(q.Territories),
			ContentLanguage:       q.Language,
			ContentDate:           contentDate.UTC().Format(time.DateOnly),
			ApplicationDate:       today,
			DecisionFacts:         facts,
			SourceType:            n.SourceType,
			AutomatedDetection:    dsa.No,
			AutomatedDecision:     dsa.AutomatedDecisionNotAutomated,
			PUID:                  id,
		}
		if q.Until != nil {
			s.EndDateVisibilityRestriction = *q.Until
		}
		if q.Ground == GroundIllegal {
			s.DecisionGround = dsa.DecisionGroundIllegalContent
			s.IllegalContentLegalGround, s.IllegalContentExplanation = q.LegalGround, q.Explanation
		} else {
			s.DecisionGround = dsa.DecisionGroundIncompatibleContent
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = q.TermsClause, q.Explanation
		}
		if err := s.Validate(); err != nil {
			return fmt.Errorf("moderation: podium built an invalid statement of reasons: %w", err)
		}
		d.Restrictions = append(d.Restrictions, r)
		d.Statements = append(d.Statements, s)
	}
	return nil
}

// Decide takes moderator's decision q on case id; contentDate is the
// space's start date. A removal is pending until another moderator
// confirms it; any other measure is in force at once.
func (ds *Decisions) Decide(ctx context.Context, id, moderator string, q DecisionRequest, contentDate time.Time) (Decision, error) {
	c, err := ds.cases.Case(ctx, id)
	if err != nil {
		return Decision{}, err
	}
	if c.Notice.State != StateOpen {
		return Decision{}, fmt.Errorf("%w: case %s is %s", ErrConflict, id, c.Notice.State)
	}
	if err := q.Check(c.Notice); err != nil {
		return Decision{}, err
	}
	d := Decision{ID: "dec-" + randomID(9), Case: id, Space: c.Notice.Space, Moderator: moderator,
		Decided: ds.now().UTC().Truncate(time.Millisecond), Status: StatusActive, Request: q}
	if q.Measure == MeasureRemove {
		d.Status = StatusPending
	}
	if err := ds.build(&d, contentDate, c.Notice); err != nil {
		return Decision{}, err
	}
	if err := ds.st.Decide(ctx, d); err != nil {
		return Decision{}, err
	}
	if err := ds.log.Append(ctx, EventDecision, moderator, d.ID, map[string]any{
		"case": id, "space": d.Space, "measure": q.Measure, "ground": q.Ground, "territories": q.Territories, "status": d.Status,
	}); err != nil {
		return d, fmt.Errorf("moderation: log decision: %w", err)
	}
	for _, s := range d.Statements {
		if err := ds.log.Append(ctx, EventStatement, moderator, s.PUID, map[string]any{"decision": d.ID, "status": d.Status}); err != nil {
			return d, fmt.Errorf("moderation: log statement: %w", err)
		}
	}
	if d.Status == StatusActive && len(d.Restrictions) > 0 {
		if err := ds.policies.Reload(ctx); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Confirm puts pending removal id in force, confirmed by moderator, who
// must not be the one who decided it (ErrSameModerator).
func (ds *Decisions) Confirm(ctx context.Context, id, moderator string) (Decision, error) {
	d, err := ds.st.Decision(ctx, id)
	if err != nil {
		return d, err
	}
	if d.Status != StatusPending {
		return d, fmt.Errorf("%w: decision %s is %s, not pending", ErrConflict, id, d.Status)
	}
	if d.Moderator == moderator {
		return d, ErrSameModerator
	}
	if d, err = ds.st.Confirm(ctx, id, moderator); err != nil {
		return d, err
	}
	if err := ds.log.Append(ctx, EventConfirmation, moderator, id, map[string]any{"decided_by": d.Moderator}); err != nil {
		return d, fmt.Errorf("moderation: log confirmation: %w", err)
	}
	return d, ds.policies.Reload(ctx)
}

// Get returns decision id.
func (ds *Decisions) Get(ctx context.Context, id string) (Decision, error) {
	return ds.st.Decision(ctx, id)
}

// OfCase returns the decision on case id (ErrNotFound while undecided).
func (ds *Decisions) OfCase(ctx context.Context, id string) (Decision, error) {
	return ds.st.CaseDecision(ctx, id)
}

// Statement returns statement puid and its status.
func (ds *Decisions) Statement(ctx context.Context, puid string) (dsa.Statement, string, error) {
	s, d, err := ds.st.Statement(ctx, puid)
	return s, d.Status, err
}

// OfSpace returns the decisions on space.
func (ds *Decisions) OfSpace(ctx context.Context, space string) ([]Decision, error) {
	return ds.st.SpaceDecisions(ctx, space)
}
