// Package demo runs podium's built-in demonstration: a live space in which
// two synthetic speakers talk in turns. They speak over WHIP through the
// public API, exactly as real speakers do.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/podium-live/podium/internal/whip"
)

// Space is the demo space as created.
type Space struct {
	ID          string
	ListenerURL string
	HostURL     string
	HostToken   string
}

// Run creates and starts the demo space on the node at base (using the
// operator token) and keeps its two speakers talking until ctx ends; then
// it ends the space. ready is called once the space is live.
func Run(ctx context.Context, base, operatorToken string, log *slog.Logger, ready func(Space)) error {
	var created struct {
		Space struct {
			ID          string `json:"id"`
			ListenerURL string `json:"listener_url"`
		} `json:"space"`
		HostToken string `json:"host_token"`
		HostURL   string `json:"host_url"`
	}
	err := call(ctx, http.MethodPost, base+"/api/spaces", operatorToken, map[string]any{
		"title":       "podium demo: two voices",
		"description": "Two synthetic speakers talk in turns. Watch who is speaking change.",
	}, &created)
	if err != nil {
		return err
	}
	sp := Space{ID: created.Space.ID, ListenerURL: created.Space.ListenerURL, HostURL: created.HostURL, HostToken: created.HostToken}
	api := base + "/api/spaces/" + sp.ID
	if err := call(ctx, http.MethodPost, api+"/start", sp.HostToken, nil, nil); err != nil {
		return err
	}
	defer func() {
		ectx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		call(ectx, http.MethodPost, api+"/end", sp.HostToken, nil, nil)
	}()
	voices := voices()
	errc := make(chan error, len(voices))
	for _, v := range voices {
		var inv struct {
			Token string `json:"token"`
		}
		if err := call(ctx, http.MethodPost, api+"/invites", sp.HostToken, map[string]any{"name": v.name}, &inv); err != nil {
			return err
		}
		c, err := whip.Dial(ctx, api+"/whip", inv.Token, whip.Options{Name: v.name})
		if err != nil {
			return fmt.Errorf("demo: %s joins: %w", v.name, err)
		}
		defer c.Leave(context.Background())
		go func() { errc <- c.Talk(ctx, v.voice.Fill) }()
	}
	if ready != nil {
		ready(sp)
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("demo: speaker stopped: %w", err)
	}
}

// call does one JSON API request.
func call(ctx context.Context, method, url, token string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("demo: %s %s: %d %s", method, url, resp.StatusCode, e.Error)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// namedVoice is one of the demo's speakers.
type namedVoice struct {
	name  string
	voice *Voice
}

// voices are the demo's two speakers, taking turns.
func voices() []namedVoice {
	return []namedVoice{
		{"Alto", &Voice{Pitches: []float64{523, 587, 659, 587, 784, 659}, Harmonics: []float64{0.3, 0.1}, Turn: 0, Turns: 2, Phrase: 3 * time.Second, Pause: 700 * time.Millisecond, Amplitude: 0.35}},
		{"Basso", &Voice{Pitches: []float64{196, 220, 247, 220, 175}, Harmonics: []float64{0.5, 0.3, 0.2}, Turn: 1, Turns: 2, Phrase: 3 * time.Second, Pause: 700 * time.Millisecond, Amplitude: 0.3}},
	}
}
