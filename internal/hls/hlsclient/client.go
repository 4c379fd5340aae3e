// Package hlsclient is a small Low-Latency HLS player for Opus-in-fMP4
// streams, for end-to-end tests and the load tool. It behaves like a real
// low-latency player: it loads the playlist and the init segment once, then
// alternates blocking playlist reloads (_HLS_msn/_HLS_part) with fetches of
// each new part in order, and hands every Opus packet to a callback with its
// timestamp. It starts no goroutines.
package hlsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// maxBody bounds every response body read.
const maxBody = 16 << 20

// Player plays one LL-HLS media playlist. Set the fields, then call Play.
type Player struct {
	// HTTP is the client used for every request; nil means
	// http.DefaultClient.
	HTTP *http.Client
	// OnPacket receives every Opus packet in order with its presentation
	// time in the track's time scale (48000 ticks per second for Opus).
	// pkt is only valid during the call.
	OnPacket func(pkt []byte, pts int64)
	// StartBehind is how many parts before the newest listed part playback
	// starts (default 3, about PART-HOLD-BACK). Negative: start with the
	// oldest part the playlist lists.
	StartBehind int
	// MaxRetries bounds retries of one request after network errors, 5xx
	// and 429 (capped exponential backoff with full jitter, honouring
	// Retry-After). Default 5.
	MaxRetries int
	// OnMedia, if set, is called after each part (or segment) is played
	// with the duration of the new media it carried, so a caller can model
	// a playout buffer (the load tool measures stalls this way).
	OnMedia func(d time.Duration)
	// SkipParse, when OnPacket is nil, takes each part's duration from the
	// playlist instead of parsing its fMP4, and reads playlists with a
	// minimal parser (quick.go): a load generator's listeners need the
	// timing, not the audio, and parsing dominates their cost.
	SkipParse bool

	timeScale int64 // of the Opus track, from the init segment

	requests, bytes, parts, packets, retries, gaps atomic.Int64
}

// Stats are a Player's counters.
type Stats struct {
	Requests int64 // HTTP requests made, retries included
	Bytes    int64 // response body bytes read
	Parts    int64 // parts (or segments) fetched and parsed
	Packets  int64 // packets delivered
	Retries  int64 // requests retried
	Gaps     int64 // times the player fell out of the window and skipped ahead
}

// Stats returns the player's counters; safe to call while Play runs.
func (p *Player) Stats() Stats {
	return Stats{
		Requests: p.requests.Load(), Bytes: p.bytes.Load(), Parts: p.parts.Load(),
		Packets: p.packets.Load(), Retries: p.retries.Load(), Gaps: p.gaps.Load(),
	}
}

// Play plays playlistURL with hc until the playlist ends (nil) or ctx ends
// (ctx.Err()), calling onPacket for every Opus packet in order.
func Play(ctx context.Context, hc *http.Client, playlistURL string, onPacket func(pkt []byte, pts int64)) error {
	p := &Player{HTTP: hc, OnPacket: onPacket}
	return p.Play(ctx, playlistURL)
}

// pos names a part: segment msn, part index within it.
type pos struct{ msn, part int }

