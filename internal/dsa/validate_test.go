package dsa

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// valid is the reference's example statement: a passage withheld in DE.
func valid() Statement {
	return Statement{
		DecisionVisibility:        []string{DecisionVisibilityContentDisabled},
		DecisionGround:            DecisionGroundIllegalContent,
		IllegalContentLegalGround: "§ 130 StGB (Germany)",
		IllegalContentExplanation: "Passage incites hatred against a protected group; illegal under DE law.",
		ContentType:               []string{ContentTypeAudio},
		Category:                  "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		CategorySpecification:     []string{"KEYWORD_HATE_SPEECH"},
		TerritorialScope:          []string{"DE"},
		ContentLanguage:           "DE",
		ContentDate:               "2024-08-12",
		ApplicationDate:           "2024-08-13",
		DecisionFacts:             "42-second passage of a recorded live audio broadcast withheld for listeners in DE.",
		SourceType:                SourceTrustedFlagger,
		AutomatedDetection:        No,
		AutomatedDecision:         AutomatedDecisionNotAutomated,
		PUID:                      "dec-01J9ZK3Q-rec4411-p3",
	}
}

func TestValidStatements(t *testing.T) {
	s := valid()
	if err := s.Validate(); err != nil {
		t.Fatalf("the reference's example: %v", err)
	}
	terms := valid()
	terms.DecisionGround = DecisionGroundIncompatibleContent
	terms.IllegalContentLegalGround, terms.IllegalContentExplanation = "", ""
	terms.IncompatibleContentGround, terms.IncompatibleContentExplanation = "Terms § 4.2", "Harassment of a speaker."
	terms.IncompatibleContentIllegal = No
	terms.DecisionVisibility = []string{DecisionVisibilityContentRemoved}
	terms.TerritorialScope = ScopeEEA(nil)
	terms.EndDateVisibilityRestriction = "2025-01-01"
	terms.SourceType, terms.SourceIdentity = SourceVoluntary, ""
	if err := terms.Validate(); err != nil {
		t.Fatalf("a removal on a terms ground: %v", err)
	}
	other := valid()
	other.DecisionVisibility = nil
	other.DecisionProvision = DecisionProvisionPartialSuspension
	if err := other.Validate(); err != nil {
		t.Fatalf("a provision decision alone: %v", err)
	}
}

