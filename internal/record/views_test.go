package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/podium-live/podium/internal/policy"
	"github.com/podium-live/podium/internal/tone"
)

// viewsEnv serves sp_pub with [1.01 s, 4.03 s) withheld in DE (frames 50
// to 202: both bounds rounded outward to whole frames) and sp_pubgone
// withheld whole in FR; the territory comes from X-T, the legal-hold
// credential is X-Op: yes.
func viewsEnv(t *testing.T) (*replayEnv, string) {
	t.Helper()
	e := &replayEnv{st: newDir(t), pkts: schedule(t)}
	record(t, e.st, "sp_pub", t0, e.pkts, nil)
	record(t, e.st, "sp_pubgone", t0, e.pkts, nil)
	now := time.Now()
	src := policy.Static{
		"sp_pub": policy.New("sp_pub", []policy.Restriction{{ID: "d1", Kind: policy.WithholdRange, From: 1010 * time.Millisecond,
			To: 4030 * time.Millisecond, Territories: []policy.Territory{"DE"}}}, now, policy.Strictest),
		"sp_pubgone": policy.New("sp_pubgone", []policy.Restriction{{ID: "d2", Kind: policy.WithholdRecording,
			Territories: []policy.Territory{"FR"}, Text: "Withheld in FR"}}, now, policy.Strictest),
	}
	e.srv = NewServer(e.st, testPolicy, Views{
		Policies:  src,
		Territory: func(r *http.Request) policy.Territory { return policy.Territory(r.Header.Get("X-T")) },
		Original:  func(r *http.Request, _ string) bool { return r.Header.Get("X-Op") == "yes" },
	}, nil, nil)
	mux := http.NewServeMux()
	mux.Handle(Prefix, e.srv)
	e.http = httptest.NewServer(mux)
	t.Cleanup(e.http.Close)
	return e, src["sp_pub"].For("DE").ID
}

const withheldFrom, withheldTo = 50, 202

func TestReplayViews(t *testing.T) {
	e, de := viewsEnv(t)
	// The wrong view: 409 naming the right one.
	for _, tc := range []struct{ terr, path, want string }{
		{"DE", "/replay/sp_pub/index.m3u8", de},
		{"DE", "/replay/sp_pub/0/0-300.m4s", de},
		{"FR", "/replay/sp_pub/" + de + "/recording.opus", "0"},
		{"", "/replay/sp_pub/0/index.m3u8", de}, // unknown: the strictest
	} {
		res, body := e.do(t, "GET", tc.path, "X-T", tc.terr)
		var doc struct{ Code, View string }
		json.Unmarshal(body, &doc)
		if res.StatusCode != http.StatusConflict || doc.Code != "view_changed" || doc.View != tc.want {
			t.Errorf("%s from %q: %d %s, want 409 view_changed view %s", tc.path, tc.terr, res.StatusCode, body, tc.want)
		}
	}
	// Legal hold: view 0 for the credential, from DE.
	if res, _ := e.do(t, "GET", "/replay/sp_pub/0/0-300.m4s", "X-T", "DE", "X-Op", "yes"); res.StatusCode != 200 {
		t.Errorf("legal hold: %d", res.StatusCode)
	}
	// Withheld whole in FR: 451 with the statement.
	res, body := e.do(t, "GET", "/replay/sp_pubgone/"+policy.New("x", []policy.Restriction{{ID: "d2", Kind: policy.WithholdRecording,
		Territories: []policy.Territory{"FR"}}}, time.Now(), policy.Strictest).For("FR").ID+"/index.m3u8", "X-T", "FR")
	if res.StatusCode != http.StatusUnavailableForLegalReasons || !bytes.Contains(body, []byte(`"statement_url":"/statements/d2"`)) ||
		!bytes.Contains(body, []byte(`"code":"withheld"`)) {
		t.Errorf("withheld recording: %d %s", res.StatusCode, body)
	}

	// DE's playlist lists the same durations as the original.
	dePl := parseMedia(t, getAs(t, e, "/replay/sp_pub/"+de+"/index.m3u8", "DE"))
	frPl := parseMedia(t, getAs(t, e, "/replay/sp_pub/index.m3u8", "FR"))
	if len(dePl.Segments) != len(frPl.Segments) {
		t.Fatalf("DE playlist %d segments, FR %d", len(dePl.Segments), len(frPl.Segments))
	}
	for i := range dePl.Segments {
		if dePl.Segments[i].Duration != frPl.Segments[i].Duration || dePl.Segments[i].URI != frPl.Segments[i].URI {
			t.Errorf("segment %d: DE %+v, FR %+v", i, dePl.Segments[i], frPl.Segments[i])
		}
	}
	// Segments: silence exactly on the withheld frames, the original elsewhere.
	var got [][]byte
	for _, uri := range []string{"0-300.m4s", "300-200.m4s"} { // (the playlist lists only full segments while recording)
		var parts fmp4.Parts
		if err := parts.Unmarshal(getAs(t, e, "/replay/sp_pub/"+de+"/"+uri, "DE")); err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			for _, s := range p.Tracks[0].Samples {
				got = append(got, s.Payload)
			}
		}
	}
	checkMasked(t, "segments", got, e.pkts)
	// FR's segment is the original.
	var parts fmp4.Parts
	if err := parts.Unmarshal(getAs(t, e, "/replay/sp_pub/0-300.m4s", "FR")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(parts[0].Tracks[0].Samples[100].Payload, e.pkts[100]) {
		t.Error("FR hears DE's silence")
	}

	// The download: same timeline, silence on the same frames, Range true.
	deOgg := getAs(t, e, "/replay/sp_pub/"+de+"/recording.opus", "DE")
	pkts, granule := readOgg(t, deOgg)
	if granule != uint64(len(e.pkts))*frameSamples {
		t.Errorf("DE download granule %d, want %d", granule, len(e.pkts)*frameSamples)
	}
	checkMasked(t, "download", pkts, e.pkts)
	pcm := decode(t, pkts)
	if p := tone.Power(pcm[int(1.1*48000):int(3.9*48000)], 440, 48000) + tone.Power(pcm[int(1.1*48000):int(3.9*48000)], 660, 48000); p > 0.01 {
		t.Errorf("DE download: tone %.3f in the withheld range", p)
	}
	checkTone(t, "DE download before", pcm, 0.1, 0.95, 440)
	checkTone(t, "DE download after", pcm, 4.2, 5.9, 660)
	frOgg := getAs(t, e, "/replay/sp_pub/recording.opus", "FR")
	if bytes.Equal(frOgg, deOgg) {
		t.Fatal("FR and DE downloads are the same")
	}
	fr, _ := readOgg(t, frOgg)
	checkMasked(t, "FR download (nothing withheld)", fr, e.pkts, true)
	req, _ := http.NewRequest("GET", e.http.URL+"/replay/sp_pub/"+de+"/recording.opus", nil)
	req.Header.Set("X-T", "DE")
	req.Header.Set("Range", "bytes=1000-1999")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 2000)
	n, _ := res.Body.Read(part)
	for n < 1000 {
		m, err := res.Body.Read(part[n:])
		n += m
		if err != nil {
			break
		}
	}
	res.Body.Close()
	if res.StatusCode != 206 || res.Header.Get("Content-Range") != "bytes 1000-1999/"+strconv.Itoa(len(deOgg)) || !bytes.Equal(part[:n], deOgg[1000:2000]) {
		t.Errorf("DE range: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Range"), n)
	}
}

