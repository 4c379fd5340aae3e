package loadtest

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// slowConns are attackers that hold connections while costing the server
// as much waiting as they can: slowloris clients send their request
// headers a byte a second and never finish; slow readers pipeline 200
// playlist requests (about 400 kB of answers, more than the socket buffers
// hold) and read the answers a byte a second through a tiny receive
// window. Each records whether and when the server closed (or reset) it.
type slowConns struct {
	e      *env
	open   atomic.Int64
	mu     sync.Mutex // guards closed, kept
	closed map[string]*hist
	count  map[string]int
	kept   map[string]int // still open at the end
}

func newSlowConns(e *env) *slowConns {
	return &slowConns{e: e, closed: map[string]*hist{"slowloris": {}, "slowread": {}}, count: map[string]int{}, kept: map[string]int{}}
}

// run opens n slow connections (half of each kind) and holds them until
// ctx ends.
func (s *slowConns) run(ctx context.Context, n int) {
	var wg sync.WaitGroup
	host := s.e.node.Host
	path := s.e.playlistPath("")
	for i := 0; i < n && ctx.Err() == nil; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := "slowloris"
			if i%2 == 1 {
				kind = "slowread"
			}
			t0 := time.Now()
			closed, err := s.hold(ctx, kind, i, host, path)
			s.mu.Lock()
			defer s.mu.Unlock()
			s.count[kind]++
			switch {
			case closed:
				s.closed[kind].Record(time.Since(t0))
			case err == nil:
				s.kept[kind]++
			}
		}()
		if i%10 == 9 {
			// 1,000 new connections a second (slowhttptest opens 50 a
			// second by default): the attack reaches the cap in seconds
			// without also being a connect storm, which is another test.
			sleepCtx(ctx, 10*time.Millisecond)
		}
	}
	wg.Wait()
}

// hold keeps one slow connection until ctx ends (closed false) or the
// server closes it (closed true).
func (s *slowConns) hold(ctx context.Context, kind string, i int, host, path string) (closed bool, err error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: Source(srcSlow + i)}, Timeout: 5 * time.Second}
	if kind == "slowread" {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048)
			})
		}
	}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return false, err
	}
	defer c.Close()
	s.open.Add(1)
	defer s.open.Add(-1)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 1)
	if kind == "slowloris" {
		head := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: podium-loadtest-slow\r\nX-Slow: "
		if _, err := c.Write([]byte(head)); err != nil {
			return ctx.Err() == nil, nil
		}
		for {
			if _, err := c.Write([]byte{'a'}); err != nil {
				return ctx.Err() == nil, nil
			}
			c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil && !isTimeout(err) || err == nil {
				// An answer (408/400) or a close: the server let go.
				return ctx.Err() == nil, nil
			}
			if ctx.Err() != nil {
				return false, nil
			}
		}
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: podium-loadtest-slow\r\n\r\n"
	if _, err := c.Write([]byte(strings.Repeat(req, 200))); err != nil {
		return ctx.Err() == nil, nil
	}
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		t0 := time.Now()
		_, err := c.Read(buf)
		if ctx.Err() != nil {
			return false, nil
		}
		if err != nil && !isTimeout(err) || peerClosed(c) {
			return true, nil
		}
		sleepCtx(ctx, time.Second-time.Since(t0))
	}
}

// peerClosed reports whether the server has closed its side of c: a slow
// reader would otherwise only see the end after draining, a byte a second,
// all the answers the server's kernel still delivers.
func peerClosed(c net.Conn) bool {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	rc.Control(func(fd uintptr) {
		if ti, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			closed = ti.State == unix.BPF_TCP_CLOSE_WAIT || ti.State == unix.BPF_TCP_CLOSE
		}
	})
	return closed
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// results sum up what the server did with the slow connections.
func (s *slowConns) results() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]any{}
	for kind, h := range s.closed {
		c := h.snapshot()
		out[kind] = map[string]any{
			"opened": s.count[kind], "closed_by_server": c.n(), "open_at_end": s.kept[kind],
			"closed_after_ms": c.quantiles(),
		}
	}
	return out
}
