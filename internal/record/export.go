package record

import (
	"fmt"
	"hash/fnv"
	"io"
)

// The download is the whole recording as one Ogg Opus logical stream:
// one serial, page sequence and granule positions continuous across
// sessions (gaps collapsed, as in the replay), pages of up to one second,
// end-of-stream on the last page. Its layout depends only on the packet
// lengths, so its size is known before it is written (OggSize).

// exportPagePackets is the most packets on one download page (1 s):
// small enough for players to seek precisely by bisection.
const exportPagePackets = 50

// exportChunkPackets is how many packets WriteOgg reads at once.
const exportChunkPackets = 1500

// serial is the download's stream serial number.
func (r *Recording) serial() uint32 {
	h := fnv.New32a()
	h.Write([]byte(r.id))
	return h.Sum32()
}

// lenAt returns an accessor of packet lengths by recording index.
func (r *Recording) lengths() []int32 {
	lens := make([]int32, 0, r.frames)
	for _, s := range r.sessions {
		lens = append(lens, s.scan.len...)
	}
	return lens
}

// pages returns the number of packets on each download page.
func exportPages(lens []int32) []int {
	var pages []int
	for pos := 0; pos < len(lens); {
		rest := lens[pos:]
		k := pageFit(func(i int) int { return int(rest[i]) }, len(rest), exportPagePackets)
		pages = append(pages, k)
		pos += k
	}
	return pages
}

// OggSize is the exact size of WriteOgg's output.
func (r *Recording) OggSize() int64 { return r.oggSize(nil) }

// oggSize is the exact size of writeOgg's output with m silenced.
func (r *Recording) oggSize(m mask) int64 {
	lens := m.lengths(r.lengths())
	size := int64(headersLen)
	pos := 0
	for _, k := range exportPages(lens) {
		page := lens[pos : pos+k]
		size += int64(pageLen(func(i int) int { return int(page[i]) }, k))
		pos += k
	}
	if len(lens) == 0 {
		size += pageHeaderLen // an empty end-of-stream page
	}
	return size
}

// WriteOgg writes the whole recording to w as one continuous Ogg Opus
// stream.
func (r *Recording) WriteOgg(w io.Writer) error { return r.writeOgg(w, nil) }

// writeOgg is WriteOgg with the frames m names replaced by silence.
func (r *Recording) writeOgg(w io.Writer, m mask) error {
	serial := r.serial()
	buf := appendHeaders(make([]byte, 0, 64<<10), serial)
	lens := m.lengths(r.lengths())
	pages := exportPages(lens)
	var pr packetReader
	defer pr.close()
	seq, pos := uint32(2), 0
	if len(pages) == 0 {
		buf = appendPage(buf, flagEOS, 0, serial, seq, nil)
	}
	for pi := 0; pi < len(pages); {
		// Read the packets of as many whole pages as make a chunk.
		n, pj := 0, pi
		for pj < len(pages) && (n == 0 || n+pages[pj] <= exportChunkPackets) {
			n += pages[pj]
			pj++
		}
		pkts, err := pr.read(r, pos, n)
		if err != nil {
			return err
		}
		m.apply(pos, pkts)
		for ; pi < pj; pi++ {
			k := pages[pi]
			pos += k
			var flags byte
			if pi == len(pages)-1 {
				flags = flagEOS
			}
			buf = appendPage(buf, flags, uint64(pos)*frameSamples, serial, seq, pkts[:k])
			pkts = pkts[k:]
			seq++
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("record: write ogg: %w", err)
		}
		buf = buf[:0]
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("record: write ogg: %w", err)
		}
	}
	return nil
}
