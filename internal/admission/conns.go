package admission

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ConnCap is the first, cheapest layer of overload protection, a
// net.Listener that holds at most max connections open; past that it answers
// each new connection with a canned 503 and closes it at once, so the
// process never runs out of file descriptors and a flood is refused before
// any HTTP parsing. It also tracks idle keep-alive connections (give
// ConnState to the http.Server) and closes them sooner as the listener fills
// up (Reap).
type ConnCap struct {
	net.Listener
	max      int64
	open     atomic.Int64
	rejected atomic.Uint64

	mu   sync.Mutex // guards idle
	idle map[net.Conn]time.Time
}

var busyResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: 57\r\nConnection: close\r\n\r\n" +
	`{"error":"server busy, retry later","code":"overloaded"}` + "\n")

// NewConnCap returns ln capped at max open connections.
func NewConnCap(ln net.Listener, max int) *ConnCap {
	return &ConnCap{Listener: ln, max: int64(max), idle: map[net.Conn]time.Time{}}
}

// Open returns how many connections are open.
func (l *ConnCap) Open() int { return int(l.open.Load()) }

// Max returns the cap.
func (l *ConnCap) Max() int { return int(l.max) }

// Rejected returns how many connections were refused past the cap.
func (l *ConnCap) Rejected() uint64 { return l.rejected.Load() }

// FDLimit is the open-file limit the overload manager should watch for a
// node capped at maxConns: the cap plus what WebRTC, storage and the debug
// listener need.
func FDLimit(maxConns int) int { return maxConns * 9 / 8 }

// DefaultMaxConns leaves a fifth of the process's file descriptors for
// WebRTC sockets, the database, recordings and the debug listener.
func DefaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1000
	}
	n := int(rl.Cur) * 4 / 5
	return max(min(n, 1_000_000), 64)
}

// Accept returns the next connection under the cap.
func (l *ConnCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.rejected.Add(1)
			c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			c.Write(busyResponse)
			c.Close()
			continue
		}
		return &capConn{Conn: c, l: l}, nil
	}
}

type capConn struct {
	net.Conn
	l       *ConnCap
	once    sync.Once
	stalled atomic.Bool // a write ran into its deadline: the reader stopped reading
}

// Write notes a write that timed out, so that Close resets the connection.
func (c *capConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.stalled.Store(true)
	}
	return n, err
}

// Close closes the connection. One whose reader stopped reading is reset
// (SO_LINGER 0): a plain close would leave the kernel holding the unsent
// answers for a client that reads a byte a second.
func (c *capConn) Close() error {
	if c.stalled.Load() {
		if tc, ok := c.Conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
	}
	c.once.Do(func() {
		c.l.open.Add(-1)
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// utilization is the share of the cap in use.
func (l *ConnCap) utilization() float64 { return float64(l.open.Load()) / float64(l.max) }

// idleTimeout shrinks as the listener fills: keep-alive is generous when
// there is room and short when connections are scarce.
func (l *ConnCap) idleTimeout() time.Duration {
	switch u := l.utilization(); {
	case u > 0.9:
		return time.Second
	case u > 0.7:
		return 5 * time.Second
	case u > 0.5:
		return 20 * time.Second
	}
	return 60 * time.Second
}

// ConnState is the http.Server ConnState hook that tracks idle connections.
func (l *ConnCap) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
}

// Reap closes connections idle for longer than the current idle timeout,
// once a second, until ctx is done; then it returns nil.
func (l *ConnCap) Reap(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			limit := l.idleTimeout()
			var old []net.Conn
			l.mu.Lock()
			for c, since := range l.idle {
				if now.Sub(since) > limit {
					old = append(old, c)
					delete(l.idle, c)
				}
			}
			l.mu.Unlock()
			for _, c := range old {
				c.Close()
			}
		}
	}
}
