package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podium-live/podium/internal/app"
	"github.com/podium-live/podium/internal/auth"
	"github.com/podium-live/podium/internal/config"
)

// TestTokenCommands: podium token rotate re-issues the operator
// credential in the data directory (the old one refused), revoke refuses a
// token given whole, host gives a new host link.
func TestTokenCommands(t *testing.T) {
	cfg := config.Default()
	cfg.Addr, cfg.DebugAddr, cfg.DataDir = "127.0.0.1:0", "", t.TempDir()
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	base := a.BaseURL()
	status := func(method, path, tok string) int {
		req, _ := http.NewRequest(method, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append(args[:1:1], append([]string{args[1], "--url", base, "--data", cfg.DataDir}, args[2:]...)...), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	op := a.OperatorToken()
	if code, out, errOut := run("token", "rotate", "--grace", "1h"); code != 0 || !strings.Contains(out, "accepted until") {
		t.Fatalf("rotate: exit %d, out %q, err %q", code, out, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(cfg.DataDir, "operator.token"))
	newOp := strings.TrimSpace(string(b))
	if newOp == op || newOp != a.OperatorToken() {
		t.Fatal("rotate did not write a new operator credential")
	}
	if st := status("GET", "/api/admin/status", op); st != http.StatusUnauthorized {
		t.Errorf("old operator credential after rotate: %d, want 401", st)
	}

	// A space to revoke and re-issue host tokens for.
	req, _ := http.NewRequest("POST", base+"/api/spaces", strings.NewReader(`{"title":"t"}`))
	req.Header.Set("Authorization", "Bearer "+newOp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sp struct {
		Space     struct{ ID string } `json:"space"`
		HostToken string              `json:"host_token"`
	}
	json.NewDecoder(resp.Body).Decode(&sp)
	resp.Body.Close()
	invites := "/api/spaces/" + sp.Space.ID + "/invites"

	code, out, errOut := run("token", "host", sp.Space.ID)
	if code != 0 || !strings.Contains(out, "/studio/"+sp.Space.ID+"#token=") {
		t.Fatalf("host: exit %d, out %q, err %q", code, out, errOut)
	}
	_, newHost, _ := strings.Cut(strings.TrimSpace(out), "#token=")
	if st := status("GET", invites, sp.HostToken); st != http.StatusUnauthorized {
		t.Errorf("host token replaced by 'token host': %d, want 401", st)
	}
	if st := status("GET", invites, newHost); st != http.StatusOK {
		t.Errorf("new host link's token: %d, want 200", st)
	}
	if code, out, errOut := run("token", "revoke", newHost); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: exit %d, out %q, err %q", code, out, errOut)
	}
	if st := status("GET", invites, newHost); st != http.StatusUnauthorized {
		t.Errorf("token after 'token revoke': %d, want 401", st)
	}
	c, _ := auth.ReadClaims(newOp)
	if code, _, errOut := run("token", "revoke", "--token", sp.HostToken, c.ID); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("revoke with a revoked host token: exit %d, err %q, want 401", code, errOut)
	}
	if code, _, _ := run("token", "frob"); code != 1 {
		t.Errorf("unknown token command: exit %d", code)
	}
}
