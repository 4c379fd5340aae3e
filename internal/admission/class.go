package admission

// Class is a request's priority class. Lower values are more important; the
// overload manager sheds from the highest value down, and never sheds
// ClassIngest.
type Class uint8

// The priority classes, most important first.
const (
	ClassIngest    Class = iota // speakers' ingest and the mixer: never shed
	ClassListener               // media requests carrying a valid ticket
	ClassChat                   // comments and reactions
	ClassJoin                   // POST /api/spaces/{id}/join
	ClassAnonymous              // media without a ticket, API reads, everything else

	NumClasses = 5
)

var classNames = [NumClasses]string{"ingest", "listener", "chat", "join", "anonymous"}

// String returns the class's metric label: ingest, listener, chat, join or
// anonymous.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "invalid"
}

// valid clamps an out-of-range class (a classify bug) to ClassAnonymous.
func (c Class) valid() Class {
	if c >= NumClasses {
		return ClassAnonymous
	}
	return c
}
