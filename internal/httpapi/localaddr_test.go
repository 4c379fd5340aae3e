package httpapi

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestLinksIgnoreHost: without public_url, links name the address the
// node accepted the connection on, whatever Host the client sends.
func TestLinksIgnoreHost(t *testing.T) {
	a := &API{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, a.base(r)) }))
	defer srv.Close()
	for _, host := range []string{"evil.example", "evil.example:8080", "127.0.0.1.evil.example", ""} {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != srv.URL {
			t.Errorf("Host %q: links on %q, want %q", host, b, srv.URL)
		}
	}
	a.opts.PublicURL = "https://podium.example/"
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "evil.example"
	if got := a.base(req); got != "https://podium.example" {
		t.Errorf("with public_url: %q", got)
	}
}

// TestLocalHostUnspecified: a listener on all interfaces names the
// interface the connection came in on; no address at all falls back to
// loopback.
func TestLocalHostUnspecified(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("cannot listen on all interfaces:", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, localHost(r)) })}}
	srv.Start()
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	res, err := http.Get("http://127.0.0.1:" + itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "127.0.0.1:"+itoa(port) {
		t.Errorf("localHost = %q", b)
	}
	if got := localHost(httptest.NewRequest("GET", "/", nil)); !strings.HasPrefix(got, "127.0.0.1") {
		t.Errorf("localHost without a connection = %q", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
