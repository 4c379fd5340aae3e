package admission

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestConnCapRefusesPastTheCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := NewConnCap(ln, 3)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), ConnState: cl.ConnState}
	go srv.Serve(cl)
	defer srv.Close()

	var held []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("conn %d under the cap: %v %v", i, resp, err)
		}
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("past the cap: %+v, %v; want a fast 503 with Retry-After", resp, err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "overloaded") {
		t.Errorf("503 body %q", b)
	}
	if cl.rejected.Load() != 1 {
		t.Errorf("rejected = %d, want 1", cl.rejected.Load())
	}
	// A held connection closing frees a place.
	held[0].Close()
	deadline := time.Now().Add(2 * time.Second)
	for cl.open.Load() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := cl.open.Load(); got != 2 {
		t.Fatalf("open after a close = %d, want 2", got)
	}
	if got := cl.idleTimeout(); got != 20*time.Second {
		t.Errorf("idle timeout at 2/3 full = %v, want 20s", got)
	}
}

func TestIdleConnectionsReapedUnderPressure(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cl := NewConnCap(ln, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), ConnState: cl.ConnState}
	go srv.Serve(cl)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- cl.Reap(ctx) }()
	defer func() { cancel(); <-done }()
	var cs []net.Conn
	for i := 0; i < 2; i++ {
		c, _ := net.Dial("tcp", ln.Addr().String())
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		http.ReadResponse(bufio.NewReader(c), nil)
		cs = append(cs, c)
	}
	// Full: idle keep-alive connections are closed within about a second.
	cs[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := cs[0].Read(make([]byte, 1)); err == nil {
		t.Fatal("idle connection still open under full pressure")
	}
}

// TestSlowReaderReset: a client that asks for more than the socket buffers
// hold and never reads is cut off by the write timeout, and its connection
// is reset (not left for the kernel to drain), freeing the cap's slot.
func TestSlowReaderReset(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := NewConnCap(ln, 10)
	body := strings.Repeat("x", 1<<20) // 100 of them: far more than any socket buffers hold
	serving := make(chan struct{})
	var once sync.Once
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(serving) })
			io.WriteString(w, body)
		}),
		WriteTimeout: 500 * time.Millisecond,
		ConnState:    cl.ConnState,
	}
	go srv.Serve(cl)
	defer srv.Close()

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
	}}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// 100 pipelined requests: 100 MiB of answers.
	c.Write([]byte(strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 100)))
	// On a busy machine the server may not even have accepted the
	// connection yet (open is still 0, which once ended this wait at once
	// and let the client read every answer): wait until it is answering.
	select {
	case <-serving:
	case <-time.After(30 * time.Second):
		t.Fatal("the server never answered")
	}
	deadline := time.Now().Add(30 * time.Second)
	for cl.Open() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("slow reader still holds the connection (%d open)", cl.Open())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The client learns at once: reading hits the reset, not megabytes.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err == nil || n >= int64(len(body))*100 {
		t.Errorf("client read %d bytes, err %v: want a reset before the answers drained", n, err)
	}
}
