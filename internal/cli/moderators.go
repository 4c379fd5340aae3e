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

const moderatorsUsage = `usage: podium moderators|flaggers add    [--url URL] [--data DIR | --token TOKEN] NAME
       podium moderators|flaggers list   [--url URL] [--data DIR | --token TOKEN]
       podium moderators|flaggers revoke [--url URL] [--data DIR | --token TOKEN] ID

add     registers a moderator (who decides cases) or a trusted flagger (whose
        notices go to the trusted lane) and prints their token once (it is
        not kept).
list    lists them, revoked ones included.
revoke  withdraws one: their token is refused from now on.

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
	return runRegistry(ctx, "moderators", "moderator", args, stdout, stderr)
}

func runFlaggers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runRegistry(ctx, "flaggers", "trusted flagger", args, stdout, stderr)
}

// runRegistry is podium moderators|flaggers: what names the command and
// the API path (/api/moderators, /api/flaggers), who the people in it.
func runRegistry(ctx context.Context, what, who string, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, moderatorsUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet(what+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := operatorFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch args[0] {
	case "add":
		if fs.NArg() != 1 {
			return fmt.Errorf("%s add: want one NAME (quote a name with spaces)", what)
		}
		var out moderatorOut
		if err := c.send(ctx, http.MethodPost, "/api/"+what, map[string]string{"name": fs.Arg(0)}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %s (%s) registered; their token (shown once, send it to them privately):\n%s\n", who, out.ID, out.Name, out.Token)
		return nil
	case "list":
		if fs.NArg() != 0 {
			return fmt.Errorf("%s list: unexpected argument %q", what, fs.Arg(0))
		}
		var out map[string][]moderatorOut
		if err := c.send(ctx, http.MethodGet, "/api/"+what, nil, &out); err != nil {
			return err
		}
		for _, m := range out[what] {
			state := "active"
			if m.Revoked != nil {
				state = "revoked " + m.Revoked.Local().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\tadded %s\t%s\n", m.ID, m.Name, m.Created.Local().Format(time.RFC3339), state)
		}
		return nil
	case "revoke":
		if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
			return fmt.Errorf("%s revoke: want one ID", what)
		}
		var out moderatorOut
		if err := c.send(ctx, http.MethodDelete, "/api/"+what+"/"+url.PathEscape(fs.Arg(0)), nil, &out); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked "+who, out.ID, "("+out.Name+"); their token is refused from now on")
		return nil
	}
	fmt.Fprint(stderr, moderatorsUsage)
	return fmt.Errorf("%s: unknown command %q", what, args[0])
}
