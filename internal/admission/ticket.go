// Package admission decides who gets in, and when, while a node is under
// load: the connection cap, listener tickets, per-space waiting lines, the
// listener count from tickets, per-client, per-network and per-credential
// rate limits in bounded memory with a heavy-hitter view, priority classes,
// an overload manager that sheds the lowest classes first, a stateless
// proof-of-work for attack mode, and the net/http middleware that applies
// them cheapest-rejection-first (docs/ARCHITECTURE.md, "Overload
// protection").
//
// The package knows nothing of spaces beyond an id string, and keeps no
// state per listener or per waiter: tickets, queue tokens and challenges are
// compact HMAC-signed tokens any node holding the key can check; listeners
// are counted in fixed-size sketches. Each kind of token has its own key,
// passed in by the caller.
//
// Concurrency: Tickets, Challenger, Limiter, Line, Lines, Listeners,
// ConnCap and Manager are safe for concurrent use; each type's doc says
// what guards its state.
package admission

import (
	"errors"
	"fmt"
	"time"

	"github.com/podium-live/podium/internal/policy"
)

// Errors returned by Tickets.Check. Each means "not a listener of this space";
// the HTTP layer maps all of them to 401 with the error's text.
var (
	ErrTicketMalformed  = errors.New("admission: ticket malformed")
	ErrTicketForged     = errors.New("admission: ticket signature invalid")
	ErrTicketExpired    = errors.New("admission: ticket expired")
	ErrTicketOtherSpace = errors.New("admission: ticket is for another space")
)

// ticket payload: kind(1) | expires unix seconds(8) | id(8) | territory(2,
// zero bytes when unknown) | space.
const ticketHead = 1 + 8 + 8 + 2

// Tickets issues and checks listener tickets: short-lived signed tokens that
// say "the holder was admitted to this space until exp". Each carries a
// random 64-bit id that its renewals keep, so that the node can count
// listeners as distinct ids (Listeners), and the listener's territory,
// resolved once when they joined (moderation's views follow it). A ticket is checked on every media
// request, so Check does not allocate and bounds its input.
// Tickets is immutable after NewTickets and safe for concurrent use.
type Tickets struct {
	s   signer
	ttl time.Duration
	now func() time.Time
}

// NewTickets returns Tickets signing with key (at least 32 bytes, not shared
// with any other component) and lasting ttl. now may be nil (time.Now).
func NewTickets(key []byte, ttl time.Duration, now func() time.Time) (*Tickets, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("admission: ticket key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("admission: ticket ttl %v must be positive", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Tickets{s: newSigner(key), ttl: ttl, now: now}, nil
}

// Issue returns a new listener's ticket for space and territory (Unknown
// when it could not be resolved), its fresh random id and when it expires
// (whole seconds). space must be at most MaxSpaceLen bytes (callers
// validate ids first; a longer one panics); territory must be Unknown or
// two bytes.
func (t *Tickets) Issue(space string, territory policy.Territory) (token string, id uint64, exp time.Time) {
	id = randU64()
	token, exp = t.issue(space, id, territory)
	return token, id, exp
}

// Renew returns a fresh ticket for the holder of a valid ticket for space,
// keeping its id and territory: a renewing listener is the same listener.
func (t *Tickets) Renew(token, space string) (string, time.Time, policy.Territory, error) {
	id, ter, err := t.Verify(token, space)
	if err != nil {
		return "", time.Time{}, policy.Unknown, err
	}
	tok, exp := t.issue(space, id, ter)
	return tok, exp, ter, nil
}

func (t *Tickets) issue(space string, id uint64, territory policy.Territory) (string, time.Time) {
	checkSpace(space)
	if len(territory) != 0 && len(territory) != 2 {
		panic(fmt.Sprintf("admission: territory %q is not two letters", territory))
	}
	exp := t.now().Add(t.ttl).Truncate(time.Second)
	var b [maxPayload]byte
	p := append(b[:0], kindTicket)
	p = putU64(p, uint64(exp.Unix()))
	p = putU64(p, id)
	if territory == policy.Unknown {
		p = append(p, 0, 0)
	} else {
		p = append(p, territory...)
	}
	p = append(p, space...)
	return t.s.seal(p), exp
}

// Check returns nil if token is a valid, unexpired ticket for space, or one
// of the ErrTicket errors.
func (t *Tickets) Check(token, space string) error {
	_, _, err := t.Verify(token, space)
	return err
}

// Verify returns the id and territory of token if it is a valid, unexpired
// ticket for space, or one of the ErrTicket errors. Malformed and forged
// are decided before anything the token says is believed. It does not
// allocate (the territory of a valid ticket is one of the assigned codes,
// interned).
func (t *Tickets) Verify(token, space string) (id uint64, territory policy.Territory, err error) {
	var buf [maxRaw]byte
	p, e := t.s.open(token, &buf)
	switch e {
	case tokMalformed:
		return 0, policy.Unknown, ErrTicketMalformed
	case tokForged:
		return 0, policy.Unknown, ErrTicketForged
	}
	if len(p) < ticketHead || p[0] != kindTicket {
		return 0, policy.Unknown, ErrTicketMalformed
	}
	if !spaceMatches(p[ticketHead:], space) {
		return 0, policy.Unknown, ErrTicketOtherSpace
	}
	if t.now().Unix() >= int64(getU64(p[1:])) {
		return 0, policy.Unknown, ErrTicketExpired
	}
	return getU64(p[9:]), policy.Intern(p[17:19]), nil
}

// TTL is how long an issued ticket lasts.
func (t *Tickets) TTL() time.Duration { return t.ttl }

func checkSpace(space string) {
	if len(space) > MaxSpaceLen {
		panic(fmt.Sprintf("admission: space id of %d bytes, at most %d allowed", len(space), MaxSpaceLen))
	}
}
