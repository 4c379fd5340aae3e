package dsa

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Problem is one broken rule: the field (the database's JSON name) and
// what is wrong with it.
type Problem struct{ Field, Rule string }

// Problems is every rule a statement breaks; it is Validate's error.
type Problems []Problem

func (p Problems) Error() string {
	parts := make([]string, len(p))
	for i, q := range p {
		parts[i] = q.Field + ": " + q.Rule
	}
	return "dsa: invalid statement: " + strings.Join(parts, "; ")
}

var (
	puidRe = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)
	langRe = regexp.MustCompile(`^[A-Z]{2}$`)
	eanRe  = regexp.MustCompile(`^[0-9]{13}$`)

	visibilities  = []string{DecisionVisibilityContentRemoved, DecisionVisibilityContentDisabled, DecisionVisibilityContentDemoted, DecisionVisibilityContentAgeRestricted, DecisionVisibilityContentInteractionRestr, DecisionVisibilityContentLabelled, DecisionVisibilityOther}
	monetaries    = []string{DecisionMonetarySuspension, DecisionMonetaryTermination, DecisionMonetaryOther}
	provisions    = []string{DecisionProvisionPartialSuspension, DecisionProvisionTotalSuspension, DecisionProvisionPartialTermination, DecisionProvisionTotalTermination}
	accounts      = []string{DecisionAccountSuspended, DecisionAccountTerminated}
	accountTypes  = []string{AccountTypeBusiness, AccountTypePrivate}
	grounds       = []string{DecisionGroundIllegalContent, DecisionGroundIncompatibleContent}
	contentTypes  = []string{ContentTypeApp, ContentTypeAudio, ContentTypeImage, ContentTypeProduct, ContentTypeSyntheticMedia, ContentTypeText, ContentTypeVideo, ContentTypeOther}
	sourceTypes   = []string{SourceArticle16, SourceTrustedFlagger, SourceTypeOtherNotification, SourceVoluntary}
	automatedDecs = []string{AutomatedDecisionFully, AutomatedDecisionPartially, AutomatedDecisionNotAutomated}
	yesNo         = []string{Yes, No}
)

func isCategory(k string) bool {
	return slices.ContainsFunc(Categories, func(c Category) bool { return c.Key == k })
}