func getAs(t *testing.T, e *replayEnv, path, terr string) []byte {
	t.Helper()
	res, body := e.do(t, "GET", path, "X-T", terr)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s from %s: %d %s", path, terr, res.StatusCode, body)
	}
	return body
}

// checkMasked: got is want with frames [withheldFrom, withheldTo) silent
// (or, with original, want itself).
func checkMasked(t *testing.T, what string, got, want [][]byte, original ...bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets, want %d", what, len(got), len(want))
	}
	for i := range got {
		exp := want[i]
		if len(original) == 0 && i >= withheldFrom && i < withheldTo {
			exp = silentPacket
		}
		if !bytes.Equal(got[i], exp) {
			t.Fatalf("%s: packet %d is %s", what, i, fmt.Sprintf("%x", got[i][:min(4, len(got[i]))]))
		}
	}
}

func TestMask(t *testing.T) {
	v := &policy.View{Restrictions: []policy.Restriction{
		{Kind: policy.WithholdRange, From: 0, To: 20 * time.Millisecond},
		{Kind: policy.WithholdRange, From: 19 * time.Millisecond, To: 41 * time.Millisecond},
		{Kind: policy.Label, From: 0, To: time.Hour},
		{Kind: policy.WithholdRange, From: 100 * time.Millisecond, To: 100 * time.Millisecond},
		{Kind: policy.WithholdRange, From: 200 * time.Millisecond, To: time.Hour},
	}}
	got := fmt.Sprint(maskFor(v, &Recording{frames: 20}))
	if want := "[[0 3] [10 20]]"; got != want {
		t.Errorf("mask %s, want %s", got, want)
	}
}

func TestOffsetAndSilenceLive(t *testing.T) {
	st := newDir(t)
	record(t, st, "sp_live", t0, schedule(t), nil)
	rec, err := NewServer(st, testPolicy, Views{}, nil, nil).Load("sp_live")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wall time.Time
		want time.Duration
	}{
		{t0.Add(-time.Minute), 0},
		{t0, 0},
		{t0.Add(1234 * time.Millisecond), 1234 * time.Millisecond},
		{t0.Add(time.Hour), rec.Duration()},
	} {
		if got := rec.Offset(tc.wall); got != tc.want {
			t.Errorf("Offset(t0%+v) = %v, want %v", tc.wall.Sub(t0), got, tc.want)
		}
	}
	v := &policy.View{Restrictions: []policy.Restriction{{Kind: policy.SilenceLive, Since: t0.Add(8010 * time.Millisecond)}}}
	if got, want := fmt.Sprint(maskFor(v, rec)), "[[400 500]]"; got != want {
		t.Errorf("SilenceLive mask %s, want %s", got, want)
	}
}
