package app

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podium-live/podium/internal/live"
)

func liveRetention(unpublished, published time.Duration) live.Retention {
	return live.Retention{Unpublished: unpublished, Published: published}
}

// helperProc is a process a test started (nginx, a podium binary), in a
// process group of its own so that everything it forks is found again.
type helperProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd.Wait returned
	err  error         // cmd.Wait's result, set before done closes
}

// startHelper starts cmd in its own process group. When the test ends it is
// stopped with stop (a graceful signal to the process: nginx's master
// takes SIGQUIT, podium SIGTERM), waited for up to grace, and only then is
// the whole group killed; the test then fails if any process of the group
// is still alive, so nothing a test starts outlives it.
func startHelper(t testing.TB, cmd *exec.Cmd, stop os.Signal, grace time.Duration) *helperProc {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperProc{cmd: cmd, done: make(chan struct{})}
	go func() { h.err = cmd.Wait(); close(h.done) }()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			cmd.Process.Signal(stop)
			select {
			case <-h.done:
			case <-time.After(grace):
				t.Errorf("%s did not stop within %v of %v; killing its process group", filepath.Base(cmd.Path), grace, stop)
			}
		}
		// The leader is gone; its children (nginx's workers) must be too.
		deadline := time.Now().Add(grace)
		for {
			left := groupMembers(pgid)
			if len(left) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("processes of %s's group outlived it: %s", filepath.Base(cmd.Path), strings.Join(left, ", "))
				syscall.Kill(-pgid, syscall.SIGKILL)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		syscall.Kill(-pgid, syscall.SIGKILL) // nothing should be left to hit
		<-h.done
	})
	return h
}

// kill ends the process at once (a crash test's kill -9) and waits for it.
func (h *helperProc) kill() {
	h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.done
}

// groupMembers lists the live (not zombie) processes of process group pgid
// as "pid (name)", read from /proc.
func groupMembers(pgid int) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			out = append(out, strconv.Itoa(pid)+" "+s[strings.IndexByte(s, '('):i+1])
		}
	}
	return out
}

// ticket joins space id as a player does and returns its ticket: a node
// that is busy (a loaded test machine) queues joins in its waiting room or
// sheds them with Retry-After, and the player waits its turn.
func (n *node) ticket(t testing.TB, id string) string {
	t.Helper()
	var body map[string]any
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, d := n.join(t, id, body)
		switch {
		case st == http.StatusOK && d.Ticket != "":
			return d.Ticket
		case st == http.StatusOK && d.QueueToken != "":
			body = map[string]any{"queue_token": d.QueueToken}
		case st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable:
		default:
			t.Fatalf("join: %d %+v", st, d)
		}
		if time.Now().After(deadline) {
			t.Fatalf("join: no ticket within a minute (last answer %d %+v)", st, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
