package hlsclient

import (
	"bytes"
	"errors"
	"strconv"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// errNotQuick says a playlist uses something quickParse does not read;
// the caller falls back to the full parser.
var errNotQuick = errors.New("hlsclient: playlist needs the full parser")

// quickParse reads the parts of an LL-HLS media playlist that Play uses
// (media sequence, map, segments with their parts, the trailing parts,
// end of list) into the same structure as playlist.Unmarshal, at a fraction
// of the cost: the load tool's players reload a playlist for every part
// they fetch. Anything it does not expect (delta updates, byte ranges,
// another tag carrying a URI) returns errNotQuick.
func quickParse(b []byte) (*playlist.Media, error) {
	if !bytes.HasPrefix(b, []byte("#EXTM3U")) {
		return nil, errNotQuick
	}
	m := &playlist.Media{}
	var parts []*playlist.MediaPart
	var segDur time.Duration
	inSeg := false
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(line) == 0:
		case line[0] != '#':
			if !inSeg {
				return nil, errNotQuick
			}
			m.Segments = append(m.Segments, &playlist.MediaSegment{Duration: segDur, URI: string(line), Parts: parts})
			parts, inSeg = nil, false
		case bytes.HasPrefix(line, []byte("#EXT-X-MEDIA-SEQUENCE:")):
			n, err := strconv.Atoi(string(line[len("#EXT-X-MEDIA-SEQUENCE:"):]))
			if err != nil {
				return nil, errNotQuick
			}
			m.MediaSequence = n
		case bytes.HasPrefix(line, []byte("#EXT-X-MAP:")):
			uri, ok := attr(line, "URI")
			if !ok || bytes.Contains(line, []byte("BYTERANGE")) {
				return nil, errNotQuick
			}
			m.Map = &playlist.MediaMap{URI: uri}
		case bytes.HasPrefix(line, []byte("#EXTINF:")):
			v := line[len("#EXTINF:"):]
			if i := bytes.IndexByte(v, ','); i >= 0 {
				v = v[:i]
			}
			d, err := seconds(v)
			if err != nil {
				return nil, errNotQuick
			}
			segDur, inSeg = d, true
		case bytes.HasPrefix(line, []byte("#EXT-X-PART:")):
			uri, ok := attr(line, "URI")
			dv, ok2 := attr(line, "DURATION")
			d, err := seconds([]byte(dv))
			if !ok || !ok2 || err != nil || bytes.Contains(line, []byte("BYTERANGE")) {
				return nil, errNotQuick
			}
			parts = append(parts, &playlist.MediaPart{Duration: d, URI: uri, Independent: bytes.Contains(line, []byte("INDEPENDENT=YES"))})
		case bytes.Equal(line, []byte("#EXT-X-ENDLIST")):
			m.Endlist = true
		case bytes.HasPrefix(line, []byte("#EXT-X-SKIP")), bytes.HasPrefix(line, []byte("#EXT-X-BYTERANGE")),
			bytes.HasPrefix(line, []byte("#EXT-X-KEY")):
			return nil, errNotQuick
		}
	}
	if inSeg {
		return nil, errNotQuick // an EXTINF without its URI
	}
	m.Parts = parts
	return m, nil
}

// attr returns attribute name of a tag line (quoted or not).
func attr(line []byte, name string) (string, bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return "", false
	}
	rest := line[i+1:]
	for len(rest) > 0 {
		k, v, ok := bytes.Cut(rest, []byte("="))
		if !ok {
			return "", false
		}
		if len(v) > 0 && v[0] == '"' {
			end := bytes.IndexByte(v[1:], '"')
			if end < 0 {
				return "", false
			}
			if string(k) == name {
				return string(v[1 : 1+end]), true
			}
			rest = v[2+end:]
		} else {
			end := bytes.IndexByte(v, ',')
			if end < 0 {
				end = len(v)
			}
			if string(k) == name {
				return string(v[:end]), true
			}
			rest = v[end:]
		}
		rest = bytes.TrimPrefix(rest, []byte(","))
	}
	return "", false
}

// seconds parses a decimal number of seconds.
func seconds(v []byte) (time.Duration, error) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f < 0 {
		return 0, errNotQuick
	}
	return time.Duration(f * float64(time.Second)), nil
}
