package admission

// Class is a request's priority class. Lower values are more important; the
// overload manager sheds from the highest value down, and never sheds
// ClassIngest or ClassStageJoin.
type Class uint8

// The priority classes, most important first.
const (
	ClassIngest    Class = iota // verified host, speaker and operator actions: never shed; limited only per credential where the key names one (a speaker's session)
	ClassStageJoin              // WHIP joins with a verified credential: never shed, limited per credential and address
	ClassListener               // media requests carrying a valid ticket
	ClassChat                   // comments and reactions
	ClassJoin                   // POST /api/spaces/{id}/join
	ClassAnonymous              // media without a ticket, API reads, everything else

	NumClasses = 6
)

var classNames = [NumClasses]string{"ingest", "stage_join", "listener", "chat", "join", "anonymous"}

// String returns the class's metric label: ingest, stage_join, listener,
// chat, join or anonymous.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "invalid"
}

// shed reports whether the overload manager may shed c at all.
func (c Class) shed() bool { return c > ClassStageJoin }

// valid clamps an out-of-range class (a classify bug) to ClassAnonymous.
func (c Class) valid() Class {
	if c >= NumClasses {
		return ClassAnonymous
	}
	return c
}
