// Package policy is what moderation decided about a space's audio, in the
// form the places that serve it need: which restrictions are in force, for
// which territories, and the *view* a listener in a territory gets.
//
// A view is the set of audio restrictions that apply to a listener. Its id
// is derived from the ids of those restrictions (which never change once
// made: a reversal removes a restriction, an edit is a new one), so the
// media under one view id is the same forever and caches may keep it:
// a new decision or a reversal gives the listeners it concerns another view
// id, and everyone it does not concern keeps the one they share. The view
// with no audio restriction is [None].
//
// The package has no I/O. Moderation owns the restrictions and publishes a
// new immutable [Policy] for a space whenever they change ([Source]);
// replay, live streams and join read it.
package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// Territory is an ISO 3166-1 alpha-2 code in upper case. The zero value is
// an unknown territory.
type Territory string

// Unknown is the territory of a listener whose territory could not be
// resolved.
const Unknown Territory = ""

// ErrTerritory is returned by ParseTerritory for anything but an assigned
// ISO 3166-1 alpha-2 code.
var ErrTerritory = errors.New("policy: not an ISO 3166-1 alpha-2 territory code")

// ParseTerritory accepts an assigned ISO 3166-1 alpha-2 code in either case.
func ParseTerritory(s string) (Territory, error) {
	if len(s) != 2 {
		return "", ErrTerritory
	}
	t := Territory(strings.ToUpper(s))
	if !iso3166[t] {
		return "", ErrTerritory
	}
	return t, nil
}

// Valid reports whether t is an assigned ISO 3166-1 alpha-2 code.
func (t Territory) Valid() bool { return iso3166[t] }

