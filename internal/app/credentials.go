package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

// credentials are the node's token signer and the operator credential
// file (<data>/operator.token). They implement httpapi.Credentials.
//
// Concurrency: mu guards operator and serializes writing the file.
type credentials struct {
	signer *auth.Signer
	path   string
	log    *slog.Logger

	mu       sync.Mutex
	operator string
}

// renewBefore: an operator token this close to its expiry is re-issued at
// start.
const renewBefore = 30 * 24 * time.Hour

// loadOperator reads the operator credential, or writes a fresh one (with
// a new token id, revoking the previous operator token) when the file is
// missing, invalid, revoked or near its expiry.
func (c *credentials) loadOperator(ctx context.Context) error {
	if err := ownerOnlyFile(c.path); err != nil {
		return err
	}
	b, err := os.ReadFile(c.path)
	switch {
	case err == nil:
		tok := strings.TrimSpace(string(b))
		cl, err := c.signer.Verify(tok)
		if err == nil && cl.Role == auth.RoleOperator && cl.Expires != 0 && time.Until(time.Unix(cl.Expires, 0)) > renewBefore {
			c.mu.Lock()
			c.operator = tok
			c.mu.Unlock()
			return nil
		}
		c.log.Warn("operator token file is not valid (or expires soon); writing a new one", "path", c.path)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("app: read operator token: %w", err)
	}
	if err := c.issueOperator(ctx); err != nil {
		return err
	}
	c.log.Info("created operator credential", "path", c.path)
	return nil
}

// issueOperator makes a new operator token (the previous one is revoked)
// and writes it to the file, owner-only, replacing the file atomically.
func (c *credentials) issueOperator(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, err := c.signer.Issue(ctx, auth.OperatorSlot, auth.Claims{Role: auth.RoleOperator, Expires: time.Now().Add(auth.OperatorTTL).Unix()})
	if err != nil {
		return fmt.Errorf("app: operator token: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".operator.token-*")
	if err != nil {
		return fmt.Errorf("app: write operator token: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 whatever the umask.
	_, err = tmp.WriteString(tok + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.path)
	}
	if err != nil {
		return fmt.Errorf("app: write operator token: %w", err)
	}
	c.operator = tok
	return nil
}

// Operator is the operator credential now.
func (c *credentials) Operator() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.operator
}

// Verify checks a token (httpapi.Credentials).
func (c *credentials) Verify(tok string) (auth.Claims, error) { return c.signer.Verify(tok) }

// Rotate makes a new signing key current, old keys accepted for grace,
// and re-issues the operator credential with the new key.
func (c *credentials) Rotate(ctx context.Context, grace time.Duration) (string, error) {
	kid, err := c.signer.Rotate(ctx, grace)
	if err != nil {
		return "", err
	}
	if err := c.issueOperator(ctx); err != nil {
		return "", err
	}
	c.log.Warn("signing key rotated; the operator credential was re-issued", "key", kid, "grace", grace.String(), "path", c.path)
	return c.Operator(), nil
}

// Revoke refuses the token with id until the longest a token lives.
func (c *credentials) Revoke(ctx context.Context, id string) error {
	return c.signer.Revoke(ctx, id, time.Time{})
}

// HostToken issues a new host token for spaceID, revoking the previous.
func (c *credentials) HostToken(ctx context.Context, spaceID string) (string, time.Time, error) {
	exp := time.Now().Add(auth.HostTTL).Truncate(time.Second)
	tok, err := c.signer.Issue(ctx, auth.HostSlot(spaceID), auth.Claims{Role: auth.RoleHost, Space: spaceID, Expires: exp.Unix()})
	return tok, exp, err
}

// Preview signs a read-only token for spaceID's replay, valid for ttl.
func (c *credentials) Preview(spaceID string, ttl time.Duration) string {
	return c.signer.Sign(auth.Claims{Role: auth.RolePreview, Space: spaceID, Expires: time.Now().Add(ttl).Unix()})
}

// ownerOnlyFile takes group and other permissions off path if it exists.
func ownerOnlyFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("app: make %s owner-only: %w", path, err)
		}
	}
	return nil
}

// checkDataDir warns when the data directory is open to other users: its
// files are owner-only, but names and new files' fate depend on it.
func checkDataDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("app: data dir: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		log.Warn(fmt.Sprintf("data directory %s is open to other users (mode %o); it holds the signing keys and recordings: run chmod 700 %s", dir, m, dir),
			"path", dir)
	}
	return nil
}
