package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/podium-live/podium/internal/codec"
	"github.com/podium-live/podium/internal/tone"
	"github.com/podium-live/podium/internal/whip"
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
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var speakers []*whip.Client
	leave := func() {
		stop()
		wg.Wait()
		lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, c := range speakers {
			c.Leave(lctx)
		}
		end()
	}
	for i, freq := range []float64{440, 660} {
		er := &ear{}
		c, err := whip.Dial(dctx, sp+"/whip", host, whip.Options{
			Name: fmt.Sprintf("loadtest speaker %d", i+1), ListenSlots: 1,
			OnTrack: func(tr *webrtc.TrackRemote) { go er.listen(tr) },
		})
		if err == nil {
			speakers = append(speakers, c)
			err = c.Connected(dctx)
		}
		if err != nil {
			leave()
			return nil, fmt.Errorf("loadtest: synthetic speaker: %w", err)
		}
		e.stage.ears = append(e.stage.ears, er)
		sine := &tone.Sine{Freq: freq, Amplitude: 0.3, Rate: codec.SampleRate}
		wg.Add(1)
		go func() { defer wg.Done(); c.Talk(tctx, sine.Fill) }()
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
	return leave, nil
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
