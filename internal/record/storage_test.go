package record

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDirStorageOwnerOnly: with a umask of 022 and a recordings directory
// that already exists open to everyone (with a 0644 recording in it), the
// storage makes every directory 0700 and every file 0600, old and new.
func TestDirStorageOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "recordings")
	if err := os.MkdirAll(filepath.Join(dir, "sp_old"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "sp_old", "s0001.ogg"), []byte("OggS"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Append("sp_new/s0001.ogg")
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("OggS"))
	a.Close()
	n := 0
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := e.Info()
		want := fs.FileMode(0o600)
		if e.IsDir() {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", p, got, want)
		}
		n++
		return nil
	})
	if n != 5 {
		t.Errorf("walked %d entries, want 5 (root, two spaces, two files)", n)
	}
}
