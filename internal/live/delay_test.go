package live

import (
	"bytes"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/mix"
)

// frame returns a distinct packet for frame i.
func frame(i int) []byte { return []byte{byte(i), byte(i >> 8), 0xAA} }

func TestDelayLine(t *testing.T) {
	sil := []byte{0xF8}
	d := newDelayLine(sil)
	t0 := time.Unix(1000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * frameDur) }
	lv := func(i int) []mix.Level { return []mix.Level{{ID: "a", Level: float32(i)}} }

	// No delay: frames pass through.
	if got := d.push(frame(0), lv(0), at(0)); !bytes.Equal(got, frame(0)) {
		t.Fatalf("no delay: got %x", got)
	}
	// 1 s = 50 frames: 50 silent frames, then frame 1 comes out 50 frames later.
	d.setDelay(time.Second)
	i := 1
	for ; i <= 50; i++ {
		if got := d.push(frame(i), lv(i), at(i)); !bytes.Equal(got, sil) {
			t.Fatalf("raising: frame %d out %x, want silence", i, got)
		}
		if d.levels() != nil {
			t.Fatalf("raising: levels while silent")
		}
	}
	for ; i <= 100; i++ {
		if got := d.push(frame(i), lv(i), at(i)); !bytes.Equal(got, frame(i-50)) {
			t.Fatalf("delayed: frame %d out %x, want %x", i, got, frame(i-50))
		}
		if l := d.levels(); len(l) != 1 || l[0].Level != float32(i-50) {
			t.Fatalf("delayed levels %v, want those of frame %d", l, i-50)
		}
	}
	// Dump the newest 1 s (frames 51..100): all silent when they leave.
	from, to, err := d.dump(time.Second)
	if err != nil || !from.Equal(at(51)) || !to.Equal(at(101)) {
		t.Fatalf("dump: %v..%v %v, want %v..%v", from, to, err, at(51), at(101))
	}
	for ; i <= 150; i++ {
		if got := d.push(frame(i), lv(i), at(i)); !bytes.Equal(got, sil) {
			t.Fatalf("dumped frame %d reached the audience: %x", i-50, got)
		}
	}
	if got := d.push(frame(i), lv(i), at(i)); !bytes.Equal(got, frame(i-50)) {
		t.Fatalf("after dump: got %x, want %x", got, frame(i-50))
	}
	i++
	// Too much or too little.
	for _, bad := range []time.Duration{0, 500 * time.Millisecond, 2 * time.Second} {
		if _, _, err := d.dump(bad); err == nil {
			t.Errorf("dump %v: no error", bad)
		}
	}
	// Lowering to 0 skips what was held: the next frame out is the newest.
	d.setDelay(0)
	if got := d.push(frame(i), lv(i), at(i)); !bytes.Equal(got, frame(i)) {
		t.Fatalf("lowered: got %x, want the newest %x", got, frame(i))
	}
}

func TestDelayLinePushAllocatesNothing(t *testing.T) {
	d := newDelayLine([]byte{0xF8})
	d.setDelay(10 * time.Second)
	pkt, now := frame(1), time.Now()
	for range 2 * len(d.ring) { // every slot has its buffer
		d.push(pkt, nil, now)
	}
	if n := testing.AllocsPerRun(1000, func() { d.push(pkt, nil, now) }); n != 0 {
		t.Fatalf("push allocates %v per frame", n)
	}
}
