// Package live runs podium's spaces. Three parts, each over what it needs
// and nothing more:
//
//   - Spaces: the spaces themselves over the store: create, read, state
//     transitions, invites (spaces.go), and who may act on them (Access,
//     access.go).
//   - Runtime: the spaces open on this node, each one a venue: its stage
//     (speakers), and while live its mixer, LL-HLS stream and recording
//     tape (runtime.go, venue.go, tape.go).
//   - Library: the recordings: publication, deletion, retention (library.go).
//
// They talk through Events: Spaces and Library report what changed, and
// the Runtime, Access and the replay server (wired in app) act on it. The
// next issues carry the same events between nodes.
package live

import (
	"github.com/podium-live/podium/internal/space"
)

// Events are the changes to a space that other parts act on. They are
// delivered synchronously, in order for one space: a space's changes are
// reported under its transition lock (Spaces.transition), so StateChanged
// for one space never overtakes another for the same space. Handlers must
// not call back into Spaces for the same space.
type Events interface {
	// StateChanged reports a stored change of a space (its state, or a
	// field such as Record), with the space as stored.
	StateChanged(sp space.Space)
	// StageChanged reports a change of who may be on a space's stage.
	StageChanged(spaceID string, c StageChange)
	// PublicationChanged reports that a recording was published,
	// unpublished or deleted.
	PublicationChanged(spaceID string)
}

// StageChange is a change of who may be on a stage.
type StageChange struct {
	// Barred is an invite that may no longer be on the stage (revoked,
	// or its speaker removed by the host).
	Barred string
}

// Fanout delivers each event to every Events in order.
type Fanout []Events

var _ Events = Fanout(nil)

// StateChanged implements Events.
func (f Fanout) StateChanged(sp space.Space) {
	for _, e := range f {
		e.StateChanged(sp)
	}
}

// StageChanged implements Events.
func (f Fanout) StageChanged(id string, c StageChange) {
	for _, e := range f {
		e.StageChanged(id, c)
	}
}

// PublicationChanged implements Events.
func (f Fanout) PublicationChanged(id string) {
	for _, e := range f {
		e.PublicationChanged(id)
	}
}

// NoEvents ignores every event; embed it to handle only some.
type NoEvents struct{}

// StateChanged implements Events.
func (NoEvents) StateChanged(space.Space) {}

// StageChanged implements Events.
func (NoEvents) StageChanged(string, StageChange) {}

// PublicationChanged implements Events.
func (NoEvents) PublicationChanged(string) {}
