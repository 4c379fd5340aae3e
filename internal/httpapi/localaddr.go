package httpapi

import (
	"net"
	"net/http"
	"net/netip"
)

// localHost returns host:port of the node's address the request's
// connection was accepted on. That address is this node's by
// construction, whatever the client wrote in Host. An unspecified or
// missing address (a request not from a net/http server) falls back to
// loopback on the listener's port.
func localHost(r *http.Request) string {
	la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	ap, err := netip.ParseAddrPort(addrString(la))
	if err != nil {
		return "127.0.0.1"
	}
	ip := ap.Addr().Unmap().WithZone("")
	if ip.IsUnspecified() {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip, ap.Port()).String()
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
