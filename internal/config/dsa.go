package config

// TransparencyDB configures submission of statements of reasons to the
// EU Transparency Database (DSA Art. 24(5)).
type TransparencyDB struct {
	// Enabled turns submission on.
	Enabled bool `json:"enabled"`
	// Endpoint is the database's base URL (sandbox or production).
	Endpoint string `json:"endpoint"`
	// TokenFile holds the bearer token; it must be owner-only.
	TokenFile string `json:"token_file"`
}
