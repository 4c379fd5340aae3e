// Package dsa is the EU Digital Services Act's Transparency Database
// contract (API v1, schema of 1 July 2025): the statement of reasons
// (Art. 17) as the database accepts it, its enumerations, and the rules a
// statement must pass (see ../shared/reference/DSA.md, Appendix A). Field
// names and enumeration keys are the database's, verbatim.
package dsa

// Statement is one statement of reasons in the database's JSON. Optional
// fields are omitted when empty; it carries no personal data
// (Art. 24(5)).
type Statement struct {
	DecisionVisibility      []string `json:"decision_visibility,omitempty"`
	DecisionVisibilityOther string   `json:"decision_visibility_other,omitempty"`
	DecisionMonetary        string   `json:"decision_monetary,omitempty"`
	DecisionMonetaryOther   string   `json:"decision_monetary_other,omitempty"`
	DecisionProvision       string   `json:"decision_provision,omitempty"`
	DecisionAccount         string   `json:"decision_account,omitempty"`
	AccountType             string   `json:"account_type,omitempty"`

	DecisionGround                 string `json:"decision_ground"`
	DecisionGroundReferenceURL     string `json:"decision_ground_reference_url,omitempty"`
	IllegalContentLegalGround      string `json:"illegal_content_legal_ground,omitempty"`
	IllegalContentExplanation      string `json:"illegal_content_explanation,omitempty"`
	IncompatibleContentGround      string `json:"incompatible_content_ground,omitempty"`
	IncompatibleContentExplanation string `json:"incompatible_content_explanation,omitempty"`
	IncompatibleContentIllegal     string `json:"incompatible_content_illegal,omitempty"` // "Yes" or "No"

	ContentType      []string `json:"content_type"`
	ContentTypeOther string   `json:"content_type_other,omitempty"`

	Category                   string   `json:"category"`
	CategoryAddition           []string `json:"category_addition,omitempty"`
	CategorySpecification      []string `json:"category_specification,omitempty"`
	CategorySpecificationOther string   `json:"category_specification_other,omitempty"`

	// TerritorialScope is always sent (EEA codes, sorted).
	TerritorialScope []string `json:"territorial_scope"`
	ContentLanguage  string   `json:"content_language,omitempty"`

	ContentDate                  string `json:"content_date"`     // YYYY-MM-DD
	ApplicationDate              string `json:"application_date"` // YYYY-MM-DD
	EndDateAccountRestriction    string `json:"end_date_account_restriction,omitempty"`
	EndDateMonetaryRestriction   string `json:"end_date_monetary_restriction,omitempty"`
	EndDateServiceRestriction    string `json:"end_date_service_restriction,omitempty"`
	EndDateVisibilityRestriction string `json:"end_date_visibility_restriction,omitempty"`

	DecisionFacts      string `json:"decision_facts"`
	SourceType         string `json:"source_type"`
	SourceIdentity     string `json:"source_identity,omitempty"`
	AutomatedDetection string `json:"automated_detection"` // "Yes" or "No"
	AutomatedDecision  string `json:"automated_decision"`
	PUID               string `json:"puid"`
	// ContentID identifies the content; only the key "EAN-13" is accepted.
	ContentID map[string]string `json:"content_id,omitempty"`
}

// decision_visibility
const (
	DecisionVisibilityContentRemoved          = "DECISION_VISIBILITY_CONTENT_REMOVED"
	DecisionVisibilityContentDisabled         = "DECISION_VISIBILITY_CONTENT_DISABLED"
	DecisionVisibilityContentDemoted          = "DECISION_VISIBILITY_CONTENT_DEMOTED"
	DecisionVisibilityContentAgeRestricted    = "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED"
	DecisionVisibilityContentInteractionRestr = "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED"
	DecisionVisibilityContentLabelled         = "DECISION_VISIBILITY_CONTENT_LABELLED"
	DecisionVisibilityOther                   = "DECISION_VISIBILITY_OTHER"
)