func codeSet(codes ...Territory) map[Territory]bool {
	m := make(map[Territory]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// Kind is what a restriction does.
type Kind string

const (
	// WithholdRange silences [From, To) of the recording timeline (replay,
	// its download) for listeners it applies to.
	WithholdRange Kind = "withhold_range"
	// WithholdRecording makes the whole recording unavailable to
	// listeners it applies to. With no territories it is a removal
	// everywhere.
	WithholdRecording Kind = "withhold_recording"
	// SilenceLive silences the live feed from Since (wall clock) for
	// listeners it applies to, and, in the replay, the recording from the
	// offset that Since maps to onwards.
	SilenceLive Kind = "silence_live"
	// Label changes no audio: listeners it applies to are shown Text on
	// [From, To) of the recording (or the whole space when both are zero).
	Label Kind = "label"
)

// Restriction is one measure in force on a space. Restrictions are
// immutable.
type Restriction struct {
	// ID is the decision's id, which is also its statement's puid: the
	// statement is public at /api/statements/{ID}.
	ID   string
	Kind Kind
	// From and To are on the recording timeline (WithholdRange, Label).
	From, To time.Duration
	// Since is when a SilenceLive restriction took effect (wall clock).
	Since time.Time
	// Territories it applies in, sorted; empty means everywhere.
	Territories []Territory
	// Until is when the restriction lapses; zero is indefinite.
	Until time.Time
	// Text is the public summary shown to listeners it applies to, e.g.
	// "Withheld in DE: incites hatred (§ 130 StGB)".
	Text string
}

// Audio reports whether r changes what a listener hears (labels do not).
func (r *Restriction) Audio() bool { return r.Kind != Label }

// Everywhere reports whether r applies in every territory.
func (r *Restriction) Everywhere() bool { return len(r.Territories) == 0 }

// In reports whether r applies in territory t. Every restriction applies
// to an unknown territory under the Strictest rule, see New.
func (r *Restriction) In(t Territory) bool {
	if r.Everywhere() {
		return true
	}
	_, found := slices.BinarySearch(r.Territories, t)
	return found
}

// UnknownRule says which restrictions apply to a listener whose territory
// is unknown.
type UnknownRule uint8

const (
	// Strictest applies every restriction in force, whatever its
	// territories (the default).
	Strictest UnknownRule = iota
	// Permissive applies only the restrictions in force everywhere.
	Permissive
)

// ParseUnknownRule reads "strictest" or "permissive".
func ParseUnknownRule(s string) (UnknownRule, error) {
	switch s {
	case "", "strictest":
		return Strictest, nil
	case "permissive":
		return Permissive, nil
	}
	return 0, errors.New(`policy: unknown-territory rule must be "strictest" or "permissive"`)
}

// None is the id of the view with no audio restriction: the original
// audio.
const None = "0"

// View is what listeners in some territories get: the restrictions that
// apply to them (audio and labels) and the id of their audio restrictions.
type View struct {
	ID           string
	Restrictions []Restriction
}

// Withheld returns the restriction that withholds the whole recording from
// this view, or nil.
func (v *View) Withheld() *Restriction {
	for i := range v.Restrictions {
		if v.Restrictions[i].Kind == WithholdRecording {
			return &v.Restrictions[i]
		}
	}
	return nil
}

// LiveSilenced reports whether the live feed at wall-clock time at is
// silenced for this view.
func (v *View) LiveSilenced(at time.Time) bool {
	for i := range v.Restrictions {
		r := &v.Restrictions[i]
		switch r.Kind {
		case WithholdRecording:
			return true
		case SilenceLive:
			if !at.Before(r.Since) {
				return true
			}
		}
	}
	return false
}

// Policy is one space's restrictions in force, and its views, computed
// once. It is immutable; a nil *Policy has no restrictions.
type Policy struct {
	space        string
	restrictions []Restriction
	byTerritory  map[Territory]*View // territories named by a restriction
	elsewhere    *View               // every other known territory
	unknown      *View
	byID         map[string]*View
	next         time.Time
}

var noneView = &View{ID: None}

// New builds a space's policy from its restrictions, leaving out those
// that lapsed by now. Territory lists are sorted and deduplicated.
func New(space string, rs []Restriction, now time.Time, unknown UnknownRule) *Policy {
	p := &Policy{space: space, byTerritory: map[Territory]*View{}, byID: map[string]*View{}}
	for _, r := range rs {
		if !r.Until.IsZero() && !now.Before(r.Until) {
			continue
		}
		if !r.Until.IsZero() && (p.next.IsZero() || r.Until.Before(p.next)) {
			p.next = r.Until
		}
		r.Territories = slices.Compact(slices.Sorted(slices.Values(r.Territories)))
		p.restrictions = append(p.restrictions, r)
	}
	slices.SortFunc(p.restrictions, func(a, b Restriction) int { return strings.Compare(a.ID, b.ID) })
	named := map[Territory]bool{}
	for _, r := range p.restrictions {
		for _, t := range r.Territories {
			named[t] = true
		}
	}
	for t := range named {
		p.byTerritory[t] = p.view(func(r *Restriction) bool { return r.In(t) })
	}
	p.elsewhere = p.view(func(r *Restriction) bool { return r.Everywhere() })
	if unknown == Strictest {
		p.unknown = p.view(func(*Restriction) bool { return true })
	} else {
		p.unknown = p.elsewhere
	}
	return p
}

// view builds (or finds) the view of the restrictions that pass applies.
func (p *Policy) view(applies func(*Restriction) bool) *View {
	var rs []Restriction
	h := sha256.New()
	audio := false
	for i := range p.restrictions {
		r := &p.restrictions[i]
		if !applies(r) {
			continue
		}
		rs = append(rs, *r)
		if r.Audio() {
			audio = true
			h.Write([]byte(r.ID))
			h.Write([]byte{0})
		}
	}
	id := None
	if audio {
		id = "v" + hex.EncodeToString(h.Sum(nil)[:6])
	}
	// Two views with the same audio id may differ in labels; the first
	// built is kept by id (audio is what the id promises).
	v := &View{ID: id, Restrictions: rs}
	if _, ok := p.byID[id]; !ok {
		p.byID[id] = v
	}
	return v
}

// Space is the space the policy is for.
func (p *Policy) Space() string {
	if p == nil {
		return ""
	}
	return p.space
}

// Restrictions are those in force, sorted by id. The caller must not
// modify them.
func (p *Policy) Restrictions() []Restriction {
	if p == nil {
		return nil
	}
	return p.restrictions
}

// For returns the view of a listener in territory t (Unknown for one
// whose territory is not known). Never nil; it allocates nothing.
func (p *Policy) For(t Territory) *View {
	if p == nil {
		return noneView
	}
	if t == Unknown {
		return p.unknown
	}
	if v, ok := p.byTerritory[t]; ok {
		return v
	}
	return p.elsewhere
}

// View returns the view with the given id if some listener gets it under
// this policy. None is always known to a nil policy.
func (p *Policy) View(id string) (*View, bool) {
	if p == nil {
		return noneView, id == None
	}
	v, ok := p.byID[id]
	return v, ok
}

// Next is when the next restriction lapses (the policy must then be built
// again), zero if none does.
func (p *Policy) Next() time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.next
}

// Source gives the policy in force for a space. Implementations return an
// immutable snapshot without blocking (nil: no restrictions), so servers
// may call it on every request.
type Source interface {
	Policy(space string) *Policy
}

// Static is a fixed Source, for tests and tools.
type Static map[string]*Policy

// Policy implements Source.
func (s Static) Policy(space string) *Policy { return s[space] }

// Intern returns the Territory two bytes name, without allocating: one of
// the assigned codes, or Unknown for anything else (zero bytes included).
func Intern(b []byte) Territory {
	if len(b) != 2 {
		return Unknown
	}
	t, ok := interned[[2]byte{b[0], b[1]}]
	if !ok {
		return Unknown
	}
	return t
}

var interned = func() map[[2]byte]Territory {
	m := make(map[[2]byte]Territory, len(iso3166))
	for t := range iso3166 {
		m[[2]byte{t[0], t[1]}] = t
	}
	return m
}()
