package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"text/tabwriter"
	"time"
)

const recordingsUsage = `usage: podium recordings list   [--url URL] [--data DIR | --token TOKEN]
       podium recordings delete [--url URL] [--data DIR | --token TOKEN] SPACE_ID

Talks to a running node's API with the operator credential (read from
DIR/operator.token unless --token or PODIUM_TOKEN gives it).
`

func runRecordings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, recordingsUsage)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("recordings "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := operatorFlags(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	c, err := client()
	if err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	switch args[0] {
	case "list":
		var out struct {
			Recordings []struct {
				SpaceID    string     `json:"space_id"`
				Title      string     `json:"title"`
				State      string     `json:"state"`
				DurationMS int64      `json:"duration_ms"`
				SizeBytes  int64      `json:"size_bytes"`
				Published  bool       `json:"published"`
				PublishAt  *time.Time `json:"publish_at"`
				DeletedBy  string     `json:"deleted_by"`
			} `json:"recordings"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/recordings", &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SPACE\tSTATE\tDURATION\tSIZE\tPUBLIC\tTITLE")
		for _, r := range out.Recordings {
			pub := "no"
			switch {
			case r.Published:
				pub = "yes"
			case r.PublishAt != nil:
				pub = "at " + r.PublishAt.Format(time.RFC3339)
			case r.DeletedBy != "":
				pub = "deleted by " + r.DeletedBy
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f MB\t%s\t%s\n", r.SpaceID, r.State,
				(time.Duration(r.DurationMS) * time.Millisecond).Round(time.Second), float64(r.SizeBytes)/1e6, pub, r.Title)
		}
		return tw.Flush()
	case "delete":
		if fs.NArg() != 1 {
			return fmt.Errorf("recordings delete: want one SPACE_ID")
		}
		if err := c.do(ctx, http.MethodDelete, "/api/spaces/"+fs.Arg(0)+"/recording", nil); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "deleted the recording of", fs.Arg(0))
		return nil
	}
	fmt.Fprint(stderr, recordingsUsage)
	return fmt.Errorf("recordings: unknown command %q", args[0])
}

type apiClient struct{ base, token string }

func (c apiClient) do(ctx context.Context, method, path string, out any) error {
	return c.request(ctx, method, path, nil, out)
}

func (c apiClient) request(ctx context.Context, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, e.Error)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
