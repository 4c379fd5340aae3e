package dsa

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one rule a statement breaks: the database's field name and
// what is wrong.
type Problem struct {
	Field, Rule string
}

// Problems is every rule a statement breaks; it is the error Validate
// returns.
type Problems []Problem

func (p Problems) Error() string {
	var b strings.Builder
	b.WriteString("dsa: statement invalid:")
	for _, x := range p {
		fmt.Fprintf(&b, " %s: %s;", x.Field, x.Rule)
	}
	return strings.TrimSuffix(b.String(), ";")
}

// Has reports whether field breaks a rule.
func (p Problems) Has(field string) bool {
	return slices.ContainsFunc(p, func(x Problem) bool { return x.Field == field })
}

var (
	visibilities = []string{DecisionVisibilityContentRemoved, DecisionVisibilityContentDisabled,
		DecisionVisibilityContentDemoted, DecisionVisibilityContentAgeRestricted,
		DecisionVisibilityContentInteractionRestr, DecisionVisibilityContentLabelled, DecisionVisibilityOther}
	monetaries   = []string{DecisionMonetarySuspension, DecisionMonetaryTermination, DecisionMonetaryOther}
	provisions   = []string{DecisionProvisionPartialSuspension, DecisionProvisionTotalSuspension, DecisionProvisionPartialTermination, DecisionProvisionTotalTermination}
	accounts     = []string{DecisionAccountSuspended, DecisionAccountTerminated}
	accountTypes = []string{AccountTypeBusiness, AccountTypePrivate}
	grounds      = []string{DecisionGroundIllegalContent, DecisionGroundIncompatibleContent}
	contentTypes = []string{ContentTypeApp, ContentTypeAudio, ContentTypeImage, ContentTypeProduct,
		ContentTypeSyntheticMedia, ContentTypeText, ContentTypeVideo, ContentTypeOther}
	sources   = []string{SourceArticle16, SourceTrustedFlagger, SourceTypeOtherNotification, SourceVoluntary}
	automated = []string{AutomatedDecisionFully, AutomatedDecisionPartially, AutomatedDecisionNotAutomated}
	yesNo     = []string{Yes, No}
	puidRE    = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	langRE    = regexp.MustCompile(`^[A-Z]{2}$`)
)

// CategoryKnown reports whether key is one of the 16 categories.
func CategoryKnown(key string) bool {
	return slices.ContainsFunc(Categories, func(c Category) bool { return c.Key == key })
}

// KeywordKnown reports whether key is a keyword the database accepts.
func KeywordKnown(key string) bool { return slices.Contains(Keywords, key) }

