package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// rawTransport is a simulated listener's HTTP/1.1 client: one keep-alive
// connection from the listener's own source address, used by one request
// at a time, written and read by the calling goroutine itself.
//
// net/http's Transport runs two goroutines per connection and hands every
// request and response between them; with thousands of simulated players
// on one core that hand-off, not the traffic, was the load tool's largest
// cost, and a tool that saturates its own core measures itself. This
// client does the same protocol work (request line, headers, Content-Length
// or chunked bodies, Connection: close) in the caller, and reconnects when
// the server has closed an idle connection, as a browser does.
type rawTransport struct {
	src net.IP

	mu   sync.Mutex // one request at a time; guards the rest
	c    net.Conn
	host string // what c is connected to
	br   *bufio.Reader
	bw   []byte
}

func newRawTransport(src net.IP) *rawTransport {
	return &rawTransport{src: src}
}

// CloseIdleConnections closes the connection (the listener is done).
func (t *rawTransport) CloseIdleConnections() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closeLocked()
}

func (t *rawTransport) closeLocked() {
	if t.c != nil {
		t.c.Close()
		t.c, t.br = nil, nil
	}
}

// errStaleConn is a request that failed on a reused connection before any
// answer arrived: the server had closed it; the request is sent again once
// on a fresh connection.
var errStaleConn = errors.New("loadtest: reused connection closed by the server")

func (t *rawTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	resp, err := t.roundTrip(req, body)
	if errors.Is(err, errStaleConn) && req.Context().Err() == nil {
		resp, err = t.roundTrip(req, body)
	}
	return resp, err
}

func (t *rawTransport) roundTrip(req *http.Request, body []byte) (*http.Response, error) {
	ctx := req.Context()
	if t.c != nil && t.host != req.URL.Host {
		t.closeLocked()
	}
	reused := t.c != nil
	if t.c == nil {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: t.src}, Timeout: 5 * time.Second}
		c, err := d.DialContext(ctx, "tcp", req.URL.Host)
		if err != nil {
			return nil, err
		}
		t.c, t.host, t.br = c, req.URL.Host, bufio.NewReaderSize(c, 8<<10)
	}
	c := t.c
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(rawTimeout)
	}
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()

	b := t.bw[:0]
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.URL.Host...)
	b = append(b, "\r\nUser-Agent: podium-loadtest\r\n"...)
	for k, vs := range req.Header {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if body != nil || req.Method == http.MethodPost {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, body...)
	t.bw = b
	if _, err := c.Write(b); err != nil {
		t.closeLocked()
		if reused && ctx.Err() == nil {
			return nil, errStaleConn
		}
		return nil, t.ctxErr(ctx, err)
	}
	resp, err := readRawResponse(t.br, req)
	if err != nil {
		t.closeLocked()
		if reused && ctx.Err() == nil && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)) {
			return nil, errStaleConn
		}
		return nil, t.ctxErr(ctx, err)
	}
	if resp.Close {
		t.closeLocked()
	}
	return resp, nil
}

// ctxErr prefers the context's error to the deadline it caused.
func (t *rawTransport) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout()
}

// readRawResponse reads one whole response: status, the headers a player
// looks at, and the body (Content-Length, chunked, or to the close).
func readRawResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	resp := &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Request: req}
	h, err := readHead(br, func(name, val []byte) {
		switch {
		case bytes.EqualFold(name, []byte("Retry-After")):
			resp.Header["Retry-After"] = []string{string(val)}
		case bytes.EqualFold(name, []byte("Content-Type")):
			resp.Header["Content-Type"] = []string{string(val)}
		}
	})
	if err != nil {
		return nil, err
	}
	resp.StatusCode, resp.Close = h.status, h.close
	status, length, chunked := h.status, h.length, h.chunked
	var body []byte
	switch {
	case req.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || status/100 == 1:
	case chunked:
		if body, err = readChunked(br); err != nil {
			return nil, err
		}
	case length >= 0:
		body = make([]byte, length)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
	default: // to the end of the connection
		if body, err = io.ReadAll(io.LimitReader(br, maxRawBody)); err != nil {
			return nil, err
		}
		resp.Close = true
	}
	resp.ContentLength = int64(len(body))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// rawTimeout bounds a request whose context has no deadline.
const rawTimeout = 15 * time.Second

// maxRawBody bounds a response body the tool reads.
const maxRawBody = 16 << 20

func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 || int64(len(body))+n > maxRawBody {
			return nil, fmt.Errorf("%w: chunk size %q", errBadResponse, line)
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := br.ReadSlice('\n')
				if err != nil {
					return nil, err
				}
				if len(bytes.TrimRight(t, "\r\n")) == 0 {
					return body, nil
				}
			}
		}
		start := len(body)
		body = append(body, make([]byte, n)...)
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return nil, err
		}
		if _, err := br.Discard(2); err != nil {
			return nil, err
		}
	}
}