// Play runs the player until the playlist ends (nil), ctx ends (ctx.Err())
// or a request fails for good.
func (p *Player) Play(ctx context.Context, playlistURL string) error {
	base, err := url.Parse(playlistURL)
	if err != nil {
		return fmt.Errorf("hlsclient: playlist url: %w", err)
	}
	m, err := p.loadPlaylist(ctx, base, -1, 0)
	if err != nil {
		return err
	}
	if m.Map == nil {
		return errors.New("hlsclient: playlist has no EXT-X-MAP")
	}
	trackID, err := p.loadInit(ctx, resolve(base, m.Map.URI))
	if err != nil {
		return err
	}
	cur := p.startPos(m)
	next := int64(-1) // next expected pts; -1 before the first packet

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		seg, parts := find(m, cur.msn)
		switch {
		case cur.msn < m.MediaSequence:
			// Fell out of the window: skip to its oldest segment.
			p.gaps.Add(1)
			cur = pos{m.MediaSequence, 0}
		case parts != nil && cur.part < len(parts):
			body, status, err := p.get(ctx, resolve(base, parts[cur.part].URI))
			if err != nil {
				return err
			}
			if status == http.StatusNotFound {
				// The part left the origin's window: rejoin at the live edge.
				p.gaps.Add(1)
				if m, err = p.loadPlaylist(ctx, base, -1, 0); err != nil {
					return err
				}
				cur = p.startPos(m)
				continue
			}
			if status != http.StatusOK {
				return fmt.Errorf("hlsclient: part %d.%d: status %d", cur.msn, cur.part, status)
			}
			if p.SkipParse && p.OnPacket == nil {
				p.parts.Add(1)
				if p.OnMedia != nil {
					p.OnMedia(parts[cur.part].Duration)
				}
			} else if err := p.deliver(body, trackID, &next, false); err != nil {
				return fmt.Errorf("hlsclient: part %d.%d: %w", cur.msn, cur.part, err)
			}
			cur.part++
		case seg != nil && len(seg.Parts) == 0:
			// A complete segment whose parts are no longer listed: fetch
			// it whole, dropping what was already delivered.
			body, status, err := p.get(ctx, resolve(base, seg.URI))
			if err != nil {
				return err
			}
			if status == http.StatusNotFound {
				p.gaps.Add(1)
				cur = pos{cur.msn + 1, 0}
				continue
			}
			if status != http.StatusOK {
				return fmt.Errorf("hlsclient: segment %d: status %d", cur.msn, status)
			}
			if err := p.deliver(body, trackID, &next, true); err != nil {
				return fmt.Errorf("hlsclient: segment %d: %w", cur.msn, err)
			}
			cur = pos{cur.msn + 1, 0}
		case seg != nil:
			// Every listed part of this complete segment was played.
			cur = pos{cur.msn + 1, 0}
		case m.Endlist:
			return nil
		default:
			// Not produced yet: blocking reload until it is.
			if m, err = p.loadPlaylist(ctx, base, cur.msn, cur.part); err != nil {
				return err
			}
		}
	}
}

// find returns what playlist m knows of segment msn: the complete segment
// (nil if it is not complete or not listed) and the parts listed for it.
func find(m *playlist.Media, msn int) (*playlist.MediaSegment, []*playlist.MediaPart) {
	i := msn - m.MediaSequence
	switch {
	case i < 0 || i > len(m.Segments):
		return nil, nil
	case i == len(m.Segments):
		return nil, m.Parts
	default:
		return m.Segments[i], m.Segments[i].Parts
	}
}

// startPos picks the first part to play in m.
func (p *Player) startPos(m *playlist.Media) pos {
	var all []pos
	for i, seg := range m.Segments {
		for j := range seg.Parts {
			all = append(all, pos{m.MediaSequence + i, j})
		}
	}
	for j := range m.Parts {
		all = append(all, pos{m.MediaSequence + len(m.Segments), j})
	}
	if len(all) == 0 {
		// No parts listed: start with the newest segment.
		return pos{m.MediaSequence + max(len(m.Segments)-1, 0), 0}
	}
	behind := p.StartBehind
	if behind == 0 {
		behind = 3
	}
	if behind < 0 || behind >= len(all) {
		return all[0]
	}
	return all[len(all)-behind]
}

