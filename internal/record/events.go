package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Each session is two objects in the space's folder:
//
//	<space>/s0001.ogg     the audio, one Ogg Opus logical stream
//	<space>/s0001.jsonl   the sidecar, JSON lines:
//	  {"session":1,"space":"sp_x","start_wall":"<RFC 3339>","reason":"restart"}   first line
//	  {"frame":120,"speaking":[{"id":"spk_1","name":"Ada"}]}                     speaking set changed at frame 120
//	  {"end":true,"frames":3000}                                                 clean end (Close)
//
// Frame numbers count the session's packets from 0. The header's
// start_wall is the wall-clock time of the session's first frame; reason
// says why the session follows the previous one ("restart": a new
// Recorder; "disk": the same Recorder after a storage failure; "" for
// the first session). Lines that do not parse (a torn last line) are
// ignored.

// sessionHeader is the sidecar's first line.
type sessionHeader struct {
	Session   int       `json:"session"`
	Space     string    `json:"space"`
	StartWall time.Time `json:"start_wall"`
	Reason    string    `json:"reason,omitempty"`
}

// eventLine is any later line.
type eventLine struct {
	Frame    *int        `json:"frame,omitempty"`
	Speaking []speakerJS `json:"speaking"`
	End      bool        `json:"end,omitempty"`
	Frames   int         `json:"frames,omitempty"`
}

type speakerJS struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// speakEvent is a change of the speaking set at a session frame.
type speakEvent struct {
	frame    int
	speaking []Speaker
}

// sidecar is a parsed events file.
type sidecar struct {
	header sessionHeader
	ok     bool // header parsed
	events []speakEvent
	ended  bool
}

// Object names.
func sessionPrefix(spaceID string) string { return spaceID + "/s" }

func oggName(spaceID string, n int) string {
	return fmt.Sprintf("%s/s%04d.ogg", spaceID, n)
}

func eventsName(spaceID string, n int) string {
	return fmt.Sprintf("%s/s%04d.jsonl", spaceID, n)
}

// parseSessionName returns the session number and kind ("ogg" or
// "jsonl") of an object name inside a space's folder.
func parseSessionName(spaceID, name string) (n int, kind string, ok bool) {
	rest, found := strings.CutPrefix(name, sessionPrefix(spaceID))
	if !found {
		return 0, "", false
	}
	num, kind, found := strings.Cut(rest, ".")
	if !found || (kind != "ogg" && kind != "jsonl") || len(num) < 4 {
		return 0, "", false
	}
	v, err := strconv.Atoi(num)
	if err != nil || v <= 0 || strconv.Itoa(v) != strings.TrimLeft(num, "0") {
		return 0, "", false
	}
	return v, kind, true
}

// appendHeaderLine appends the sidecar's first line.
func appendHeaderLine(dst []byte, h sessionHeader) []byte {
	b, _ := json.Marshal(h) // cannot fail: plain fields
	return append(append(dst, b...), '\n')
}

// appendSpeakingLine appends a speaking-set change.
func appendSpeakingLine(dst []byte, frame int, speaking []Speaker) []byte {
	js := make([]speakerJS, len(speaking))
	for i, s := range speaking {
		js[i] = speakerJS(s)
	}
	b, _ := json.Marshal(eventLine{Frame: &frame, Speaking: js})
	return append(append(dst, b...), '\n')
}

// appendEndLine appends the clean-end line.
func appendEndLine(dst []byte, frames int) []byte {
	b, _ := json.Marshal(eventLine{End: true, Frames: frames})
	return append(append(dst, b...), '\n')
}

// readSidecar parses an events file; malformed lines are skipped, and
// events must come in frame order.
func readSidecar(r io.Reader) (sidecar, error) {
	var sc sidecar
	br := bufio.NewReader(r)
	first := true
	last := -1
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = bytes.TrimSpace(line)
			if first {
				first = false
				var h sessionHeader
				if json.Unmarshal(line, &h) == nil && h.Session > 0 {
					sc.header, sc.ok = h, true
				}
			} else {
				var ev eventLine
				if json.Unmarshal(line, &ev) == nil {
					switch {
					case ev.End:
						sc.ended = true
					case ev.Frame != nil && *ev.Frame >= 0 && *ev.Frame >= last:
						sp := make([]Speaker, 0, len(ev.Speaking))
						for _, s := range ev.Speaking {
							if s.ID != "" {
								sp = append(sp, Speaker(s))
							}
						}
						last = *ev.Frame
						sc.events = append(sc.events, speakEvent{frame: last, speaking: sp})
					}
				}
			}
		}
		if err == io.EOF {
			return sc, nil
		}
		if err != nil {
			return sc, err
		}
	}
}
