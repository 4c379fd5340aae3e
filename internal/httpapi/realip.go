package httpapi

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

// RealIP attributes requests that come through a trusted proxy to the
// client named in X-Forwarded-For: the nearest address (reading from the
// right, as each proxy appends) that is not itself in trusted. r.RemoteAddr
// is rewritten to that address before next (the admission middleware, the
// API) sees the request. Requests from anywhere else, or without a usable
// header, keep their own RemoteAddr: a client cannot choose its address by
// sending the header itself. With no trusted networks it returns next.
func RealIP(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err == nil && isTrusted(ap.Addr()) {
			if c, ok := forwardedClient(r.Header.Values("X-Forwarded-For"), isTrusted); ok {
				r = r.WithContext(context.WithValue(r.Context(), peerKey{}, ap.Addr()))
				r.RemoteAddr = netip.AddrPortFrom(c, 0).String()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// maxForwardHops bounds how many X-Forwarded-For entries are read.
const maxForwardHops = 16

// forwardedClient walks X-Forwarded-For from the right: the first address
// outside the trusted networks is the client. A malformed entry ends the
// walk (nothing to its left can be believed); if every entry is trusted the
// leftmost one is the client.
func forwardedClient(headers []string, trusted func(netip.Addr) bool) (netip.Addr, bool) {
	var last netip.Addr
	hops := 0
	for i := len(headers) - 1; i >= 0; i-- {
		h := headers[i]
		for h != "" && hops < maxForwardHops {
			var part string
			if j := strings.LastIndexByte(h, ','); j >= 0 {
				part, h = h[j+1:], h[:j]
			} else {
				part, h = h, ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			hops++
			a, err := netip.ParseAddr(part)
			if err != nil {
				if ap, err2 := netip.ParseAddrPort(part); err2 == nil {
					a = ap.Addr()
				} else {
					return last, last.IsValid()
				}
			}
			a = a.Unmap()
			if !trusted(a) {
				return a, true
			}
			last = a
		}
	}
	return last, last.IsValid()
}

type peerKey struct{}

// Peer is the address r's connection came from: the proxy's when RealIP
// attributed the request to the client behind it, else r.RemoteAddr's.
// geo.Resolver believes a country header only from a trusted peer.
func Peer(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(peerKey{}).(netip.Addr); ok {
		return a
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr()
	}
	return netip.Addr{}
}
