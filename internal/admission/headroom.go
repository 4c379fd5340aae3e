package admission

// Headroom returns the node's admission rule, a LineConfig.Headroom: the
// node takes listeners freely while the overload manager m (nil: none)
// sheds nothing and, when maxListeners > 0, the listeners counted from
// tickets (which include the joins just admitted, see Listeners.Admitted)
// are fewer than maxListeners.
func Headroom(m *Manager, l *Listeners, maxListeners int) func() bool {
	return func() bool {
		if m != nil && !m.Headroom() {
			return false
		}
		if maxListeners <= 0 {
			return true
		}
		return l.Total() < maxListeners
	}
}
