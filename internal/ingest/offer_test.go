package ingest

import (
	"errors"
	"strings"
	"testing"
)

const audioOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=sendonly\r\na=mid:0\r\n"

const recvSlot = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\na=mid:1\r\n"

func TestParseOffer(t *testing.T) {
	tests := []struct {
		name  string
		sdp   string
		slots int
		err   string
	}{
		{"speaker", audioOffer, 0, ""},
		{"speaker with slot", audioOffer + recvSlot, 1, ""},
		{"empty", "", 0, "empty"},
		{"garbage", "hello world", 0, "parse"},
		{"no audio", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", 0, "no audio"},
		{"listen only", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + recvSlot, 0, "no audio"},
		{"pcmu only", strings.Replace(audioOffer, "opus/48000/2", "PCMU/8000", 1), 0, "Opus"},
		{"two senders", audioOffer + strings.Replace(audioOffer[strings.Index(audioOffer, "m="):], "mid:0", "mid:1", 1), 0, "exactly one"},
		{"too many slots", audioOffer + strings.Repeat(recvSlot, MaxListenSlots+1), 0, "slots"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape, err := parseOffer([]byte(tt.sdp))
			if tt.err == "" {
				if err != nil || shape.listenSlots != tt.slots {
					t.Fatalf("parseOffer = %+v, %v; want %d slots", shape, err, tt.slots)
				}
				return
			}
			if !errors.Is(err, ErrBadOffer) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("parseOffer error = %v, want ErrBadOffer mentioning %q", err, tt.err)
			}
		})
	}
}

func FuzzParseOffer(f *testing.F) {
	f.Add([]byte(audioOffer))
	f.Add([]byte(audioOffer + recvSlot))
	f.Add([]byte("v=0\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		shape, err := parseOffer(b)
		if err != nil && !errors.Is(err, ErrBadOffer) {
			t.Fatalf("error not ErrBadOffer: %v", err)
		}
		if err == nil && (shape.listenSlots < 0 || shape.listenSlots > MaxListenSlots) {
			t.Fatalf("accepted %d slots", shape.listenSlots)
		}
	})
}
