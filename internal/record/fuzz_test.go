package record

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestParseReplayPath(t *testing.T) {
	cases := []struct {
		path string
		want replayReq
		ok   bool
	}{
		{"/replay/sp_1/index.m3u8", replayReq{kind: kindPlaylist, id: "sp_1", view: "0"}, true},
		{"/replay/sp_1/init.mp4", replayReq{kind: kindInit, id: "sp_1", view: "0"}, true},
		{"/replay/sp_1/recording.opus", replayReq{kind: kindDownload, id: "sp_1", view: "0"}, true},
		{"/replay/sp_1/0-300.m4s", replayReq{kindSegment, "sp_1", "0", 0, 300}, true},
		{"/replay/sp_1/900-17.m4s", replayReq{kindSegment, "sp_1", "0", 900, 17}, true},
		{"/replay/sp_1/900-017.m4s", replayReq{}, false},
		{"/replay/sp_1/901-17.m4s", replayReq{}, false},
		{"/replay/sp_1/0-301.m4s", replayReq{}, false},
		{"/replay/sp_1/0-0.m4s", replayReq{}, false},
		{"/replay/sp_1/1000000000-1.m4s", replayReq{}, false},
		{"/replay//index.m3u8", replayReq{}, false},
		{"/replay/sp.1/index.m3u8", replayReq{}, false},
		{"/replay/sp_1/a1b2/index.m3u8", replayReq{kind: kindPlaylist, id: "sp_1", view: "a1b2"}, true},
		{"/replay/sp_1/a1b2/300-5.m4s", replayReq{kindSegment, "sp_1", "a1b2", 300, 5}, true},
		{"/replay/sp_1/x.y/index.m3u8", replayReq{}, false},
		{"/replay/sp_1//index.m3u8", replayReq{}, false},
		{"/replay/sp_1/a/b/index.m3u8", replayReq{}, false},
		{"/hls/sp_1/index.m3u8", replayReq{}, false},
	}
	for _, c := range cases {
		got, ok := parseReplayPath(c.path)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseReplayPath(%q) = %+v, %v; want %+v, %v", c.path, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseReplayPath: the parser never panics and accepts only
// canonical paths (each accepted path is the one way to name its content).
func FuzzParseReplayPath(f *testing.F) {
	for _, s := range []string{"/replay/sp_1/index.m3u8", "/replay/sp_1/0-300.m4s", "/replay/a/300-1.m4s",
		"/replay/sp_1/recording.opus", "/replay/sp_1/init.mp4", "/replay/x/-.m4s", "/replay/x/00-1.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		req, ok := parseReplayPath(p)
		if !ok {
			return
		}
		var file string
		switch req.kind {
		case kindPlaylist:
			file = "index.m3u8"
		case kindInit:
			file = "init.mp4"
		case kindDownload:
			file = "recording.opus"
		case kindSegment:
			if req.first%SegmentPackets != 0 || req.count < 1 || req.count > SegmentPackets {
				t.Fatalf("%q: bad range accepted: %+v", p, req)
			}
			file = fmt.Sprintf("%d-%d.m4s", req.first, req.count)
		default:
			t.Fatalf("%q: kind %d", p, req.kind)
		}
		if canon := Prefix + req.id + "/" + file; canon != p {
			t.Fatalf("%q accepted but its canonical form is %q", p, canon)
		}
	})
}

// FuzzLoadSession feeds arbitrary bytes as a session's audio and sidecar:
// Load never panics, and whatever it indexes can be read and exported.
func FuzzLoadSession(f *testing.F) {
	st := newDir(f)
	// Six packets: big seeds make every interesting input slow to
	// minimize (the engine tries removing each byte).
	record(f, st, "sp_seed", t0, schedule(f)[:6], func(i int) []Speaker {
		if i > 2 {
			return []Speaker{{"a", "A"}}
		}
		return nil
	})
	audio, err := os.ReadFile(filepath.Join(st.Dir(), "sp_seed", "s0001.ogg"))
	if err != nil {
		f.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(st.Dir(), "sp_seed", "s0001.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(audio, side)
	f.Add(audio[:len(audio)-7], side[:len(side)-3])
	f.Add(audio[:headersLen], []byte(`{"session":1}`+"\n"+`{"frame":-1,"speaking":[{"id":""}]}`+"\n"))
	flipped := bytes.Clone(audio)
	flipped[len(flipped)/2] ^= 0x40
	f.Add(flipped, []byte("garbage\n{}\n"))
	f.Add([]byte("OggS"), []byte{})
	f.Fuzz(func(t *testing.T, audio, side []byte) {
		// In memory: a directory and three files per input cost more
		// than the load (1,598 executions in 25 s).
		st := newMem()
		st.put(oggName("sp_f", 1), audio)
		st.put(eventsName("sp_f", 1), side)
		st.put(oggName("sp_f", 2), audio)
		rec, err := Load(st, "sp_f")
		if err != nil {
			t.Fatal(err)
		}
		pkts, err := rec.Packets(0, rec.Frames())
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pkts {
			if len(p) == 0 || len(p) > maxPacket {
				t.Fatalf("packet %d has %d bytes", i, len(p))
			}
		}
		for _, tr := range rec.Turns() {
			if tr.Start < 0 || tr.End > rec.Duration() || tr.End-tr.Start < 200e6 {
				t.Fatalf("turn %+v outside 0..%v", tr, rec.Duration())
			}
		}
		var buf bytes.Buffer
		if err := rec.WriteOgg(&buf); err != nil {
			t.Fatal(err)
		}
		if int64(buf.Len()) != rec.OggSize() {
			t.Fatalf("WriteOgg wrote %d bytes, OggSize %d", buf.Len(), rec.OggSize())
		}
	})
}