// decision_monetary
const (
	DecisionMonetarySuspension  = "DECISION_MONETARY_SUSPENSION"
	DecisionMonetaryTermination = "DECISION_MONETARY_TERMINATION"
	DecisionMonetaryOther       = "DECISION_MONETARY_OTHER"
)

// decision_provision
const (
	DecisionProvisionPartialSuspension  = "DECISION_PROVISION_PARTIAL_SUSPENSION"
	DecisionProvisionTotalSuspension    = "DECISION_PROVISION_TOTAL_SUSPENSION"
	DecisionProvisionPartialTermination = "DECISION_PROVISION_PARTIAL_TERMINATION"
	DecisionProvisionTotalTermination   = "DECISION_PROVISION_TOTAL_TERMINATION"
)

// decision_account, account_type
const (
	DecisionAccountSuspended  = "DECISION_ACCOUNT_SUSPENDED"
	DecisionAccountTerminated = "DECISION_ACCOUNT_TERMINATED"
	AccountTypeBusiness       = "ACCOUNT_TYPE_BUSINESS"
	AccountTypePrivate        = "ACCOUNT_TYPE_PRIVATE"
)

// decision_ground
const (
	DecisionGroundIllegalContent      = "DECISION_GROUND_ILLEGAL_CONTENT"
	DecisionGroundIncompatibleContent = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
)

// content_type
const (
	ContentTypeApp            = "CONTENT_TYPE_APP"
	ContentTypeAudio          = "CONTENT_TYPE_AUDIO"
	ContentTypeImage          = "CONTENT_TYPE_IMAGE"
	ContentTypeProduct        = "CONTENT_TYPE_PRODUCT"
	ContentTypeSyntheticMedia = "CONTENT_TYPE_SYNTHETIC_MEDIA"
	ContentTypeText           = "CONTENT_TYPE_TEXT"
	ContentTypeVideo          = "CONTENT_TYPE_VIDEO"
	ContentTypeOther          = "CONTENT_TYPE_OTHER"
)

// source_type
const (
	SourceArticle16             = "SOURCE_ARTICLE_16"
	SourceTrustedFlagger        = "SOURCE_TRUSTED_FLAGGER"
	SourceTypeOtherNotification = "SOURCE_TYPE_OTHER_NOTIFICATION"
	SourceVoluntary             = "SOURCE_VOLUNTARY"
)

// automated_decision; automated_detection is "Yes" or "No".
const (
	AutomatedDecisionFully        = "AUTOMATED_DECISION_FULLY"
	AutomatedDecisionPartially    = "AUTOMATED_DECISION_PARTIALLY"
	AutomatedDecisionNotAutomated = "AUTOMATED_DECISION_NOT_AUTOMATED"
	Yes                           = "Yes"
	No                            = "No"
)

// Category is a key of the database's category enumeration with its label.
type Category struct{ Key, Label string }

