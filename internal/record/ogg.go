package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/thesyncim/gopus/container/ogg"
)

// Ogg Opus (RFC 3533, RFC 7845) as podium writes and reads it: mono,
// 48 kHz, pre-skip 312, one logical stream per file, every page holding
// whole packets only (no packet continues on the next page), the granule
// position of a page being 960 × the packets up to its end.

const (
	sampleRate   = 48000
	frameSamples = 960 // one 20 ms packet
	frameDur     = 20 * 1000 * 1000
	preSkip      = 312
	vendor       = "podium"

	pageHeaderLen = 27
	maxSegments   = 255
	flagContinued = 0x01
	flagBOS       = 0x02
	flagEOS       = 0x04
	// maxPacket bounds packets accepted from the mixer and from storage.
	maxPacket = 4000
)

// crcTable is the Ogg CRC-32 (polynomial 0x04c11db7, not reflected).
var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

func crcUpdate(crc uint32, b []byte) uint32 {
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^c]
	}
	return crc
}

// lacing is the number of lacing values a packet of n bytes needs.
func lacing(n int) int { return n/255 + 1 }

// pageFit is how many of the packets with lengths lens (at most maxPkts)
// go on the next page: as many as fit in 255 lacing values, at least one.
func pageFit(lens func(i int) int, n, maxPkts int) int {
	segs, k := 0, 0
	for k < n && k < maxPkts {
		l := lacing(lens(k))
		if k > 0 && segs+l > maxSegments {
			break
		}
		segs += l
		k++
	}
	return k
}

// appendPage appends one Ogg page holding pkts (whole packets, each under
// 255×255 bytes) to dst.
func appendPage(dst []byte, flags byte, granule uint64, serial, seq uint32, pkts [][]byte) []byte {
	start := len(dst)
	var h [pageHeaderLen]byte
	copy(h[:], "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], granule)
	binary.LittleEndian.PutUint32(h[14:], serial)
	binary.LittleEndian.PutUint32(h[18:], seq)
	nseg := 0
	for _, p := range pkts {
		nseg += lacing(len(p))
	}
	h[26] = byte(nseg)
	dst = append(dst, h[:]...)
	for _, p := range pkts {
		n := len(p)
		for ; n >= 255; n -= 255 {
			dst = append(dst, 255)
		}
		dst = append(dst, byte(n))
	}
	for _, p := range pkts {
		dst = append(dst, p...)
	}
	binary.LittleEndian.PutUint32(dst[start+22:], crcUpdate(0, dst[start:]))
	return dst
}

// appendHeaders appends the two header pages (OpusHead, OpusTags) of a
// stream with the given serial.
func appendHeaders(dst []byte, serial uint32) []byte {
	head := ogg.DefaultOpusHead(sampleRate, 1)
	head.PreSkip = preSkip
	tags := &ogg.OpusTags{Vendor: vendor}
	dst = appendPage(dst, flagBOS, 0, serial, 0, [][]byte{head.Encode()})
	return appendPage(dst, 0, 0, serial, 1, [][]byte{tags.Encode()})
}

// headersLen is the size of appendHeaders' output (it depends on nothing).
var headersLen = len(appendHeaders(nil, 0))

// pageLen is the size of a page holding packets with lengths lens.
func pageLen(lens func(i int) int, n int) int {
	size := pageHeaderLen
	for i := range n {
		size += lacing(lens(i)) + lens(i)
	}
	return size
}

// scan is the state of reading one session file: where its packets are.
// A scan can be resumed at end after the file grew.
type scan struct {
	end     int64 // offset after the last valid page
	stage   int   // 0: want OpusHead, 1: want OpusTags, 2: audio, 3: ended (EOS)
	serial  uint32
	nextSeq uint32
	off     []int64 // packet i is at off[i], len[i] bytes
	len     []int32
}

func (s *scan) frames() int { return len(s.off) }

var errStop = errors.New("record: stop scanning")

// resume reads pages of r from s.end up to size, stopping without error at
// the first page that is incomplete (torn), corrupt or does not belong to
// the stream: what follows such a page is never trusted. Only I/O errors
// are returned.
func (s *scan) resume(r io.ReaderAt, size int64) error {
	if s.stage == 3 || size <= s.end {
		return nil
	}
	br := bufio.NewReaderSize(io.NewSectionReader(r, s.end, size-s.end), 64<<10)
	var hdr [pageHeaderLen + maxSegments]byte
	var body []byte
	for {
		err := s.page(br, hdr[:], &body)
		if err == errStop || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if s.stage == 3 {
			return nil
		}
	}
}

// page reads and checks one page and, when valid, records it in s.
func (s *scan) page(br *bufio.Reader, hdr []byte, body *[]byte) error {
	if _, err := io.ReadFull(br, hdr[:pageHeaderLen]); err != nil {
		return err
	}
	if string(hdr[:4]) != "OggS" || hdr[4] != 0 {
		return errStop
	}
	flags := hdr[5]
	granule := binary.LittleEndian.Uint64(hdr[6:])
	serial := binary.LittleEndian.Uint32(hdr[14:])
	seq := binary.LittleEndian.Uint32(hdr[18:])
	nseg := int(hdr[26])
	segs := hdr[pageHeaderLen : pageHeaderLen+nseg]
	if _, err := io.ReadFull(br, segs); err != nil {
		return err
	}
	payload := 0
	for _, v := range segs {
		payload += int(v)
	}
	if cap(*body) < payload {
		*body = make([]byte, payload)
	}
	b := (*body)[:payload]
	if _, err := io.ReadFull(br, b); err != nil {
		return err
	}
	want := binary.LittleEndian.Uint32(hdr[22:])
	crc := crcUpdate(0, hdr[:22])
	crc = crcUpdate(crc, []byte{0, 0, 0, 0})
	crc = crcUpdate(crc, hdr[26:pageHeaderLen+nseg])
	crc = crcUpdate(crc, b)
	if crc != want || flags&flagContinued != 0 || (nseg > 0 && segs[nseg-1] == 255) {
		return errStop
	}
	if s.stage == 0 {
		if flags&flagBOS == 0 || seq != 0 {
			return errStop
		}
		if _, err := ogg.ParseOpusHead(b); err != nil {
			return errStop
		}
		s.serial = serial
	} else if serial != s.serial || seq != s.nextSeq || flags&flagBOS != 0 {
		return errStop
	}
	pageStart := s.end
	dataOff := pageStart + int64(pageHeaderLen+nseg)
	pageLen := int64(pageHeaderLen + nseg + payload)
	switch s.stage {
	case 0:
		s.stage = 1
	case 1:
		if _, err := ogg.ParseOpusTags(b); err != nil {
			return errStop
		}
		s.stage = 2
	case 2:
		// Split the lacing into packets; reject empty or oversized ones
		// and a granule that does not match the packet count.
		n, cur, added := 0, 0, 0
		for _, v := range segs {
			cur += int(v)
			if v < 255 {
				if cur == 0 || cur > maxPacket {
					s.off, s.len = s.off[:len(s.off)-added], s.len[:len(s.len)-added]
					return errStop
				}
				s.off = append(s.off, dataOff+int64(n))
				s.len = append(s.len, int32(cur))
				added++
				n += cur
				cur = 0
			}
		}
		if granule != uint64(len(s.off))*frameSamples {
			s.off, s.len = s.off[:len(s.off)-added], s.len[:len(s.len)-added]
			return errStop
		}
		if flags&flagEOS != 0 {
			s.stage = 3
		}
	}
	s.end = pageStart + pageLen
	s.nextSeq = seq + 1
	return nil
}
