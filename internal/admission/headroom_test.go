package admission

import (
	"testing"
	"time"
)

// TestHeadroomCountsTicketsOnly: a node made for two listeners is full once
// two tickets are admitted or playing, counting a listener admitted and
// then playing once; requests without a ticket never reach the counter; it
// has room again once the listeners have gone.
func TestHeadroomCountsTicketsOnly(t *testing.T) {
	clk := newClock()
	l := NewListeners(clk.Now)
	l.seed = 0 // fixed ids and seed: no chance of two ids sharing a register
	head := Headroom(nil, l, 2)
	if !head() {
		t.Fatal("empty node has no headroom")
	}
	l.Admitted("sp_a", 7)
	if !head() {
		t.Fatal("no headroom with one of two places taken")
	}
	clk.Add(time.Second)
	for range 50 {
		l.Seen("sp_a", 7) // the admitted listener plays: still one
	}
	if !head() {
		t.Fatal("an admitted listener who plays counted twice")
	}
	l.Admitted("sp_b", 8)
	if head() {
		t.Fatal("headroom with two admitted on a node for two")
	}
	clk.Add(2 * ListenerWindow)
	if !head() {
		t.Fatal("admissions of two windows ago still counted")
	}
	l.Seen("sp_a", 42)
	l.Seen("sp_b", 43)
	if head() {
		t.Fatal("headroom with two ticket holders playing on a node for two")
	}
	clk.Add(2*ListenerWindow + time.Millisecond)
	if !head() {
		t.Error("no headroom after the listener left")
	}
	m := NewManager(ManagerConfig{}, &fakeSignals{}, nil)
	m.shed.Store(shedMask(1))
	if Headroom(m, l, 0)() {
		t.Error("headroom while the manager sheds")
	}
}