// Validate checks s against the database's rules (StatementStoreRequest,
// schema of 1 July 2025) and returns every rule broken as Problems, or
// nil.
func (s *Statement) Validate() error {
	var p Problems
	bad := func(field, rule string) { p = append(p, Problem{field, rule}) }
	maxLen := func(field, v string, n int) {
		if utf8.RuneCountInString(v) > n {
			bad(field, fmt.Sprintf("at most %d characters", n))
		}
	}
	// requiredIff: field must be set exactly when its condition holds.
	requiredIff := func(field, v string, triggered bool, n int, condition string) {
		switch {
		case triggered && v == "":
			bad(field, "required with "+condition)
		case !triggered && v != "":
			bad(field, "only allowed with "+condition)
		}
		maxLen(field, v, n)
	}

	// At least one of the four decisions.
	if len(s.DecisionVisibility) == 0 && s.DecisionMonetary == "" && s.DecisionProvision == "" && s.DecisionAccount == "" {
		bad("decision_visibility", "required unless decision_monetary, decision_provision or decision_account is set")
	}
	for _, v := range s.DecisionVisibility {
		if !slices.Contains(visibilities, v) {
			bad("decision_visibility", "unknown value "+v)
		}
	}
	requiredIff("decision_visibility_other", s.DecisionVisibilityOther, slices.Contains(s.DecisionVisibility, DecisionVisibilityOther), 500, DecisionVisibilityOther)
	enum := func(field, v string, set []string) {
		if v != "" && !slices.Contains(set, v) {
			bad(field, "unknown value "+v)
		}
	}
	enum("decision_monetary", s.DecisionMonetary, monetaries)
	requiredIff("decision_monetary_other", s.DecisionMonetaryOther, s.DecisionMonetary == DecisionMonetaryOther, 500, DecisionMonetaryOther)
	enum("decision_provision", s.DecisionProvision, provisions)
	enum("decision_account", s.DecisionAccount, accounts)
	enum("account_type", s.AccountType, accountTypes)

	// Ground and its conditional fields.
	if s.DecisionGround == "" {
		bad("decision_ground", "required")
	} else {
		enum("decision_ground", s.DecisionGround, grounds)
	}
	maxLen("decision_ground_reference_url", s.DecisionGroundReferenceURL, 500)
	if u := s.DecisionGroundReferenceURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		bad("decision_ground_reference_url", "must be a URL")
	}
	illegal := s.DecisionGround == DecisionGroundIllegalContent
	incompatible := s.DecisionGround == DecisionGroundIncompatibleContent
	requiredIff("illegal_content_legal_ground", s.IllegalContentLegalGround, illegal, 500, DecisionGroundIllegalContent)
	requiredIff("illegal_content_explanation", s.IllegalContentExplanation, illegal, 2000, DecisionGroundIllegalContent)
	requiredIff("incompatible_content_ground", s.IncompatibleContentGround, incompatible, 500, DecisionGroundIncompatibleContent)
	requiredIff("incompatible_content_explanation", s.IncompatibleContentExplanation, incompatible, 2000, DecisionGroundIncompatibleContent)
	if v := s.IncompatibleContentIllegal; v != "" {
		if !incompatible {
			bad("incompatible_content_illegal", "only allowed with DECISION_GROUND_INCOMPATIBLE_CONTENT")
		} else if !slices.Contains(yesNo, v) {
			bad("incompatible_content_illegal", `must be "Yes" or "No"`)
		}
	}

	// Content.
	if len(s.ContentType) == 0 {
		bad("content_type", "required")
	}
	for _, v := range s.ContentType {
		if !slices.Contains(contentTypes, v) {
			bad("content_type", "unknown value "+v)
		}
	}
	requiredIff("content_type_other", s.ContentTypeOther, slices.Contains(s.ContentType, ContentTypeOther), 500, ContentTypeOther)

	// Category and keywords.
	if s.Category == "" {
		bad("category", "required")
	} else if !CategoryKnown(s.Category) {
		bad("category", "unknown value "+s.Category)
	}
	for _, v := range s.CategoryAddition {
		if !CategoryKnown(v) {
			bad("category_addition", "unknown value "+v)
		}
	}
	for _, v := range s.CategorySpecification {
		if !KeywordKnown(v) {
			bad("category_specification", "unknown or no longer accepted value "+v)
		}
	}
	maxLen("category_specification_other", s.CategorySpecificationOther, 500)

	// Territory and language.
	if s.TerritorialScope == nil {
		bad("territorial_scope", "required (always sent)")
	}
	for _, v := range s.TerritorialScope {
		if !slices.Contains(EEA, v) {
			bad("territorial_scope", "not an EEA code: "+v)
		}
	}
	if v := s.ContentLanguage; v != "" && !langRE.MatchString(v) {
		bad("content_language", "upper-case ISO 639-1 code")
	}

	// Dates.
	day := func(field, v string, from, to string, required bool) (time.Time, bool) {
		if v == "" {
			if required {
				bad(field, "required")
			}
			return time.Time{}, false
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			bad(field, "YYYY-MM-DD")
			return time.Time{}, false
		}
		if (from != "" && v < from) || v > to {
			bad(field, fmt.Sprintf("between %s and %s", orStart(from), to))
			return time.Time{}, false
		}
		return t, true
	}
	day("content_date", s.ContentDate, "2000-01-01", "2038-01-01", true)
	app, appOK := day("application_date", s.ApplicationDate, "2020-01-01", "2038-01-01", true)
	for _, e := range []struct{ field, v string }{
		{"end_date_account_restriction", s.EndDateAccountRestriction},
		{"end_date_monetary_restriction", s.EndDateMonetaryRestriction},
		{"end_date_service_restriction", s.EndDateServiceRestriction},
		{"end_date_visibility_restriction", s.EndDateVisibilityRestriction},
	} {
		if t, ok := day(e.field, e.v, "", "2038-01-01", false); ok && appOK && t.Before(app) {
			bad(e.field, "before application_date")
		}
	}

	// Facts, source, automation, identity.
	if s.DecisionFacts == "" {
		bad("decision_facts", "required")
	}
	maxLen("decision_facts", s.DecisionFacts, 5000)
	if s.SourceType == "" {
		bad("source_type", "required")
	} else {
		enum("source_type", s.SourceType, sources)
	}
	maxLen("source_identity", s.SourceIdentity, 500)
	if s.SourceType == SourceVoluntary && s.SourceIdentity != "" {
		// The database drops it; podium never sends what it would drop.
		bad("source_identity", "not sent with SOURCE_VOLUNTARY")
	}
	if s.AutomatedDetection == "" {
		bad("automated_detection", "required")
	} else if !slices.Contains(yesNo, s.AutomatedDetection) {
		bad("automated_detection", `must be "Yes" or "No"`)
	}
	if s.AutomatedDecision == "" {
		bad("automated_decision", "required")
	} else {
		enum("automated_decision", s.AutomatedDecision, automated)
	}
	switch {
	case s.PUID == "":
		bad("puid", "required")
	case len(s.PUID) > 500:
		bad("puid", "at most 500 characters")
	case !puidRE.MatchString(s.PUID):
		bad("puid", "letters, digits, - and _ only")
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

func orStart(s string) string {
	if s == "" {
		return "any date"
	}
	return s
}

// ScopeEEA is the territorial_scope of a measure in force in territories
// (ISO 3166-1 codes): the EEA codes among them, sorted; all 30 when
// territories is empty (everywhere). It may be empty: a measure outside
// the EEA only.
func ScopeEEA(territories []string) []string {
	if len(territories) == 0 {
		return slices.Clone(EEA)
	}
	out := []string{}
	for _, t := range territories {
		if slices.Contains(EEA, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out
}
