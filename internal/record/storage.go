package record

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Storage is where recordings live: a flat namespace of append-only
// objects named by slash paths ("sp_x/s0001.ogg"). Local disk (DirStorage)
// is the default; object storage can implement it later.
//
// Implementations must be safe for concurrent use.
type Storage interface {
	// Append creates name or opens it for appending; parent "directories"
	// are implicit.
	Append(name string) (Appender, error)
	// Open opens name for reading; ErrNotFound if it does not exist.
	Open(name string) (Object, error)
	// Remove deletes name; a missing object is not an error.
	Remove(name string) error
	// List returns the objects whose name starts with prefix, sorted by name.
	List(prefix string) ([]ObjectInfo, error)
}

// Appender writes to the end of one object. Sync makes what was written
// durable (fsync).
type Appender interface {
	io.Writer
	Sync() error
	Close() error
}

// Object is a readable object. Size is its size when it was opened.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// ErrNotFound is returned when a recording or an object does not exist.
var ErrNotFound = errors.New("recording not found")

// DirStorage stores objects as files under a directory.
type DirStorage struct {
	dir string
}

var _ Storage = (*DirStorage)(nil)

// NewDirStorage returns a Storage rooted at dir, creating dir if needed.
// Recordings are private until published, so everything under dir is
// owner-only (directories 0700, files 0600): what it creates, whatever the
// umask, and what it finds, whose group and other permissions it removes.
func NewDirStorage(dir string) (*DirStorage, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("record: storage dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("record: storage dir: %w", err)
	}
	err = filepath.WalkDir(abs, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type()&fs.ModeSymlink != 0 {
			return nil // never chmod through a link
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			return os.Chmod(p, m&0o700)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record: make storage owner-only: %w", err)
	}
	return &DirStorage{dir: abs}, nil
}

// Dir is the directory the storage is rooted at.
func (d *DirStorage) Dir() string { return d.dir }

// checkName accepts relative slash paths without empty, "." or ".." parts.
func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("record: bad object name %q", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("record: bad object name %q", name)
		}
	}
	return nil
}

func (d *DirStorage) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(d.dir, filepath.FromSlash(name)), nil
}

// Append implements Storage.
func (d *DirStorage) Append(name string) (Appender, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("record: append %s: %w", name, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("record: append %s: %w", name, err)
	}
	return f, nil
}

// fileObject is an open file with the size it had when opened.
type fileObject struct {
	*os.File
	size int64
}

func (f fileObject) Size() int64 { return f.size }

// Open implements Storage.
func (d *DirStorage) Open(name string) (Object, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("record: open %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("record: open %s: %w", name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("record: open %s: %w", name, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("record: open %s: %w", name, ErrNotFound)
	}
	return fileObject{File: f, size: fi.Size()}, nil
}

// Remove implements Storage.
func (d *DirStorage) Remove(name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("record: remove %s: %w", name, err)
	}
	// Drop the parent directory when it became empty (best effort).
	if dir := filepath.Dir(p); dir != d.dir {
		_ = os.Remove(dir)
	}
	return nil
}

// List implements Storage. It walks only the directory that holds the
// prefix's last complete path element, so listing one space is one
// ReadDir however many spaces there are.
func (d *DirStorage) List(prefix string) ([]ObjectInfo, error) {
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
		if err := checkName(base); err != nil {
			return nil, err
		}
	}
	root := filepath.Join(d.dir, filepath.FromSlash(base))
	var out []ObjectInfo
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if p == root && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return filepath.SkipAll
			}
			return err
		}
		rel, rerr := filepath.Rel(d.dir, p)
		if rerr != nil {
			return rerr
		}
		name := filepath.ToSlash(rel)
		if e.IsDir() {
			// Descend only into directories that can hold a match.
			if p != root && !strings.HasPrefix(name+"/", prefix) && !strings.HasPrefix(prefix, name+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(name, prefix) || !e.Type().IsRegular() {
			return nil
		}
		fi, ierr := e.Info()
		if errors.Is(ierr, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if ierr != nil {
			return ierr
		}
		out = append(out, ObjectInfo{Name: name, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record: list %q: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
