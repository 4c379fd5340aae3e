package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// setupSpace picks the space to load: --space, or a new one (--create)
// with one synthetic WHIP speaker, or the newest live space on the node.
// The cleanup ends what it created.
func (e *env) setupSpace(ctx context.Context) (func(), error) {
	api := e.node.JoinPath("api", "spaces").String()
	switch {
	case e.cfg.Create:
		if e.cfg.Token == "" {
			return nil, fmt.Errorf("loadtest: --create needs --token (the operator token)")
		}
		return e.createSpace(ctx, api)
	case e.cfg.Space != "":
		e.spaceID = e.cfg.Space
		var sp struct {
			State string `json:"state"`
		}
		if err := apiCall(ctx, http.MethodGet, api+"/"+e.spaceID, "", nil, &sp); err != nil {
			return nil, err
		}
		if sp.State != "live" {
			return nil, fmt.Errorf("loadtest: space %s is %s, not live", e.spaceID, sp.State)
		}
	default:
		var list struct {
			Spaces []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"spaces"`
		}
		if err := apiCall(ctx, http.MethodGet, api, "", nil, &list); err != nil {
			return nil, err
		}
		for _, s := range list.Spaces {
			if s.State == "live" {
				e.spaceID = s.ID
				break
			}
		}
		if e.spaceID == "" {
			return nil, fmt.Errorf("loadtest: no live space on %s: pass --space, or --create --token", e.node)
		}
	}
	return func() {}, nil
}

// createSpace creates and starts a space and puts two synthetic speakers
// on its stage over WHIP, talking (440 and 660 Hz) and each listening to
// the other, so there is live audio and a stage to measure (stage.go).
func (e *env) createSpace(ctx context.Context, api string) (func(), error) {
	var created struct {
		Space struct {
			ID string `json:"id"`
		} `json:"space"`
		HostToken string `json:"host_token"`
	}
	if err := apiCall(ctx, http.MethodPost, api, e.cfg.Token, map[string]any{"title": "podium loadtest: " + e.cfg.Scenario}, &created); err != nil {
		return nil, err
	}
	e.spaceID = created.Space.ID
	sp := api + "/" + e.spaceID
	host := created.HostToken
	// Recording is not what a load test measures; switch it off if the
	// node lets us (it only can before the space goes live).
	apiCall(ctx, http.MethodPatch, sp, host, map[string]any{"record": false}, nil)
	if err := apiCall(ctx, http.MethodPost, sp+"/start", host, nil, nil); err != nil {
		return nil, err
	}
	end := func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		apiCall(c, http.MethodPost, sp+"/end", host, nil, nil)
	}
	var leave func()
	var err error
	if bin := e.cfg.SpeakersBinary; bin != "" {
		e.stage.ears, leave, err = startSpeakerProcess(ctx, bin, sp+"/whip", host)
	} else {
		var ears []*ear
		ears, leave, err = dialSpeakers(ctx, sp+"/whip", host)
		for _, er := range ears {
			e.stage.ears = append(e.stage.ears, er)
		}
	}
	if err != nil {
		end()
		return nil, err
	}
	// Wait until the stream serves a playlist (the mixer needs a moment).
	pl := e.node.String() + e.playlistPath("")
	for i := 0; i < 100; i++ {
		resp, err := http.Get(pl)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			break
		}
	}
	return func() { leave(); end() }, nil
}

// apiCall does one JSON API request.
func apiCall(ctx context.Context, method, u, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: %s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("loadtest: %s %s: %d %s", method, u, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
