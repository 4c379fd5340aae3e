package policy

import (
	"testing"
	"time"
)

func TestViews(t *testing.T) {
	now := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	de := Restriction{ID: "d1", Kind: WithholdRange, From: time.Minute, To: 2 * time.Minute, Territories: []Territory{"DE"}}
	atde := Restriction{ID: "d2", Kind: WithholdRange, From: 3 * time.Minute, To: 4 * time.Minute, Territories: []Territory{"DE", "AT"}}
	label := Restriction{ID: "d3", Kind: Label, Text: "disputed"}
	lapsed := Restriction{ID: "d4", Kind: WithholdRecording, Until: now.Add(-time.Second)}
	p := New("s", []Restriction{atde, de, label, lapsed}, now, Strictest)

	if got := len(p.Restrictions()); got != 3 {
		t.Fatalf("%d restrictions in force, want 3 (the lapsed one left out)", got)
	}
	vDE, vAT, vFR, vUnknown := p.For("DE"), p.For("AT"), p.For("FR"), p.For(Unknown)
	if vFR.ID != None || len(vFR.Restrictions) != 1 {
		t.Errorf("FR view = %q with %d restrictions, want %q with the label only", vFR.ID, len(vFR.Restrictions), None)
	}
	if vDE.ID == None || vAT.ID == None || vDE.ID == vAT.ID {
		t.Errorf("DE %q and AT %q must be distinct restricted views", vDE.ID, vAT.ID)
	}
	if vUnknown.ID != vDE.ID {
		t.Errorf("unknown territory gets %q, want the strictest (DE's %q)", vUnknown.ID, vDE.ID)
	}
	if p.For("IT") != vFR {
		t.Error("territories no restriction names must share one view")
	}
	for _, v := range []*View{vDE, vAT, vFR} {
		if got, ok := p.View(v.ID); !ok || got.ID != v.ID {
			t.Errorf("View(%q) not found", v.ID)
		}
	}
	if _, ok := p.View("vffffffffffff"); ok {
		t.Error("an unknown view id was found")
	}
	// A reversal of d2 gives AT the original audio back, and DE a new id.
	q := New("s", []Restriction{de, label}, now, Strictest)
	if q.For("AT").ID != None || q.For("DE").ID == vDE.ID {
		t.Errorf("after reversal: AT %q (want %q), DE %q (want a new id)", q.For("AT").ID, None, q.For("DE").ID)
	}
	if New("s", []Restriction{de}, now, Permissive).For(Unknown).ID != None {
		t.Error("permissive: unknown territory must get only restrictions in force everywhere")
	}
	var nilp *Policy
	if nilp.For("DE").ID != None {
		t.Error("nil policy must give the original audio")
	}
	if p.Next() != (time.Time{}) {
		t.Error("no restriction lapses in the future, Next must be zero")
	}
}

func TestLiveSilenced(t *testing.T) {
	since := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	p := New("s", []Restriction{{ID: "x", Kind: SilenceLive, Since: since, Territories: []Territory{"DE"}}}, since, Strictest)
	if p.For("DE").LiveSilenced(since.Add(-time.Millisecond)) || !p.For("DE").LiveSilenced(since) {
		t.Error("DE live silence must start exactly at Since")
	}
	if p.For("FR").LiveSilenced(since.Add(time.Hour)) {
		t.Error("FR must not be silenced")
	}
}

func TestParseTerritory(t *testing.T) {
	for _, ok := range []string{"DE", "de", "GR", "US"} {
		if _, err := ParseTerritory(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "D", "DEU", "EL", "XX", "EU", "zz"} {
		if _, err := ParseTerritory(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