// Categories are the 16 statement categories (category, category_addition).
var Categories = []Category{
	{"STATEMENT_CATEGORY_ANIMAL_WELFARE", "Animal welfare"},
	{"STATEMENT_CATEGORY_CONSUMER_INFORMATION", "Consumer information infringements"},
	{"STATEMENT_CATEGORY_CYBER_VIOLENCE", "Cyber violence"},
	{"STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", "Cyber violence against women"},
	{"STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "Data protection and privacy violations"},
	{"STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", "Illegal or harmful speech"},
	{"STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS", "Intellectual property infringements"},
	{"STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "Negative effects on civic discourse or elections"},
	{"STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE", "Type of alleged illegal content not specified by the notifier"},
	{"STATEMENT_CATEGORY_OTHER_VIOLATION_TC", "Other violation of provider’s terms and conditions"},
	{"STATEMENT_CATEGORY_PROTECTION_OF_MINORS", "Protection of minors"},
	{"STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "Risk for public security"},
	{"STATEMENT_CATEGORY_SCAMS_AND_FRAUD", "Scams and/or fraud"},
	{"STATEMENT_CATEGORY_SELF_HARM", "Self-harm"},
	{"STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", "Unsafe and/or prohibited products"},
	{"STATEMENT_CATEGORY_VIOLENCE", "Violence"},
}

// Keywords are the category_specification keys the database accepts
// (KEYWORD_DANGEROUS_TOYS is defined there but no longer accepted).
var Keywords = []string{
	"KEYWORD_ADULT_SEXUAL_MATERIAL", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS", "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
	"KEYWORD_ANIMAL_HARM", "KEYWORD_BIOMETRIC_DATA_BREACH", "KEYWORD_BULLYING_AGAINST_GIRLS",
	"KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL", "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
	"KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS", "KEYWORD_COORDINATED_HARM", "KEYWORD_COPYRIGHT_INFRINGEMENT",
	"KEYWORD_CYBER_BULLYING_INTIMIDATION", "KEYWORD_CYBER_HARASSMENT", "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
	"KEYWORD_CYBER_INCITEMENT", "KEYWORD_CYBER_STALKING", "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
	"KEYWORD_DATA_FALSIFICATION", "KEYWORD_DEFAMATION", "KEYWORD_DESIGN_INFRINGEMENT", "KEYWORD_DISCRIMINATION",
	"KEYWORD_FEMALE_GENDERED_DISINFORMATION", "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
	"KEYWORD_GEOGRAPHICAL_REQUIREMENTS", "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
	"KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS", "KEYWORD_HATE_SPEECH", "KEYWORD_HIDDEN_ADVERTISEMENT",
	"KEYWORD_HUMAN_EXPLOITATION", "KEYWORD_HUMAN_TRAFFICKING", "KEYWORD_ILLEGAL_ORGANIZATIONS",
	"KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING", "KEYWORD_INAUTHENTIC_ACCOUNTS", "KEYWORD_INAUTHENTIC_LISTINGS",
	"KEYWORD_INAUTHENTIC_USER_REVIEWS", "KEYWORD_INCITEMENT_AGAINST_WOMEN", "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
	"KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS", "KEYWORD_LANGUAGE_REQUIREMENTS",
	"KEYWORD_MISINFORMATION_DISINFORMATION", "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
	"KEYWORD_MISLEADING_INFO_GOODS_SERVICES", "KEYWORD_MISSING_PROCESSING_GROUND",
	"KEYWORD_NON_CONSENSUAL_IMAGE_SHARING", "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
	"KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE", "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
	"KEYWORD_NONCOMPLIANCE_PRICING", "KEYWORD_NUDITY", "KEYWORD_PATENT_INFRINGEMENT", "KEYWORD_PHISHING",
	"KEYWORD_PROHIBITED_PRODUCTS", "KEYWORD_PYRAMID_SCHEMES", "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
	"KEYWORD_RISK_ENVIRONMENTAL_DAMAGE", "KEYWORD_RISK_PUBLIC_HEALTH", "KEYWORD_SELF_MUTILATION",
	"KEYWORD_STALKING", "KEYWORD_SUICIDE", "KEYWORD_TERRORIST_CONTENT", "KEYWORD_TRADE_SECRET_INFRINGEMENT",
	"KEYWORD_TRADEMARK_INFRINGEMENT", "KEYWORD_TRAFFICKING_WOMEN_GIRLS", "KEYWORD_UNLAWFUL_SALE_ANIMALS",
	"KEYWORD_UNSAFE_CHALLENGES", "KEYWORD_UNSAFE_PRODUCTS", "KEYWORD_VIOLATION_EU_LAW",
	"KEYWORD_VIOLATION_NATIONAL_LAW", "KEYWORD_OTHER",
}

// EEA is the territorial_scope list (30 codes; Greece is GR).
var EEA = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
	"IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
}
