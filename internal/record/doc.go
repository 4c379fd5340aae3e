// Package record keeps a durable recording of each live space's mix and
// serves it back: HLS replay (VOD, or EVENT while still recording) in the
// live stream's fMP4 format, and a single Ogg Opus download.
//
// A space's recording is a sequence of sessions, each one uninterrupted
// run of frames stored as an Ogg Opus file plus a JSON-lines sidecar
// (events.go). A new Recorder (a space going live, or resuming after a
// restart) starts the next session; so does a Recorder that recovers from
// a storage failure. The recording's timeline is the concatenation of
// the sessions; each join is a Gap marker ("restart" or "disk") with the
// wall-clock time that was missed.
//
// Durability: the writer writes one Ogg page per part (PartFrames frames,
// 200 ms by default) and fsyncs it, so a crash loses at most the part in
// progress; readers stop at the first incomplete or corrupt page, so a
// torn last page is ignored.
//
// Concurrency rules:
//   - Recorder.WriteFrame runs on the mixer goroutine (one goroutine at a
//     time) and never blocks: it copies the packet into a recycled buffer
//     and hands it to a bounded queue, dropping (and counting) when full.
//   - One writer goroutine per Recorder owns the session files and does
//     all I/O; Recorder.mu guards only the failure state shown by Status.
//     Close stops the writer after draining the queue; it is idempotent.
//   - A Recording is immutable once loaded and safe for concurrent use;
//     reloading after the files grew shares or copies, never mutates.
//   - Server.mu guards its caches (bounded LRUs of indexes and segment
//     bytes); no I/O happens under it. Server.dlMu serializes download
//     builds and is taken before Server.mu.
package record
