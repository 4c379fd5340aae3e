package app

import (
	"net/netip"

	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/geo"
	"github.com/podium-live/podium/internal/httpapi"
	"github.com/podium-live/podium/internal/policy"
)

// buildGeo makes the territory resolver join uses: the configured country
// header from the trusted proxies (their address as httpapi.Peer keeps it
// after RealIP), else the country database, else unknown.
func buildGeo(cfg config.Config) (*geo.Resolver, error) {
	var trusted []netip.Prefix
	for _, p := range cfg.TrustedProxies {
		trusted = append(trusted, netip.MustParsePrefix(p)) // validated with the config
	}
	return geo.New(geo.Config{Header: cfg.Geo.CountryHeader, Trusted: trusted, Database: cfg.Geo.Database, Peer: httpapi.Peer})
}

// testPolicies, when set (by a test, before New), replaces the policy
// source.
var testPolicies policy.Source
