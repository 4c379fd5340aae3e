package record

import (
	"bytes"
	"testing"
)

// sessionOgg writes pkts as one session's audio file the way the
// recorder does: the Opus headers, then pages of up to ten packets
// (200 ms), the last one end-of-stream when closed.
func sessionOgg(serial uint32, pkts [][]byte, closed bool) []byte {
	b := appendHeaders(nil, serial)
	seq, frames := uint32(2), 0
	for len(pkts) > 0 {
		n := min(10, len(pkts))
		k := pageFit(func(i int) int { return len(pkts[i]) }, n, n)
		frames += k
		var flags byte
		if closed && k == len(pkts) {
			flags = flagEOS
		}
		b = appendPage(b, flags, uint64(frames)*frameSamples, serial, seq, pkts[:k])
		seq++
		pkts = pkts[k:]
	}
	return b
}

// FuzzExport: whatever packets a recording holds, in however many
// sessions, the download is one Ogg Opus stream of exactly OggSize bytes
// that a third-party reader (gopus's) reads back as the same packets in
// order, ending at their granule position.
func FuzzExport(f *testing.F) {
	f.Add([]byte("abcdefghij"), []byte{1, 2, 3, 4}, uint8(0))
	f.Add(bytes.Repeat([]byte{0xfc}, 600), []byte{255, 0, 1, 254, 0, 0, 200}, uint8(2))
	f.Add([]byte{}, []byte{}, uint8(1))
	f.Add(bytes.Repeat([]byte{7}, 5000), []byte{0x0f, 0x9f, 0x0f, 0xa0}, uint8(5))
	f.Fuzz(func(t *testing.T, data, lens []byte, sessions uint8) {
		// Packets: lengths from pairs of bytes (1..maxPacket), content from
		// data, cycled.
		// At most 300 packets (a replay segment, six download pages) and
		// 64 KiB: what a page boundary or a session join can get wrong
		// shows at that size, and an input stays well under a millisecond.
		var pkts [][]byte
		total := 0
		for i := 0; i+1 < len(lens) && len(pkts) < 300 && total < 64<<10; i += 2 {
			n := (int(lens[i])<<8|int(lens[i+1]))%maxPacket + 1
			total += n
			p := make([]byte, n)
			for j := range p {
				if len(data) > 0 {
					p[j] = data[(len(pkts)+j)%len(data)]
				}
			}
			pkts = append(pkts, p)
		}
		st := newMem()
		ns := int(sessions%4) + 1
		per := (len(pkts) + ns - 1) / ns
		for s := range ns {
			part := pkts[min(s*per, len(pkts)):min((s+1)*per, len(pkts))]
			st.put(oggName("sp_x", s+1), sessionOgg(uint32(1000+s), part, s < ns-1 || sessions&0x80 == 0))
		}
		rec, err := Load(st, "sp_x")
		if err != nil {
			t.Fatal(err)
		}
		if rec.Frames() != len(pkts) {
			t.Fatalf("loaded %d packets of %d", rec.Frames(), len(pkts))
		}
		var out bytes.Buffer
		if err := rec.WriteOgg(&out); err != nil {
			t.Fatal(err)
		}
		if int64(out.Len()) != rec.OggSize() {
			t.Fatalf("WriteOgg wrote %d bytes, OggSize says %d", out.Len(), rec.OggSize())
		}
		got, granule := readOgg(t, out.Bytes())
		if len(got) != len(pkts) || granule != uint64(len(pkts))*frameSamples {
			t.Fatalf("read back %d packets ending at %d, want %d ending at %d", len(got), granule, len(pkts), len(pkts)*frameSamples)
		}
		for i := range pkts {
			if !bytes.Equal(got[i], pkts[i]) {
				t.Fatalf("packet %d differs", i)
			}
		}
	})
}
