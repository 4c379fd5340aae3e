package dsa

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func valid() Statement {
	return Statement{
		DecisionVisibility:        []string{DecisionVisibilityContentDisabled},
		DecisionGround:            DecisionGroundIllegalContent,
		IllegalContentLegalGround: "§ 130 StGB (Germany)",
		IllegalContentExplanation: "Passage incites hatred; illegal under DE law.",
		ContentType:               []string{ContentTypeAudio},
		Category:                  "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
		CategorySpecification:     []string{"KEYWORD_HATE_SPEECH"},
		TerritorialScope:          []string{"DE"},
		ContentLanguage:           "DE",
		ContentDate:               "2024-08-12",
		ApplicationDate:           "2024-08-13",
		DecisionFacts:             "42-second passage withheld for listeners in DE.",
		SourceType:                SourceTrustedFlagger,
		AutomatedDetection:        No,
		AutomatedDecision:         AutomatedDecisionNotAutomated,
		PUID:                      "dec-01J9ZK3Q-rec4411-p3",
	}
}

func TestValidStatementPasses(t *testing.T) {
	s := valid()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(Keywords) != 69 || len(Categories) != 16 || len(EEA) != 30 {
		t.Fatalf("enumerations: %d keywords, %d categories, %d EEA", len(Keywords), len(Categories), len(EEA))
	}
}

