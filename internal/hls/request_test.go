package hls

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		path, query string
		want        request
		err         *reqError
	}{
		{"/hls/sp_1/index.m3u8", "", request{kind: kindPlaylist, id: "sp_1"}, nil},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=12&_HLS_part=3", request{kind: kindPlaylist, id: "sp_1", msn: 12, part: 3, hasMSN: true, hasPart: true}, nil},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=12", request{kind: kindPlaylist, id: "sp_1", msn: 12, hasMSN: true}, nil},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=12&_HLS_part=3&_HLS_skip=YES", request{kind: kindPlaylist, id: "sp_1", msn: 12, part: 3, hasMSN: true, hasPart: true, skip: true}, nil},
		{"/hls/sp_1/index.m3u8", "_HLS_skip=v2", request{kind: kindPlaylist, id: "sp_1", skip: true}, nil},
		{"/hls/sp_1/index.m3u8", "foo=bar&_HLS_msn=1", request{kind: kindPlaylist, id: "sp_1", msn: 1, hasMSN: true}, nil},
		{"/hls/sp_1/index.m3u8", "_HLS_part=3", request{}, errPartWithoutMSN},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=", request{}, errBadMSN},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=-1", request{}, errBadMSN},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=1e3", request{}, errBadMSN},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=1234567890123456", request{}, errBadMSN},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=1&_HLS_part=x", request{}, errBadPart},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=1&_HLS_msn=2", request{}, errDuplicate},
		{"/hls/sp_1/index.m3u8", "_HLS_skip=NO", request{}, errBadSkip},
		{"/hls/sp_1/init.mp4", "", request{kind: kindInit, id: "sp_1"}, nil},
		{"/hls/sp_1/init.mp4", "_HLS_msn=x", request{kind: kindInit, id: "sp_1"}, nil},
		{"/hls/sp_1/7.m4s", "", request{kind: kindSegment, id: "sp_1", msn: 7}, nil},
		{"/hls/sp_1/0.m4s", "", request{kind: kindSegment, id: "sp_1"}, nil},
		{"/hls/sp_1/7.9.m4s", "", request{kind: kindPart, id: "sp_1", msn: 7, part: 9}, nil},
		{"/hls/sp_1/07.9.m4s", "", request{}, errNotFound},
		{"/hls/sp_1/7.09.m4s", "", request{}, errNotFound},
		{"/hls/sp_1/7.9.9.m4s", "", request{}, errNotFound},
		{"/hls/sp_1/.m4s", "", request{}, errNotFound},
		{"/hls/sp_1/a.m4s", "", request{}, errNotFound},
		{"/hls/sp_1/7.m4", "", request{}, errNotFound},
		{"/hls/sp_1/", "", request{}, errNotFound},
		{"/hls/sp_1", "", request{}, errNotFound},
		{"/hls//index.m3u8", "", request{}, errNotFound},
		{"/hls/sp.1/index.m3u8", "", request{}, errNotFound},
		{"/hls/sp_1/x/y/index.m3u8", "", request{}, errNotFound},
		{"/other/sp_1/index.m3u8", "", request{}, errNotFound},
		{"/hls/" + strings.Repeat("a", 65) + "/index.m3u8", "", request{}, errNotFound},
	}
	for _, tt := range tests {
		got, err := parseRequest(tt.path, tt.query)
		if err != tt.err {
			t.Errorf("parseRequest(%q, %q) error = %v, want %v", tt.path, tt.query, err, tt.err)
			continue
		}
		if err == nil && got != tt.want {
			t.Errorf("parseRequest(%q, %q) = %+v, want %+v", tt.path, tt.query, got, tt.want)
		}
	}
}

func TestParseRequestAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		_, _ = parseRequest("/hls/sp_k3j4h5/index.m3u8", "_HLS_msn=123&_HLS_part=4&_HLS_skip=YES")
		_, _ = parseRequest("/hls/sp_k3j4h5/123.4.m4s", "")
		_, _ = parseRequest("/hls/sp_k3j4h5/../x", "")
	})
	if n != 0 {
		t.Errorf("parseRequest allocates %v times per run, want 0", n)
	}
}

// FuzzParseRequest checks that the parser never panics, that an accepted
// request names a valid id and one of the four files, and that a file
// request formats back to exactly the same path (one URL per file).
func FuzzParseRequest(f *testing.F) {
	for _, s := range [][2]string{
		{"/hls/sp_1/index.m3u8", ""},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=12&_HLS_part=3&_HLS_skip=YES"},
		{"/hls/sp_1/index.m3u8", "_HLS_part=3"},
		{"/hls/sp_1/index.m3u8", "_HLS_msn=99999999999999999999"},
		{"/hls/sp_1/init.mp4", ""},
		{"/hls/sp_1/12.m4s", ""},
		{"/hls/sp_1/12.3.m4s", ""},
		{"/hls/sp_1/012.3.m4s", ""},
		{"/hls//", "&&=&"},
		{"/hls/a/b/c", "_HLS_msn&_HLS_part"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		r, err := parseRequest(path, query)
		if err != nil {
			if err.status != 400 && err.status != 404 {
				t.Fatalf("status %d", err.status)
			}
			return
		}
		if !validID(r.id) {
			t.Fatalf("accepted id %q", r.id)
		}
		var file string
		switch r.kind {
		case kindPlaylist:
			file = "index.m3u8"
			if r.hasPart && !r.hasMSN {
				t.Fatal("part without msn accepted")
			}
		case kindInit:
			file = "init.mp4"
		case kindSegment:
			file = strconv.FormatUint(r.msn, 10) + ".m4s"
		case kindPart:
			file = strconv.FormatUint(r.msn, 10) + "." + strconv.FormatUint(r.part, 10) + ".m4s"
		default:
			t.Fatalf("kind %d", r.kind)
		}
		if want := Prefix + r.id + "/" + file; path != want {
			t.Fatalf("parsed %q as %q", path, want)
		}
		if r.msn >= 1e15 || r.part >= 1e15 {
			t.Fatalf("number out of range: %d %d", r.msn, r.part)
		}
	})
}

func TestParseView(t *testing.T) {
	for _, c := range []struct{ path, id, view string }{
		{"/hls/sp_1/index.m3u8", "sp_1", ""},
		{"/hls/sp_1/0/index.m3u8", "sp_1", ""},
		{"/hls/sp_1/monitor/3.1.m4s", "sp_1", "monitor"},
		{"/hls/sp_1/v3kd9/init.mp4", "sp_1", "v3kd9"},
	} {
		r, err := parseRequest(c.path, "")
		if err != nil || r.id != c.id || r.view != c.view {
			t.Errorf("%s: got id %q view %q err %v, want %q %q", c.path, r.id, r.view, err, c.id, c.view)
		}
	}
	for _, p := range []string{"/hls/sp_1/a.b/index.m3u8", "/hls/sp_1//index.m3u8", "/hls/sp_1/x/y/index.m3u8"} {
		if _, err := parseRequest(p, ""); err != errNotFound {
			t.Errorf("%s: got %v, want not found", p, err)
		}
	}
}
