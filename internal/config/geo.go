package config

import (
	"fmt"
	"os"
	"strings"
)

// Geo says how a listener's territory is resolved when they join.
type Geo struct {
	// CountryHeader is the header a trusted proxy or CDN sets to the
	// client's country (CF-IPCountry, X-Country-Code, …); believed only
	// from trusted_proxies. Empty: no header.
	CountryHeader string `json:"country_header"`
	// Database is a MaxMind-format country database (.mmdb) consulted when
	// no trusted header says; read at start. Empty: none.
	Database string `json:"database"`
	// UnknownTerritory is what a listener whose territory is unknown gets:
	// "strictest" (every restriction in force, the default) or
	// "permissive" (only restrictions in force everywhere).
	UnknownTerritory string `json:"unknown_territory"`
}

func (g Geo) validate() []error {
	var errs []error
	if h := g.CountryHeader; h != "" && strings.ContainsFunc(h, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		errs = append(errs, fmt.Errorf("geo.country_header %q: want a header name such as CF-IPCountry", h))
	}
	if g.Database != "" {
		if _, err := os.Stat(g.Database); err != nil {
			errs = append(errs, fmt.Errorf("geo.database %q: %w", g.Database, err))
		}
	}
	switch g.UnknownTerritory { // policy.ParseUnknownRule reads it
	case "", "strictest", "permissive":
	default:
		errs = append(errs, fmt.Errorf("geo.unknown_territory %q: want strictest or permissive", g.UnknownTerritory))
	}
	return errs
}