// Validate checks s against every rule of the database's
// StatementStoreRequest::rules(), returning Problems (all broken rules,
// each with its field) or nil.
//
// source_identity with SOURCE_VOLUNTARY is refused rather than silently
// dropped, so a caller never believes it sent something the database
// discards.
func (s *Statement) Validate() error {
	var ps Problems
	add := func(f, r string) { ps = append(ps, Problem{f, r}) }
	maxLen := func(f, v string, n int) {
		if len([]rune(v)) > n {
			add(f, "longer than "+itoa(n)+" characters")
		}
	}
	enum := func(f, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			add(f, "not one of the accepted values: "+v)
		}
	}
	requiredIff := func(f, v string, cond bool, why string) {
		if cond && v == "" {
			add(f, "required when "+why)
		}
		if !cond && v != "" {
			add(f, "only allowed when "+why)
		}
	}

	if len(s.DecisionVisibility) == 0 && s.DecisionMonetary == "" && s.DecisionProvision == "" && s.DecisionAccount == "" {
		add("decision_visibility", "at least one of decision_visibility, decision_monetary, decision_provision, decision_account is required")
	}
	for _, v := range s.DecisionVisibility {
		enum("decision_visibility", v, visibilities)
	}
	requiredIff("decision_visibility_other", s.DecisionVisibilityOther, slices.Contains(s.DecisionVisibility, DecisionVisibilityOther), "decision_visibility has DECISION_VISIBILITY_OTHER")
	maxLen("decision_visibility_other", s.DecisionVisibilityOther, 500)
	enum("decision_monetary", s.DecisionMonetary, monetaries)
	requiredIff("decision_monetary_other", s.DecisionMonetaryOther, s.DecisionMonetary == DecisionMonetaryOther, "decision_monetary is DECISION_MONETARY_OTHER")
	maxLen("decision_monetary_other", s.DecisionMonetaryOther, 500)
	enum("decision_provision", s.DecisionProvision, provisions)
	enum("decision_account", s.DecisionAccount, accounts)
	enum("account_type", s.AccountType, accountTypes)

	if s.DecisionGround == "" {
		add("decision_ground", "required")
	}
	enum("decision_ground", s.DecisionGround, grounds)
	if u := s.DecisionGroundReferenceURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add("decision_ground_reference_url", "not a URL")
		}
		maxLen("decision_ground_reference_url", u, 500)
	}
	ill := s.DecisionGround == DecisionGroundIllegalContent
	inc := s.DecisionGround == DecisionGroundIncompatibleContent
	requiredIff("illegal_content_legal_ground", s.IllegalContentLegalGround, ill, "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT")
	maxLen("illegal_content_legal_ground", s.IllegalContentLegalGround, 500)
	requiredIff("illegal_content_explanation", s.IllegalContentExplanation, ill, "decision_ground is DECISION_GROUND_ILLEGAL_CONTENT")
	maxLen("illegal_content_explanation", s.IllegalContentExplanation, 2000)
	requiredIff("incompatible_content_ground", s.IncompatibleContentGround, inc, "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT")
	maxLen("incompatible_content_ground", s.IncompatibleContentGround, 500)
	requiredIff("incompatible_content_explanation", s.IncompatibleContentExplanation, inc, "decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT")
	maxLen("incompatible_content_explanation", s.IncompatibleContentExplanation, 2000)
	if s.IncompatibleContentIllegal != "" && !inc {
		add("incompatible_content_illegal", "only allowed when decision_ground is DECISION_GROUND_INCOMPATIBLE_CONTENT")
	}
	enum("incompatible_content_illegal", s.IncompatibleContentIllegal, yesNo)

	if len(s.ContentType) == 0 {
		add("content_type", "required")
	}
	for _, v := range s.ContentType {
		enum("content_type", v, contentTypes)
	}
	requiredIff("content_type_other", s.ContentTypeOther, slices.Contains(s.ContentType, ContentTypeOther), "content_type has CONTENT_TYPE_OTHER")
	maxLen("content_type_other", s.ContentTypeOther, 500)

	if s.Category == "" {
		add("category", "required")
	} else if !isCategory(s.Category) {
		add("category", "not one of the accepted values: "+s.Category)
	}
	for _, v := range s.CategoryAddition {
		if !isCategory(v) {
			add("category_addition", "not one of the accepted values: "+v)
		}
	}
	for _, v := range s.CategorySpecification {
		enum("category_specification", v, Keywords)
	}
	maxLen("category_specification_other", s.CategorySpecificationOther, 500)

	if s.TerritorialScope == nil {
		add("territorial_scope", "required (always sent)")
	}
	for _, v := range s.TerritorialScope {
		enum("territorial_scope", v, EEA)
	}
	if s.ContentLanguage != "" && !langRe.MatchString(s.ContentLanguage) {
		add("content_language", "not an uppercase ISO 639-1 code")
	}

	date := func(f, v, min string, required bool) {
		if v == "" {
			if required {
				add(f, "required")
			}
			return
		}
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			add(f, "not a YYYY-MM-DD date")
			return
		}
		if v < min || v > "2038-01-01" {
			add(f, "outside "+min+"…2038-01-01")
		}
	}
	date("content_date", s.ContentDate, "2000-01-01", true)
	date("application_date", s.ApplicationDate, "2020-01-01", true)
	for f, v := range map[string]string{
		"end_date_account_restriction":    s.EndDateAccountRestriction,
		"end_date_monetary_restriction":   s.EndDateMonetaryRestriction,
		"end_date_service_restriction":    s.EndDateServiceRestriction,
		"end_date_visibility_restriction": s.EndDateVisibilityRestriction,
	} {
		min := "0000-01-01"
		if _, err := time.Parse(time.DateOnly, s.ApplicationDate); err == nil {
			min = s.ApplicationDate
		}
		date(f, v, min, false)
	}

	if s.DecisionFacts == "" {
		add("decision_facts", "required")
	}
	maxLen("decision_facts", s.DecisionFacts, 5000)
	if s.SourceType == "" {
		add("source_type", "required")
	}
	enum("source_type", s.SourceType, sourceTypes)
	if s.SourceType == SourceVoluntary && s.SourceIdentity != "" {
		add("source_identity", "not allowed with SOURCE_VOLUNTARY")
	}
	maxLen("source_identity", s.SourceIdentity, 500)
	if s.AutomatedDetection == "" {
		add("automated_detection", "required")
	}
	enum("automated_detection", s.AutomatedDetection, yesNo)
	if s.AutomatedDecision == "" {
		add("automated_decision", "required")
	}
	enum("automated_decision", s.AutomatedDecision, automatedDecs)
	if s.PUID == "" {
		add("puid", "required")
	} else if !puidRe.MatchString(s.PUID) {
		add("puid", "only letters, digits, - and _ allowed")
	}
	maxLen("puid", s.PUID, 500)
	for k, v := range s.ContentID {
		if k != "EAN-13" {
			add("content_id", "only the key EAN-13 is accepted: "+k)
		} else if !eanRe.MatchString(v) {
			add("content_id", "EAN-13 must be 13 digits")
		}
	}
	if ps == nil {
		return nil
	}
	slices.SortStableFunc(ps, func(a, b Problem) int { return strings.Compare(a.Field, b.Field) })
	return ps
}

func itoa(n int) string {
	switch n {
	case 500:
		return "500"
	case 2000:
		return "2000"
	}
	return "5000"
}

// ScopeEEA filters territories to the database's EEA codes, sorted and
// deduplicated; nil or empty (everywhere) gives all 30.
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
