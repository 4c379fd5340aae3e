package record

import (
	"sort"
	"time"
)

const (
	// turnMergeFrames: a speaker's runs separated by less than 1 s are one turn.
	turnMergeFrames = 50
	// turnMinFrames: turns shorter than 200 ms are dropped.
	turnMinFrames = 10
)

// turns turns each speaker's speaking runs ([start, end) in recording
// frames, in order) into Turns: runs separated by less than a second
// merge, and what is still shorter than 200 ms is dropped. The result is
// ordered by start, then speaker id.
func turns(ids []string, names map[string]string, runs func(id string) [][2]int) []Turn {
	var out []Turn
	for _, id := range ids {
		var cur [2]int
		have := false
		emit := func() {
			if have && cur[1]-cur[0] >= turnMinFrames {
				out = append(out, Turn{
					SpeakerID: id, Name: names[id],
					Start: time.Duration(cur[0]) * frameDur,
					End:   time.Duration(cur[1]) * frameDur,
				})
			}
		}
		for _, r := range runs(id) {
			if have && r[0]-cur[1] < turnMergeFrames {
				cur[1] = max(cur[1], r[1])
				continue
			}
			emit()
			cur, have = r, true
		}
		emit()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].SpeakerID < out[j].SpeakerID
	})
	return out
}
