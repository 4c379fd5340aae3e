package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const moderatorsUsage = `usage: podium moderators add    [--url URL] [--data DIR | --token TOKEN] NAME
       podium moderators list   [--url URL] [--data DIR | --token TOKEN]
       podium moderators revoke [--url URL] [--data DIR | --token TOKEN] ID

add     registers a moderator and prints their token once (it is not kept).
list    lists moderators, revoked ones included.
revoke  withdraws a moderator: their token is refused from now on.

Talks to a running node's API with the operator credential (so that a
revocation reaches the node's memory at once), like podium token.
`

type moderatorOut struct {
	ID      string     `json:"id"`
	Name    string     `json:"name"`
	Created time.Time  `json:"created"`
	Revoked *time.Time `json:"revoked"`
	Token   string     `json:"token"`
}

func runModerators(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, moderatorsUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("moderators "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := operatorFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return fmt.Errorf("moderators: %w", err)
	}
	switch args[0] {
	case "add":
		if fs.NArg() != 1 {
			return fmt.Errorf("moderators add: want one NAME (quote a name with spaces)")
		}
		var out moderatorOut
		if err := c.send(ctx, http.MethodPost, "/api/moderators", map[string]string{"name": fs.Arg(0)}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "moderator %s (%s) registered; their token (shown once, send it to them privately):\n%s\n", out.ID, out.Name, out.Token)
		return nil
	case "list":
		if fs.NArg() != 0 {
			return fmt.Errorf("moderators list: unexpected argument %q", fs.Arg(0))
		}
		var out struct {
			Moderators []moderatorOut `json:"moderators"`
		}
		if err := c.send(ctx, http.MethodGet, "/api/moderators", nil, &out); err != nil {
			return err
		}
		for _, m := range out.Moderators {
			state := "active"
			if m.Revoked != nil {
				state = "revoked " + m.Revoked.Local().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\tadded %s\t%s\n", m.ID, m.Name, m.Created.Local().Format(time.RFC3339), state)
		}
		return nil
	case "revoke":
		if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
			return fmt.Errorf("moderators revoke: want one ID")
		}
		var out moderatorOut
		if err := c.send(ctx, http.MethodDelete, "/api/moderators/"+url.PathEscape(fs.Arg(0)), nil, &out); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked moderator", out.ID, "("+out.Name+"); their token is refused from now on")
		return nil
	}
	fmt.Fprint(stderr, moderatorsUsage)
	return fmt.Errorf("moderators: unknown command %q", args[0])
}
