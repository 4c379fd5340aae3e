package live

import (
	"reflect"
	"testing"

	"github.com/podium-live/podium/internal/mix"
)

// TestAddStatsEveryField: every mixer counter is summed, including any
// added to mix.Stats later.
func TestAddStatsEveryField(t *testing.T) {
	var a, b mix.Stats
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		av.Field(i).SetUint(uint64(i + 1))
		bv.Field(i).SetUint(uint64(100 * (i + 1)))
	}
	sum := a
	addStats(&sum, b)
	sv := reflect.ValueOf(sum)
	for i := range sv.NumField() {
		if got, want := sv.Field(i).Uint(), uint64(101*(i+1)); got != want {
			t.Errorf("%s = %d, want %d", sv.Type().Field(i).Name, got, want)
		}
	}
	if d := subStats(sum, b); d != a {
		t.Errorf("subStats = %+v, want %+v", d, a)
	}
}

func TestKeyedLocksForget(t *testing.T) {
	var k keyedLocks
	unlock := k.lock("a")
	unlock2 := k.lock("b")
	unlock()
	unlock2()
	if len(k.m) != 0 {
		t.Fatalf("%d locks kept after release", len(k.m))
	}
}
