package app

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/podium-live/podium/internal/config"
	"github.com/podium-live/podium/internal/dsa"
	"github.com/podium-live/podium/internal/moderation"
	"github.com/podium-live/podium/internal/store"
)

// newSubmitter builds the Transparency Database submitter over the store's
// outbox, or nil when submission is disabled. The token is read from an
// owner-only file and never logged. Every outcome (a statement stored by
// the database, or rejected by it) is an event of the moderation log.
func newSubmitter(c config.TransparencyDB, st *store.SQLite, a *App, journal *moderation.Log) (*dsa.Submitter, error) {
	if !c.Enabled {
		return nil, nil
	}
	if c.Endpoint == "" || c.TokenFile == "" {
		return nil, fmt.Errorf("app: transparency_db: endpoint and token_file are required when enabled")
	}
	fi, err := os.Stat(c.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("app: transparency_db token_file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("app: transparency_db token_file %s must be owner-only (chmod 600)", c.TokenFile)
	}
	b, err := os.ReadFile(c.TokenFile)
	if err != nil {
		return nil, fmt.Errorf("app: transparency_db token_file: %w", err)
	}
	onResult := func(puid, outcome string) {
		if err := journal.Append(context.Background(), eventSubmission, "", puid, map[string]string{"outcome": outcome}); err != nil {
			a.log.Error("moderation log: submission not recorded", "puid", puid, "err", err)
		}
	}
	return dsa.NewSubmitter(dsa.SubmitterConfig{Endpoint: c.Endpoint, Token: strings.TrimSpace(string(b)), Log: a.log, OnResult: onResult}, st), nil
}

// eventSubmission is the moderation log's kind for a statement's
// submission to the Transparency Database.
const eventSubmission = "submission"