func TestEveryRuleReported(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n+1) }
	cases := []struct {
		field string
		edit  func(*Statement)
	}{
		{"decision_visibility", func(s *Statement) { s.DecisionVisibility = nil }},
		{"decision_visibility", func(s *Statement) { s.DecisionVisibility = []string{"DECISION_VISIBILITY_NOPE"} }},
		{"decision_visibility_other", func(s *Statement) { s.DecisionVisibility = []string{DecisionVisibilityOther} }},
		{"decision_visibility_other", func(s *Statement) { s.DecisionVisibilityOther = "x" }},
		{"decision_visibility_other", func(s *Statement) {
			s.DecisionVisibility = []string{DecisionVisibilityOther}
			s.DecisionVisibilityOther = long(500)
		}},
		{"decision_monetary", func(s *Statement) { s.DecisionMonetary = "X" }},
		{"decision_monetary_other", func(s *Statement) { s.DecisionMonetary = DecisionMonetaryOther }},
		{"decision_monetary_other", func(s *Statement) { s.DecisionMonetaryOther = "x" }},
		{"decision_provision", func(s *Statement) { s.DecisionProvision = "X" }},
		{"decision_account", func(s *Statement) { s.DecisionAccount = "X" }},
		{"account_type", func(s *Statement) { s.AccountType = "X" }},
		{"decision_ground", func(s *Statement) {
			s.DecisionGround, s.IllegalContentLegalGround, s.IllegalContentExplanation = "", "", ""
		}},
		{"decision_ground_reference_url", func(s *Statement) { s.DecisionGroundReferenceURL = "not a url" }},
		{"decision_ground_reference_url", func(s *Statement) { s.DecisionGroundReferenceURL = "https://x.eu/" + long(500) }},
		{"illegal_content_legal_ground", func(s *Statement) { s.IllegalContentLegalGround = "" }},
		{"illegal_content_legal_ground", func(s *Statement) { s.IllegalContentLegalGround = long(500) }},
		{"illegal_content_explanation", func(s *Statement) { s.IllegalContentExplanation = "" }},
		{"illegal_content_explanation", func(s *Statement) { s.IllegalContentExplanation = long(2000) }},
		{"incompatible_content_ground", func(s *Statement) { s.IncompatibleContentGround = "x" }},
		{"incompatible_content_explanation", func(s *Statement) { s.IncompatibleContentExplanation = "x" }},
		{"incompatible_content_illegal", func(s *Statement) { s.IncompatibleContentIllegal = Yes }},
		{"content_type", func(s *Statement) { s.ContentType = nil }},
		{"content_type", func(s *Statement) { s.ContentType = []string{"CONTENT_TYPE_PODCAST"} }},
		{"content_type_other", func(s *Statement) { s.ContentType = []string{ContentTypeOther} }},
		{"content_type_other", func(s *Statement) { s.ContentTypeOther = "x" }},
		{"category", func(s *Statement) { s.Category = "" }},
		{"category", func(s *Statement) { s.Category = "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT" }},
		{"category", func(s *Statement) { s.Category = "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE" }},
		{"category_addition", func(s *Statement) { s.CategoryAddition = []string{"KEYWORD_OTHER"} }},
		{"category_specification", func(s *Statement) { s.CategorySpecification = []string{"KEYWORD_DANGEROUS_TOYS"} }},
		{"category_specification_other", func(s *Statement) { s.CategorySpecificationOther = long(500) }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = nil }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = []string{"EL"} }},
		{"territorial_scope", func(s *Statement) { s.TerritorialScope = []string{"US"} }},
		{"content_language", func(s *Statement) { s.ContentLanguage = "de" }},
		{"content_language", func(s *Statement) { s.ContentLanguage = "DEU" }},
		{"content_date", func(s *Statement) { s.ContentDate = "" }},
		{"content_date", func(s *Statement) { s.ContentDate = "12/08/2024" }},
		{"content_date", func(s *Statement) { s.ContentDate = "1999-12-31" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "2019-12-31" }},
		{"application_date", func(s *Statement) { s.ApplicationDate = "2038-01-02" }},
		{"end_date_account_restriction", func(s *Statement) { s.EndDateAccountRestriction = "2024-08-12" }},
		{"end_date_monetary_restriction", func(s *Statement) { s.EndDateMonetaryRestriction = "2038-01-02" }},
		{"end_date_service_restriction", func(s *Statement) { s.EndDateServiceRestriction = "2024-13-01" }},
		{"end_date_visibility_restriction", func(s *Statement) { s.EndDateVisibilityRestriction = "2024-08-01" }},
		{"decision_facts", func(s *Statement) { s.DecisionFacts = "" }},
		{"decision_facts", func(s *Statement) { s.DecisionFacts = long(5000) }},
		{"source_type", func(s *Statement) { s.SourceType = "" }},
		{"source_type", func(s *Statement) { s.SourceType = "SOURCE_X" }},
		{"source_identity", func(s *Statement) { s.SourceType, s.SourceIdentity = SourceVoluntary, "x" }},
		{"source_identity", func(s *Statement) { s.SourceIdentity = long(500) }},
		{"automated_detection", func(s *Statement) { s.AutomatedDetection = "" }},
		{"automated_detection", func(s *Statement) { s.AutomatedDetection = "yes" }},
		{"automated_decision", func(s *Statement) { s.AutomatedDecision = "" }},
		{"automated_decision", func(s *Statement) { s.AutomatedDecision = "X" }},
		{"puid", func(s *Statement) { s.PUID = "" }},
		{"puid", func(s *Statement) { s.PUID = "a b" }},
		{"puid", func(s *Statement) { s.PUID = long(500) }},
		{"content_id", func(s *Statement) { s.ContentID = map[string]string{"ISBN": "1234567890123"} }},
		{"content_id", func(s *Statement) { s.ContentID = map[string]string{"EAN-13": "123"} }},
	}
	for i, c := range cases {
		s := valid()
		c.edit(&s)
		var ps Problems
		if err := s.Validate(); !errors.As(err, &ps) {
			t.Errorf("case %d (%s): got %v, want Problems", i, c.field, err)
			continue
		}
		for _, p := range ps {
			if p.Field != c.field {
				t.Errorf("case %d: reported %s (%s), want only %s", i, p.Field, p.Rule, c.field)
			}
		}
	}
	// The incompatible ground with its fields and Yes/No passes.
	s := valid()
	s.DecisionGround, s.IllegalContentLegalGround, s.IllegalContentExplanation = DecisionGroundIncompatibleContent, "", ""
	s.IncompatibleContentGround, s.IncompatibleContentExplanation, s.IncompatibleContentIllegal = "ToS 4.2", "Spam", No
	s.ContentID = map[string]string{"EAN-13": "4006381333931"}
	s.EndDateVisibilityRestriction = "2038-01-01"
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestScopeEEA(t *testing.T) {
	if got := ScopeEEA(nil); !slices.Equal(got, EEA) {
		t.Fatalf("everywhere: %v", got)
	}
	if got := ScopeEEA([]string{"US", "FR", "DE", "EL", "FR"}); !slices.Equal(got, []string{"DE", "FR"}) {
		t.Fatalf("filtered: %v", got)
	}
}
