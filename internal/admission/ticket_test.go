package admission

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"github.com/podium-live/podium/internal/policy"
	"strings"
	"testing"
	"time"
)

func TestSignerMatchesHMAC(t *testing.T) {
	for _, klen := range []int{32, 64, 100} {
		key := make([]byte, klen)
		for i := range key {
			key[i] = byte(i * 7)
		}
		s := newSigner(key)
		for _, msg := range []string{"", "x", strings.Repeat("p", maxPayload)} {
			m := hmac.New(sha256.New, key)
			m.Write([]byte(msg))
			want := m.Sum(nil)
			got := s.mac([]byte(msg))
			if !hmac.Equal(got[:], want) {
				t.Errorf("key %d msg %d: mac %x, want %x", klen, len(msg), got, want)
			}
		}
	}
}

func TestTickets(t *testing.T) {
	clk := newClock()
	tk, err := NewTickets(testKey(1), time.Minute, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTickets(testKey(2), time.Minute, clk.Now)
	tok, _, exp := tk.Issue("sp_abcdefghjkmn", "")
	if want := clk.Now().Add(time.Minute); !exp.Equal(want) {
		t.Errorf("exp = %v, want %v", exp, want)
	}
	forged, _, _ := other.Issue("sp_abcdefghjkmn", "")

	// Tamper with each character in turn: never accepted.
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range tok {
		b := []byte(tok)
		b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%64]
		if err := tk.Check(string(b), "sp_abcdefghjkmn"); err == nil {
			t.Fatalf("tampered at %d: accepted", i)
		}
	}

	cases := []struct {
		name, tok, space string
		want             error
	}{
		{"valid", tok, "sp_abcdefghjkmn", nil},
		{"other key", forged, "sp_abcdefghjkmn", ErrTicketForged},
		{"other space", tok, "sp_zzzzzzzzzzzz", ErrTicketOtherSpace},
		{"empty", "", "sp_abcdefghjkmn", ErrTicketMalformed},
		{"not base64", "!!!!" + tok[4:], "sp_abcdefghjkmn", ErrTicketMalformed},
		{"truncated", tok[:len(tok)-(len(tok)%4+3)%4], "sp_abcdefghjkmn", ErrTicketMalformed}, // to a length no base64 has
		{"short", "AAAA", "sp_abcdefghjkmn", ErrTicketMalformed},
		{"oversize", strings.Repeat("A", 10000), "sp_abcdefghjkmn", ErrTicketMalformed},
		{"padded", tok + "==", "sp_abcdefghjkmn", ErrTicketMalformed},
	}
	for _, c := range cases {
		if got := tk.Check(c.tok, c.space); !errors.Is(got, c.want) {
			t.Errorf("%s: Check = %v, want %v", c.name, got, c.want)
		}
	}

	// A validly signed token of another kind is malformed, not a ticket.
	var b [maxPayload]byte
	p := append(b[:0], kindQueue)
	p = putU64(p, uint64(clk.Now().Add(time.Hour).Unix()))
	if got := tk.Check(tk.s.seal(append(p, "sp_abcdefghjkmn"...)), "sp_abcdefghjkmn"); !errors.Is(got, ErrTicketMalformed) {
		t.Errorf("other kind: Check = %v, want %v", got, ErrTicketMalformed)
	}

	clk.Add(59 * time.Second)
	if err := tk.Check(tok, "sp_abcdefghjkmn"); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	clk.Add(time.Second)
	if got := tk.Check(tok, "sp_abcdefghjkmn"); !errors.Is(got, ErrTicketExpired) {
		t.Errorf("at expiry: Check = %v, want %v", got, ErrTicketExpired)
	}
}

func TestNewTicketsRejectsShortKey(t *testing.T) {
	if _, err := NewTickets(make([]byte, 16), time.Minute, nil); err == nil {
		t.Error("16-byte key accepted")
	}
}

func TestTicketCheckDoesNotAllocate(t *testing.T) {
	tk, _ := NewTickets(testKey(1), time.Minute, nil)
	tok, _, _ := tk.Issue("sp_abcdefghjkmn", "")
	if n := testing.AllocsPerRun(100, func() { _ = tk.Check(tok, "sp_abcdefghjkmn") }); n != 0 {
		t.Errorf("Check allocates %v times", n)
	}
}

func FuzzDecodeB64(f *testing.F) {
	f.Add("")
	f.Add("AAAA")
	f.Add("AB")
	f.Add("AAB")
	f.Fuzz(func(t *testing.T, s string) {
		var buf [maxRaw]byte
		n, ok := decodeB64(buf[:], s)
		want, err := base64.RawURLEncoding.Strict().DecodeString(s)
		if len(want) > maxRaw {
			return
		}
		if strings.ContainsAny(s, "\r\n") {
			// The standard decoder skips line breaks; tokens never have them.
			if ok {
				t.Fatalf("decodeB64(%q) accepted a line break", s)
			}
			return
		}
		if ok != (err == nil) {
			t.Fatalf("decodeB64(%q) ok=%v, stdlib err=%v", s, ok, err)
		}
		if ok && string(buf[:n]) != string(want) {
			t.Fatalf("decodeB64(%q) = %x, want %x", s, buf[:n], want)
		}
	})
}

func FuzzCheckTicket(f *testing.F) {
	clk := newClock()
	tk, _ := NewTickets(testKey(1), time.Minute, clk.Now)
	tok, _, _ := tk.Issue("sp_abcdefghjkmn", "")
	f.Add(tok, "sp_abcdefghjkmn")
	f.Add(tok[:20], "x")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, tok, space string) {
		err := tk.Check(tok, space)
		switch {
		case err == nil, errors.Is(err, ErrTicketMalformed), errors.Is(err, ErrTicketForged),
			errors.Is(err, ErrTicketExpired), errors.Is(err, ErrTicketOtherSpace):
		default:
			t.Fatalf("Check(%q) = unexpected %v", tok, err)
		}
	})
}

func BenchmarkTicketCheck(b *testing.B) {
	tk, _ := NewTickets(testKey(1), time.Minute, nil)
	tok, _, _ := tk.Issue("sp_abcdefghjkmn", "")
	b.ReportAllocs()
	for b.Loop() {
		if err := tk.Check(tok, "sp_abcdefghjkmn"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTicketCarriesTerritory(t *testing.T) {
	tk, err := NewTickets(testKey(1), time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ter := range []policy.Territory{"DE", "FR", policy.Unknown} {
		tok, id, _ := tk.Issue("sp_a", ter)
		gid, got, err := tk.Verify(tok, "sp_a")
		if err != nil || got != ter || gid != id {
			t.Fatalf("Issue(%q) → Verify = %d %q %v, want %d %q", ter, gid, got, err, id, ter)
		}
		renewed, _, rter, err := tk.Renew(tok, "sp_a")
		if err != nil || rter != ter {
			t.Fatalf("Renew kept %q %v, want %q", rter, err, ter)
		}
		if _, got, _ := tk.Verify(renewed, "sp_a"); got != ter {
			t.Fatalf("renewed ticket carries %q, want %q", got, ter)
		}
	}
}