// Every rule has a case that breaks only it, reported on its field.
func TestEveryRuleBreaks(t *testing.T) {
	cases := []struct {
		field string
		edit  func(*Statement)
	}{
		{"decision_visibility", func(s *Statement) { s.DecisionVisibility = nil }},
		{"decision_visibility", func(s *Statement) { s.DecisionVisibility = []string{"DECISION_VISIBILITY_HIDDEN"} }},
		{"decision_visibility_other", func(s *Statement) { s.DecisionVisibility = append(s.DecisionVisibility, DecisionVisibilityOther) }},
		{"decision_visibility_other", func(s *Statement) { s.DecisionVisibilityOther = "shadow" }},
		{"decision_visibility_other", func(s *Statement) {
			s.DecisionVisibility = []string{DecisionVisibilityOther}
			s.DecisionVisibilityOther = strings.Repeat("x", 501)
		}},
		{"decision_monetary", func(s *Statement) { s.DecisionMonetary = "DECISION_MONETARY_FINE" }},
		{"decision_monetary_other", func(s *Statement) { s.DecisionMonetary = DecisionMonetaryOther }},
		{"decision_monetary_other", func(s *Statement) { s.DecisionMonetaryOther = "x" }},
		{"decision_provision", func(s *Statement) { s.DecisionProvision = "DECISION_PROVISION_SOME" }},
		{"decision_account", func(s *Statement) { s.DecisionAccount = "DECISION_ACCOUNT_BANNED" }},
		{"account_type", func(s *Statement) { s.AccountType = "ACCOUNT_TYPE_ROBOT" }},
		{"decision_ground", func(s *Statement) {
			s.DecisionGround, s.IllegalContentLegalGround, s.IllegalContentExplanation = "", "", ""
		}},
		{"decision_ground", func(s *Statement) {
			s.DecisionGround, s.IllegalContentLegalGround, s.IllegalContentExplanation = "DECISION_GROUND_TASTE", "", ""
		}},
		{"decision_ground_reference_url", func(s *Statement) { s.DecisionGroundReferenceURL = "not a url" }},
		{"decision_ground_reference_url", func(s *Statement) { s.DecisionGroundReferenceURL = "https://x/" + strings.Repeat("a", 500) }},
		{"illegal_content_legal_ground", func(s *Statement) { s.IllegalContentLegalGround = "" }},
		{"illegal_content_legal_ground", func(s *Statement) { s.IllegalContentLegalGround = strings.Repeat("§", 501) }},
		{"illegal_content_explanation", func(s *Statement) { s.IllegalContentExplanation = "" }},
		{"illegal_content_explanation", func(s *Statement) { s.IllegalContentExplanation = strings.Repeat("x", 2001) }},
		{"incompatible_content_ground", func(s *Statement) { s.IncompatibleContentGround = "Terms § 1" }},
		{"incompatible_content_explanation", func(s *Statement) { s.IncompatibleContentExplanation = "why" }},
		{"incompatible_content_illegal", func(s *Statement) { s.IncompatibleContentIllegal = Yes }},
		{"incompatible_content_illegal", func(s *Statement) {
			s.DecisionGround = DecisionGroundIncompatibleContent
			s.IllegalContentLegalGround, s.IllegalContentExplanation = "", ""
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "Terms § 1", "why"
			s.IncompatibleContentIllegal = "yes"
		}},
		{"illegal_content_legal_ground", func(s *Statement) {
			s.DecisionGround = DecisionGroundIncompatibleContent
			s.IncompatibleContentGround, s.IncompatibleContentExplanation = "Terms § 1", "why"
			s.IllegalContentExplanation = ""
		}},
		{"content_type", func(s *Statement) { s.ContentType = nil }},
		{"content_type", func(s *Statement) { s.ContentType = []string{"CONTENT_TYPE_PODCAST"} }},
		{"content_type_other", func(s *Statement) { s.ContentType = []string{ContentTypeOther} }},
		{"content_type_other", func(s *Statement) { s.ContentTypeOther = "podcast" }},
		{"category", func(s *Statement) { s.Category = "" }},
		{"category", func(s *Statement) { s.Category = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT" }},
		{"category", func(s *Statement) { s.Category = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE" }},
		{"category_addition", func(s *Statement) { s.CategoryAddition = []string{"STATEMENT_CATEGORY_GOSSIP"} }},
		{"category_specification", func(s *Statement) { s.CategorySpecification = []string{"KEYWORD_DANGEROUS_TOYS"} }},
		{"category_specification_other", func(s *Statement) { s.CategorySpecificationOther = strings.Repeat("x", 501) }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = nil }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = []string{"EL"} }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = []string{"US"} }},
		{"content_language", func(s *Statement) { s.ContentLanguage = "de" }},
		{"content_language", func(s *Statement) { s.ContentLanguage = "DEU" }},
		{"content_date", func(s *Statement) { s.ContentDate = "" }},
		{"content_date", func(s *Statement) { s.ContentDate = "12.08.2024" }},
		{"content_date", func(s *Statement) { s.ContentDate = "1999-12-31" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "2019-12-31" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "2038-01-02" }},
		{"end_date_visibility_restriction", func(s *Statement) { s.EndDateVisibilityRestriction = "2024-08-12" }},
		{"end_date_visibility_restriction", func(s *Statement) { s.EndDateVisibilityRestriction = "2038-01-02" }},
		{"end_date_account_restriction", func(s *Statement) { s.EndDateAccountRestriction = "2024-13-01" }},
		{"end_date_monetary_restriction", func(s *Statement) { s.EndDateMonetaryRestriction = "2024-01-01" }},
		{"end_date_service_restriction", func(s *Statement) { s.EndDateServiceRestriction = "soon" }},
		{"decision_facts", func(s *Statement) { s.DecisionFacts = "" }},
		{"decision_facts", func(s *Statement) { s.DecisionFacts = strings.Repeat("x", 5001) }},
		{"source_type", func(s *Statement) { s.SourceType = "" }},
		{"source_type", func(s *Statement) { s.SourceType = "SOURCE_RUMOUR" }},
		{"source_identity", func(s *Statement) { s.SourceType, s.SourceIdentity = SourceVoluntary, "us" }},
		{"source_identity", func(s *Statement) { s.SourceIdentity = strings.Repeat("x", 501) }},
		{"automated_detection", func(s *Statement) { s.AutomatedDetection = "" }},
		{"automated_detection", func(s *Statement) { s.AutomatedDetection = "no" }},
		{"automated_decision", func(s *Statement) { s.AutomatedDecision = "" }},
		{"automated_decision", func(s *Statement) { s.AutomatedDecision = "AUTOMATED_DECISION_MAYBE" }},
		{"puid", func(s *Statement) { s.PUID = "" }},
		{"puid", func(s *Statement) { s.PUID = "has space" }},
		{"puid", func(s *Statement) { s.PUID = strings.Repeat("a", 501) }},
	}
	for i, c := range cases {
		s := valid()
		c.edit(&s)
		err := s.Validate()
		var p Problems
		if !errors.As(err, &p) {
			t.Errorf("case %d (%s): Validate = %v, want Problems", i, c.field, err)
			continue
		}
		if !p.Has(c.field) {
			t.Errorf("case %d: problems %v do not name %s", i, p, c.field)
		}
		for _, x := range p {
			if x.Field != c.field && !(c.field == "illegal_content_legal_ground" && x.Field == "illegal_content_explanation") {
				t.Errorf("case %d (%s): also reported %s: %s", i, c.field, x.Field, x.Rule)
			}
		}
	}
}

func TestScopeEEA(t *testing.T) {
	if got := ScopeEEA([]string{"US", "FR", "DE", "FR"}); !slices.Equal(got, []string{"DE", "FR"}) {
		t.Errorf("ScopeEEA = %v, want [DE FR]", got)
	}
	if got := ScopeEEA(nil); len(got) != 30 || got[0] != "AT" {
		t.Errorf("everywhere = %v, want the 30 EEA codes", got)
	}
	if got := ScopeEEA([]string{"US"}); got == nil || len(got) != 0 {
		t.Errorf("outside the EEA = %#v, want an empty (not nil) list", got)
	}
}
