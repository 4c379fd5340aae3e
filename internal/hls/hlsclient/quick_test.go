package hlsclient

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/podium-live/podium/internal/hls"
)

// TestQuickParseMatchesFullParser reads the packager's own playlists (live,
// blocking reload, ended) with both parsers and wants the same segments,
// parts and map.
func TestQuickParseMatchesFullParser(t *testing.T) {
	now := time.Now()
	st := hls.NewStream("sp_q", now, now, hls.Config{})
	srv := hls.NewServer(nil)
	srv.Add(st)
	get := func(q string) []byte {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", "/hls/sp_q/index.m3u8"+q, nil))
		if w.Code != 200 {
			t.Fatalf("playlist%s: %d", q, w.Code)
		}
		b, _ := io.ReadAll(w.Body)
		return b
	}
	var bodies [][]byte
	for i := range 1300 { // past two full segments and into a third
		st.WriteFrame([]byte{byte(i)})
		if i == 200 || i == 777 {
			bodies = append(bodies, get(""))
		}
	}
	bodies = append(bodies, get("?_HLS_msn=1&_HLS_part=0"))
	st.Close()
	bodies = append(bodies, get(""))

	for i, b := range bodies {
		q, err := quickParse(b)
		if err != nil {
			t.Fatalf("playlist %d: quick: %v\n%s", i, err, b)
		}
		pl, err := playlist.Unmarshal(b)
		if err != nil {
			t.Fatalf("playlist %d: full: %v", i, err)
		}
		f := pl.(*playlist.Media)
		if q.MediaSequence != f.MediaSequence || q.Endlist != f.Endlist || q.Map.URI != f.Map.URI ||
			len(q.Segments) != len(f.Segments) || len(q.Parts) != len(f.Parts) {
			t.Fatalf("playlist %d: quick seq %d end %t map %s %d segs %d parts; full seq %d end %t map %s %d segs %d parts",
				i, q.MediaSequence, q.Endlist, q.Map.URI, len(q.Segments), len(q.Parts), f.MediaSequence, f.Endlist, f.Map.URI, len(f.Segments), len(f.Parts))
		}
		sameParts := func(what string, a, b []*playlist.MediaPart) {
			if len(a) != len(b) {
				t.Fatalf("playlist %d %s: %d parts vs %d", i, what, len(a), len(b))
			}
			for k := range a {
				if a[k].URI != b[k].URI || a[k].Independent != b[k].Independent || (a[k].Duration-b[k].Duration).Abs() > time.Microsecond {
					t.Errorf("playlist %d %s part %d: %+v vs %+v", i, what, k, *a[k], *b[k])
				}
			}
		}
		for k := range q.Segments {
			qs, fs := q.Segments[k], f.Segments[k]
			if qs.URI != fs.URI || (qs.Duration-fs.Duration).Abs() > time.Microsecond {
				t.Errorf("playlist %d segment %d: %s %v vs %s %v", i, k, qs.URI, qs.Duration, fs.URI, fs.Duration)
			}
			sameParts("segment", qs.Parts, fs.Parts)
		}
		sameParts("trailing", q.Parts, f.Parts)
	}
	if len(bodies[1]) == 0 || !hasParts(bodies[1]) {
		t.Fatal("the live playlist lists no parts: the comparison proves little")
	}
}

func hasParts(b []byte) bool {
	m, err := quickParse(b)
	return err == nil && (len(m.Parts) > 0 || len(m.Segments) > 0 && len(m.Segments[0].Parts) > 0)
}

// TestQuickParseDeclines checks that what the quick parser does not read
// goes to the full parser instead of being misread.
func TestQuickParseDeclines(t *testing.T) {
	for name, pl := range map[string]string{
		"not a playlist":  "hello",
		"delta update":    "#EXTM3U\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n#EXTINF:2.0,\nseg.m4s\n",
		"byte ranges":     "#EXTM3U\n#EXT-X-PART:DURATION=0.2,URI=\"a.m4s\",BYTERANGE=10@0\n",
		"uri without inf": "#EXTM3U\nseg.m4s\n",
		"inf without uri": "#EXTM3U\n#EXTINF:2.0,\n",
		"bad part":        "#EXTM3U\n#EXT-X-PART:DURATION=x,URI=\"a.m4s\"\n",
	} {
		if _, err := quickParse([]byte(pl)); err != errNotQuick {
			t.Errorf("%s: %v, want errNotQuick", name, err)
		}
	}
}
