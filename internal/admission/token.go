package admission

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
)

// This file holds the compact signed-token codec shared by tickets, queue
// tokens and proof-of-work challenges. A token is
//
//	base64url(payload || HMAC-SHA256(key, payload)[:16])
//
// with no padding and no separator. payload[0] is a kind byte, so a token of
// one kind never parses as another even if two components were given the same
// key (they should not be). Opening a token does not allocate: the input is
// bounded, decoded into a caller's stack array and the HMAC is computed with
// sha256.Sum256 over stack buffers.

// Kinds of token.
const (
	kindTicket    byte = 'T'
	kindQueue     byte = 'Q'
	kindChallenge byte = 'C'
)

const (
	// MaxSpaceLen is the longest space id a token can carry.
	MaxSpaceLen = 64

	macLen     = 16                              // truncated HMAC-SHA256: 128 bits
	maxPayload = 1 + 8 + 8 + 8 + 2 + MaxSpaceLen // largest payload of any kind
	maxRaw     = maxPayload + macLen             // decoded bytes
	maxTokLen  = (maxRaw*8 + 5) / 6              // encoded characters
	minKeyLen  = 32                              // bytes; as auth.NewSigner
	blockSize  = 64                              // SHA-256 block size
)

// tokErr is the reason a token did not open; each component maps it to its
// own exported errors.
type tokErr uint8

const (
	tokOK tokErr = iota
	tokMalformed
	tokForged
)

// signer holds an HMAC-SHA256 key as its precomputed inner and outer pads.
// It is immutable after newSigner and safe for concurrent use.
type signer struct {
	ipad, opad [blockSize]byte
}

func newSigner(key []byte) signer {
	var s signer
	if len(key) > blockSize {
		h := sha256.Sum256(key)
		key = h[:]
	}
	copy(s.ipad[:], key)
	copy(s.opad[:], key)
	for i := range s.ipad {
		s.ipad[i] ^= 0x36
		s.opad[i] ^= 0x5c
	}
	return s
}

// mac returns HMAC-SHA256(key, msg); len(msg) must be at most maxPayload.
func (s *signer) mac(msg []byte) [sha256.Size]byte {
	var in [blockSize + maxPayload]byte
	n := copy(in[:], s.ipad[:])
	n += copy(in[n:], msg)
	inner := sha256.Sum256(in[:n])
	var out [blockSize + sha256.Size]byte
	copy(out[:], s.opad[:])
	copy(out[blockSize:], inner[:])
	return sha256.Sum256(out[:])
}

// seal returns the token for payload (at most maxPayload bytes).
func (s *signer) seal(payload []byte) string {
	if len(payload) > maxPayload {
		panic("admission: token payload too long")
	}
	m := s.mac(payload)
	raw := append(payload[:len(payload):len(payload)], m[:macLen]...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// open checks tok's length, encoding and MAC and returns its payload, which
// aliases buf.
func (s *signer) open(tok string, buf *[maxRaw]byte) ([]byte, tokErr) {
	if len(tok) == 0 || len(tok) > maxTokLen {
		return nil, tokMalformed
	}
	n, ok := decodeB64(buf[:], tok)
	if !ok || n <= macLen+1 {
		return nil, tokMalformed
	}
	payload, sig := buf[:n-macLen], buf[n-macLen:n]
	m := s.mac(payload)
	if subtle.ConstantTimeCompare(m[:macLen], sig) != 1 {
		return nil, tokForged
	}
	return payload, tokOK
}

// b64dec maps a base64url character to its value, or 0xff.
var b64dec = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeB64 decodes unpadded, canonical base64url s into dst without
// allocating. It rejects non-zero trailing bits, so each byte string has
// exactly one encoding (a tampered last character is never "the same token").
func decodeB64(dst []byte, s string) (int, bool) {
	if len(s)%4 == 1 || (len(s)*6)/8 > len(dst) {
		return 0, false
	}
	n := 0
	var acc uint32
	bits := 0
	for i := 0; i < len(s); i++ {
		v := b64dec[s[i]]
		if v == 0xff {
			return 0, false
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> bits)
			n++
			acc &= 1<<bits - 1
		}
	}
	if acc != 0 { // leftover bits must be zero
		return 0, false
	}
	return n, true
}

// Payload helpers. Integers are big-endian; the space id is the tail.

func putU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

func getU64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// spaceMatches reports whether the tail of a payload equals space, without
// converting either to the other's type.
func spaceMatches(tail []byte, space string) bool {
	return len(tail) == len(space) && string(tail) == space
}
