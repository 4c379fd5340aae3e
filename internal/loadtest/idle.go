// Package loadtest drives a podium node the way its users do, from many
// loopback source addresses, and measures what it costs the server. Targets
// are loopback only; every run is bounded in connections and time.
package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// IdleConfig describes an idle-listener run.
type IdleConfig struct {
	// URL is fetched once on each connection (e.g. a part); then the
	// connection stays open and silent, as a player's does between requests.
	URL string
	// Conns is how many connections to hold (at most 8000).
	Conns int
	// Hold is how long to hold them while measuring.
	Hold time.Duration
	// PID is the server process to measure.
	PID int
}

// IdleResult is what holding idle connections cost the server.
type IdleResult struct {
	Conns        int
	Before, Open ProcSample // before connecting; all connected
	After        ProcSample // at the end of the hold
	BaseCPU      time.Duration
}

// Source returns the i-th client source address: one /24 per 250 clients,
// spread over 127.1.0.0/16 and up.
func Source(i int) net.IP {
	return net.IPv4(127, byte(1+i/62500), byte(i/250%250), byte(1+i%250))
}

// ListenerSource is the source address of simulated listener i. A real
// audience comes from many networks, so consecutive listeners are spread
// over 250 /24s (127.4.0.0/16, then 127.5.0.0/16 past 62,500), apart from
// the blocks Source uses for probes, junk, slow clients and reloads, which
// come concentrated from few networks as attackers' do.
func ListenerSource(i int) net.IP {
	return net.IPv4(127, byte(4+i/62500), byte(i%250), byte(1+i/250%250))
}

// JoinerSource is the source address of the i-th one-off joiner (capacity
// probes): spread over the 250 /24s of 127.3.0.0/16, like newcomers from
// many networks.
func JoinerSource(i int) net.IP {
	return net.IPv4(127, 3, byte(i%250), byte(1+i/250%250))
}

func checkLoopback(u *url.URL) error {
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("loadtest: target %q is not a loopback address; podium's load tool only targets this machine", host)
}

// Idle opens cfg.Conns keep-alive connections, fetches cfg.URL on each, and
// holds them idle for cfg.Hold, measuring the server's CPU and memory.
func Idle(ctx context.Context, cfg IdleConfig) (IdleResult, error) {
	var res IdleResult
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return res, err
	}
	if err := checkLoopback(u); err != nil {
		return res, err
	}
	if cfg.Conns <= 0 || cfg.Conns > 8000 {
		return res, errors.New("loadtest: conns must be 1..8000")
	}
	if cfg.Hold <= 0 || cfg.Hold > 5*time.Minute {
		return res, errors.New("loadtest: hold must be in (0, 5m]")
	}
	// Baseline: the server's own CPU over the same time, with no listener.
	b0, err := SampleProc(cfg.PID)
	if err != nil {
		return res, err
	}
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.Before, _ = SampleProc(cfg.PID)
	res.BaseCPU = res.Before.CPU - b0.CPU

	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	req := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: podium-loadtest\r\n\r\n")
	conns := make([]net.Conn, 0, cfg.Conns)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	sem := make(chan struct{}, 64)
	for i := 0; i < cfg.Conns; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: Source(i)}, Timeout: 5 * time.Second}
			c, err := d.DialContext(ctx, "tcp", host)
			if err == nil {
				if _, err = c.Write(req); err == nil {
					var resp *http.Response
					resp, err = http.ReadResponse(bufio.NewReader(c), nil)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				if c != nil {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}(i)
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if firstErr != nil {
		return res, fmt.Errorf("loadtest: %d of %d connections failed, first: %w", cfg.Conns-len(conns), cfg.Conns, firstErr)
	}
	res.Conns = len(conns)
	res.Open, _ = SampleProc(cfg.PID)
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	res.After, err = SampleProc(cfg.PID)
	return res, err
}

// String reports the result.
func (r IdleResult) String() string {
	idleCPU := r.After.CPU - r.Open.CPU
	hold := r.After.At.Sub(r.Open.At)
	per := float64(r.Open.RSS-r.Before.RSS) / float64(max(r.Conns, 1))
	return fmt.Sprintf("idle listeners: %d connections held %.0fs\n"+
		"  server CPU while held: %v (%.3f%% of a core); same time with none: %v\n"+
		"  extra CPU per idle listener: %.2f µs/s\n"+
		"  RSS %0.1f MiB -> %0.1f MiB: %.1f KiB per connected listener; fds %d -> %d; threads %d -> %d",
		r.Conns, hold.Seconds(), idleCPU, 100*idleCPU.Seconds()/hold.Seconds(), r.BaseCPU,
		float64((idleCPU-r.BaseCPU).Microseconds())/hold.Seconds()/float64(max(r.Conns, 1)),
		float64(r.Before.RSS)/(1<<20), float64(r.Open.RSS)/(1<<20), per/1024, r.Before.FDs, r.Open.FDs, r.Before.Threads, r.Open.Threads)
}