// deliver parses fragments and passes their samples of track trackID on.
// With dedup, samples before *next (already delivered) are dropped.
func (p *Player) deliver(body []byte, trackID int, next *int64, dedup bool) error {
	var parts fmp4.Parts
	if err := parts.Unmarshal(body); err != nil {
		return err
	}
	p.parts.Add(1)
	var ticks int64 // media delivered
	for _, part := range parts {
		for _, tr := range part.Tracks {
			if tr.ID != trackID {
				continue
			}
			pts := int64(tr.BaseTime)
			for _, s := range tr.Samples {
				if !dedup || *next < 0 || pts >= *next {
					p.packets.Add(1)
					if p.OnPacket != nil {
						p.OnPacket(s.Payload, pts)
					}
					*next = pts + int64(s.Duration)
					ticks += int64(s.Duration)
				}
				pts += int64(s.Duration)
			}
		}
	}
	if p.OnMedia != nil && p.timeScale > 0 {
		p.OnMedia(time.Duration(ticks) * time.Second / time.Duration(p.timeScale))
	}
	return nil
}

// loadInit fetches and checks the init segment, returning the Opus track id.
func (p *Player) loadInit(ctx context.Context, u string) (int, error) {
	body, status, err := p.get(ctx, u)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("hlsclient: init: status %d", status)
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(body)); err != nil {
		return 0, fmt.Errorf("hlsclient: init: %w", err)
	}
	for _, tr := range init.Tracks {
		if _, ok := tr.Codec.(*codecs.Opus); ok {
			p.timeScale = int64(tr.TimeScale)
			return tr.ID, nil
		}
	}
	return 0, errors.New("hlsclient: init has no Opus track")
}

// loadPlaylist fetches the media playlist; msn >= 0 makes it a blocking
// reload for part (msn, part).
func (p *Player) loadPlaylist(ctx context.Context, base *url.URL, msn, part int) (*playlist.Media, error) {
	u := *base
	if msn >= 0 {
		u.RawQuery = "_HLS_msn=" + strconv.Itoa(msn) + "&_HLS_part=" + strconv.Itoa(part)
	}
	body, status, err := p.get(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("hlsclient: playlist %s: status %d: %s", u.RequestURI(), status, bytes.TrimSpace(body))
	}
	if p.SkipParse && p.OnPacket == nil {
		if m, err := quickParse(body); err == nil {
			return m, nil
		}
	}
	pl, err := playlist.Unmarshal(body)
	if err != nil {
		return nil, fmt.Errorf("hlsclient: playlist: %w", err)
	}
	m, ok := pl.(*playlist.Media)
	if !ok {
		return nil, errors.New("hlsclient: not a media playlist")
	}
	return m, nil
}

// get fetches u, retrying network errors, 429 and 5xx. It returns the body
// and status of the final answer; other statuses are the caller's to judge.
func (p *Player) get(ctx context.Context, u string) ([]byte, int, error) {
	hc := p.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	maxRetries := p.MaxRetries
	if maxRetries == 0 {
		maxRetries = 5
	}
	for attempt := 0; ; attempt++ {
		body, status, retryAfter, err := p.getOnce(ctx, hc, u)
		retryable := err != nil || status == http.StatusTooManyRequests || status >= 500
		if !retryable {
			return body, status, nil
		}
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		if attempt >= maxRetries {
			if err != nil {
				return nil, 0, fmt.Errorf("hlsclient: get %s: %w", u, err)
			}
			return nil, 0, fmt.Errorf("hlsclient: get %s: status %d", u, status)
		}
		p.retries.Add(1)
		// Full jitter over a capped exponential backoff; never sooner than
		// the server's Retry-After.
		backoff := min(100*time.Millisecond<<attempt, 5*time.Second)
		d := max(time.Duration(rand.Int64N(int64(backoff))+1), retryAfter)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, 0, ctx.Err()
		case <-t.C:
		}
	}
}

func (p *Player) getOnce(ctx context.Context, hc *http.Client, u string) (body []byte, status int, retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	p.requests.Add(1)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, 0, 0, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	p.bytes.Add(int64(len(body)))
	if err != nil {
		return nil, 0, 0, err
	}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			retryAfter = time.Duration(n) * time.Second
		}
	}
	return body, resp.StatusCode, retryAfter, nil
}

// resolve resolves ref against the playlist URL.
func resolve(base *url.URL, ref string) string {
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return base.ResolveReference(r).String()
}
