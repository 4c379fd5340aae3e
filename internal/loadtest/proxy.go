package loadtest

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// proxy is a small TCP proxy between listeners and the node that the
// retrystorm scenario switches off (an outage: every connection dropped,
// new ones refused) and on again. Connections to the node keep the
// client's source address, so the node still sees many networks.
type proxy struct {
	target string
	addr   string // where it listens, stable across off/on

	mu    sync.Mutex // guards ln, conns
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	return p, nil
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.pipe(c) }()
		}
	}()
}

func (p *proxy) track(c net.Conn, add bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		if p.ln == nil {
			return false // switched off meanwhile
		}
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
	return true
}

func (p *proxy) pipe(c net.Conn) {
	defer c.Close()
	var src net.IP
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		src = a.IP
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: 5 * time.Second}
	s, err := d.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	if !p.track(c, true) || !p.track(s, true) {
		return
	}
	defer p.track(c, false)
	defer p.track(s, false)
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); s.Close(); done <- struct{}{} }()
	go func() { io.Copy(c, s); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

// off drops every connection and refuses new ones.
func (p *proxy) off() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

// on listens again on the same address.
func (p *proxy) on() error {
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("loadtest: proxy: listen again on %s: %w", p.addr, err)
}

// close stops the proxy and waits for its goroutines.
func (p *proxy) close() {
	p.off()
	p.wg.Wait()
}
