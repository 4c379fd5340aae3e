package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const audioOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=mid:0\r\n"

const recvSlot = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\na=mid:1\r\n"

func TestParseOffer(t *testing.T) {
	tests := []struct {
		name  string
		sdp   string
		slots int
		err   string
	}{
		{"speaker", audioOffer, 0, ""},
		{"speaker with slot", audioOffer + recvSlot, 1, ""},
		{"empty", "", 0, "empty"},
		{"garbage", "hello world", 0, "parse"},
		{"no audio", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", 0, "no audio"},
		{"listen only", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + recvSlot, 0, "no audio"},
		{"pcmu only", strings.Replace(audioOffer, "opus/48000/2", "PCMU/8000", 1), 0, "Opus"},
		{"two senders", audioOffer + strings.Replace(audioOffer[strings.Index(audioOffer, "m="):], "mid:0", "mid:1", 1), 0, "exactly one"},
		{"too many slots", audioOffer + strings.Repeat(recvSlot, MaxListenSlots+1), 0, "slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape, err := parseOffer([]byte(tt.sdp), candidatePolicy{})
			if tt.err == "" {
				if err != nil || shape.listenSlots != tt.slots {
					t.Fatalf("parseOffer = %+v, %v; want %d slots", shape, err, tt.slots)
				}
				return
			}
			if !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("parseOffer error = %v, want ErrBadOffer mentioning %q", err, tt.err)
			}
		})
	}
}

func FuzzParseOffer(f *testing.F) {
	f.Add([]byte(audioOffer))
	f.Add([]byte(audioOffer + recvSlot))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte(audioOffer + "a=candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host\r\na=candidate:2 1 udp 2122260223 203.0.113.7 5000 typ host\r\n"))
	f.Add([]byte(audioOffer + "a=candidate:1 1 udp 1 x.local 5000 typ host\r\na=candidate:1 1\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		shape, err := parseOffer(b, candidatePolicy{})
		if err != nil && !errors.Is(err, ErrBadOffer) {
			t.Fatalf("error not ErrBadOffer: %v", err)
		}
		if err != nil {
			return
		}
		if shape.listenSlots < 0 || shape.listenSlots > MaxListenSlots {
			t.Fatalf("accepted %d slots", shape.listenSlots)
		}
		// What is answered lists only candidates the node may probe,
		// and is the offer otherwise.
		kept := 0
		for _, line := range strings.Split(shape.sdp, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\r"), "a=candidate:"); ok {
				_, addr, ok := candidateKey(v)
				if !ok || !(candidatePolicy{}).allows(addr) {
					t.Fatalf("kept candidate %q", v)
				}
				kept++
			}
		}
		lines := 0
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "a=candidate:") {
				lines++
			}
		}
		if lines != kept+shape.dropped {
			t.Fatalf("%d candidate lines, kept %d, dropped %d", lines, kept, shape.dropped)
		}
	})
}

func candLine(addr string, port int) string {
	return fmt.Sprintf("a=candidate:%d 1 udp 2122260223 %s %d typ host generation 0\r\n", port, addr, port)
}

// TestOfferCandidatesFiltered: candidates naming loopback, private,
// link-local, CGNAT, unspecified, multicast addresses or names are removed
// from the offer before the node answers it (so it never sends STUN
// there), unless configured; public ones are kept; more than
// MaxOfferCandidates distinct candidates are refused.
func TestOfferCandidatesFiltered(t *testing.T) {
	refused := []string{"127.0.0.1", "127.8.9.1", "::1", "10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::5", "169.254.3.3",
		"fe80::1", "100.64.1.1", "0.0.0.0", "::", "224.0.0.251", "255.255.255.255", "::ffff:127.0.0.1", "abcd-1234.local", "evil.example"}
	public := []string{"203.0.113.7", "2001:db8::7", "8.8.4.4"}
	offer := audioOffer
	for i, a := range append(append([]string{}, refused...), public...) {
		offer += candLine(a, 5000+i)
	}
	offer += "a=end-of-candidates\r\n"
	check := func(p candidatePolicy, keep func(string) bool) {
		t.Helper()
		shape, err := parseOffer([]byte(offer), p)
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range append(append([]string{}, refused...), public...) {
			line := candLine(a, 5000+i)
			if got := strings.Contains(shape.sdp, line); got != keep(a) {
				t.Errorf("policy %+v: candidate %s kept = %v, want %v", p, a, got, keep(a))
			}
		}
		if !strings.HasPrefix(shape.sdp, audioOffer) || !strings.HasSuffix(shape.sdp, "a=end-of-candidates\r\n") {
			t.Errorf("filtered offer changed other lines:\n%s", shape.sdp)
		}
	}
	isPublic := func(a string) bool { return slices.Contains(public, a) }
	check(candidatePolicy{}, isPublic)
	check(candidatePolicy{loopback: true}, func(a string) bool {
		return isPublic(a) || a == "127.0.0.1" || a == "127.8.9.1" || a == "::1" || a == "::ffff:127.0.0.1"
	})
	check(candidatePolicy{private: true}, func(a string) bool {
		return isPublic(a) || slices.Contains([]string{"10.1.2.3", "172.16.0.9", "192.168.1.20", "fd00::5", "169.254.3.3", "fe80::1", "100.64.1.1"}, a)
	})

	many := audioOffer
	for i := range MaxOfferCandidates + 1 {
		many += candLine("203.0.113.7", 6000+i)
	}
	if _, err := parseOffer([]byte(many), candidatePolicy{}); !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), "ICE candidates") {
		t.Fatalf("offer with %d candidates: %v, want ErrBadOffer about ICE candidates", MaxOfferCandidates+1, err)
	}
	// The same candidate repeated in every m-line (BUNDLE) counts once.
	repeated := audioOffer
	for range 17 {
		for i := range 4 {
			repeated += candLine("203.0.113.7", 7000+i)
		}
	}
	if _, err := parseOffer([]byte(repeated), candidatePolicy{}); err != nil {
		t.Fatalf("offer repeating 4 candidates 17 times: %v", err)
	}
	if _, err := parseOffer([]byte(audioOffer+"a=candidate:1 1 udp\r\n"), candidatePolicy{}); !errors.Is(err, ErrBadOffer) {
		t.Fatalf("malformed candidate: %v, want ErrBadOffer", err)
	}
}
