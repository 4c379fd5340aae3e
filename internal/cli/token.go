package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podium-live/podium/internal/auth"
)

const tokenUsage = `usage: podium token rotate [--url URL] [--data DIR | --token TOKEN] [--grace 24h]
       podium token revoke [--url URL] [--data DIR | --token TOKEN] ID|TOKEN
       podium token host   [--url URL] [--data DIR | --token TOKEN] SPACE_ID

rotate  makes a new signing key current on the node. Tokens signed with the
        old key keep working for --grace (0: refused at once, for a leaked
        key), then are refused. The operator credential is re-issued with
        the new key and written to the node's operator.token.
revoke  refuses one token from now on, named by its id or given whole.
host    gives a space a new host link; the previous host token stops working.

Talks to a running node's API with the operator credential (read from
DIR/operator.token unless --token or PODIUM_TOKEN gives it).
`

// operatorFlags adds the flags that reach a node as its operator and
// returns the function that makes the client once they are parsed.
func operatorFlags(fs *flag.FlagSet) func() (apiClient, error) {
	base := fs.String("url", "http://127.0.0.1:8080", "the node's base URL")
	data := fs.String("data", "podium-data", "the node's data directory (for the operator credential)")
	tok := fs.String("token", os.Getenv("PODIUM_TOKEN"), "operator credential")
	return func() (apiClient, error) {
		c := apiClient{base: strings.TrimSuffix(*base, "/"), token: *tok}
		if c.token == "" {
			b, err := os.ReadFile(filepath.Join(*data, "operator.token"))
			if err != nil {
				return c, fmt.Errorf("no operator credential: %w (use --token or --data)", err)
			}
			c.token = strings.TrimSpace(string(b))
		}
		return c, nil
	}
}

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokenUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := operatorFlags(fs)
	grace := fs.Duration("grace", 24*time.Hour, "rotate: how long tokens of the old key stay valid")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	switch args[0] {
	case "rotate":
		if fs.NArg() != 0 {
			return fmt.Errorf("token rotate: unexpected argument %q", fs.Arg(0))
		}
		if *grace < 0 {
			return fmt.Errorf("token rotate: --grace must not be negative")
		}
		var out struct {
			OperatorToken string    `json:"operator_token"`
			Until         time.Time `json:"old_keys_accepted_until"`
		}
		if err := c.send(ctx, http.MethodPost, "/api/tokens/rotate", map[string]int64{"grace_seconds": int64(grace.Seconds())}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new signing key is current; tokens of the old key are accepted until %s\n", out.Until.Local().Format(time.RFC3339))
		fmt.Fprintln(stdout, "the operator credential was re-issued and written to the node's operator.token (the old one is refused)")
		return nil
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("token revoke: want one ID or TOKEN")
		}
		id := fs.Arg(0)
		if strings.Contains(id, ".") {
			cl, err := auth.ReadClaims(id)
			if err != nil || cl.ID == "" {
				return fmt.Errorf("token revoke: this token carries no id (issued before token ids: rotate the key instead)")
			}
			id = cl.ID
		}
		if err := c.send(ctx, http.MethodDelete, "/api/tokens/"+id, nil, nil); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked token", id)
		return nil
	case "host":
		if fs.NArg() != 1 {
			return fmt.Errorf("token host: want one SPACE_ID")
		}
		var out struct {
			HostURL   string    `json:"host_url"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		if err := c.send(ctx, http.MethodPost, "/api/spaces/"+fs.Arg(0)+"/host-token", nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new host link (the previous host token is revoked; valid until %s):\n%s\n", out.ExpiresAt.Local().Format(time.RFC3339), out.HostURL)
		return nil
	}
	fmt.Fprint(stderr, tokenUsage)
	return fmt.Errorf("token: unknown command %q", args[0])
}

// send does one request with in (if not nil) as its JSON body.
func (c apiClient) send(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	return c.request(ctx, method, path, body, out)
}
