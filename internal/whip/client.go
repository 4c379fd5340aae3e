// Package whip is a WHIP client: it publishes Opus audio to a podium stage
// from Go. The demo's synthetic speakers, the end-to-end tests and the load
// tool speak through it, exactly as a browser or OBS would.
package whip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/podium-live/podium/internal/codec"
)

// Options tune a client.
type Options struct {
	Name string
	// ListenSlots asks the server to forward up to this many other speakers.
	ListenSlots int
	// OnTrack is called for each forwarded track of another speaker.
	OnTrack func(*webrtc.TrackRemote)
	// HTTP is the client for signalling; nil = http.DefaultClient.
	HTTP *http.Client
}

// Client is one published WHIP session.
type Client struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticSample
	http  *http.Client
	token string
	// Location is the session URL the server returned.
	Location string
}

// Error is a non-2xx answer from the server.
type Error struct {
	Status int
	Body   string
}

func (e *Error) Error() string { return fmt.Sprintf("whip: server answered %d: %s", e.Status, e.Body) }

// Dial publishes to endpoint (a space's WHIP URL) with token.
func Dial(ctx context.Context, endpoint, token string, o Options) (*Client, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("whip: peer connection: %w", err)
	}
	c := &Client{pc: pc, http: o.HTTP, token: token}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	c.track, err = webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "podium")
	if err != nil {
		pc.Close()
		return nil, err
	}
	if _, err := pc.AddTransceiverFromTrack(c.track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		pc.Close()
		return nil, err
	}
	for i := 0; i < o.ListenSlots; i++ {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			pc.Close()
			return nil, err
		}
	}
	if o.OnTrack != nil {
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { o.OnTrack(t) })
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		pc.Close()
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		pc.Close()
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		pc.Close()
		return nil, ctx.Err()
	}
	u := endpoint
	if o.Name != "" {
		u += "?name=" + url.QueryEscape(o.Name)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewBufferString(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.http.Do(req)
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("whip: post offer: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		pc.Close()
		return nil, &Error{Status: resp.StatusCode, Body: string(body)}
	}
	loc, err := resp.Location()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("whip: answer without Location: %w", err)
	}
	c.Location = loc.String()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		pc.Close()
		return nil, fmt.Errorf("whip: set answer: %w", err)
	}
	return c, nil
}

// ID is the speaker id: the last element of the session URL.
func (c *Client) ID() string {
	u, err := url.Parse(c.Location)
	if err != nil {
		return ""
	}
	p := u.Path
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Connected waits until the peer connection is up.
func (c *Client) Connected(ctx context.Context) error {
	for {
		switch c.pc.ConnectionState() {
		case webrtc.PeerConnectionStateConnected:
			return nil
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			return errors.New("whip: connection failed")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WriteOpus sends one Opus packet lasting d.
func (c *Client) WriteOpus(pkt []byte, d time.Duration) error {
	return c.track.WriteSample(media.Sample{Data: pkt, Duration: d})
}

// Talk encodes frames from fill (one 20 ms frame of 960 samples per call)
// and sends them in real time until ctx ends.
func (c *Client) Talk(ctx context.Context, fill func(pcm []float32)) error {
	enc, err := codec.NewEncoder(0)
	if err != nil {
		return err
	}
	pcm := make([]float32, codec.FrameSamples)
	pkt := make([]byte, codec.MaxPacket)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		fill(pcm)
		n, err := enc.Encode(pcm, pkt)
		if err != nil {
			return err
		}
		if err := c.WriteOpus(pkt[:n], 20*time.Millisecond); err != nil {
			return err
		}
	}
}

// Leave ends the session on the server (DELETE) and closes the connection.
func (c *Client) Leave(ctx context.Context) error {
	defer c.pc.Close()
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, c.Location, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("whip: delete: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return &Error{Status: resp.StatusCode}
	}
	return nil
}

// Close drops the connection without telling the server (as a crashed or
// disconnected client would).
func (c *Client) Close() error { return c.pc.Close() }
