package record

import (
	"bytes"
	"sort"
	"strings"
	"sync"
	"time"
)

// memStorage is a Storage in memory, for fuzz targets: a directory per
// input (t.TempDir, files written and removed) cost more than the load
// being fuzzed.
type memStorage struct {
	mu   sync.Mutex
	objs map[string][]byte
}

var _ Storage = (*memStorage)(nil)

func newMem() *memStorage { return &memStorage{objs: map[string][]byte{}} }

// put replaces name's content.
func (m *memStorage) put(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[name] = b
}

type memAppender struct {
	m    *memStorage
	name string
}

func (a memAppender) Write(p []byte) (int, error) {
	a.m.mu.Lock()
	defer a.m.mu.Unlock()
	a.m.objs[a.name] = append(a.m.objs[a.name], p...)
	return len(p), nil
}
func (memAppender) Sync() error  { return nil }
func (memAppender) Close() error { return nil }

func (m *memStorage) Append(name string) (Appender, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.objs[name]; !ok {
		m.objs[name] = nil
	}
	return memAppender{m, name}, nil
}

type memObject struct{ *bytes.Reader }

func (memObject) Close() error { return nil }

func (m *memStorage) Open(name string) (Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[name]
	if !ok {
		return nil, ErrNotFound
	}
	// The object has the size it had when opened.
	return memObject{bytes.NewReader(b[:len(b):len(b)])}, nil
}

func (m *memStorage) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, name)
	return nil
}

func (m *memStorage) List(prefix string) ([]ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ObjectInfo
	for name, b := range m.objs {
		if strings.HasPrefix(name, prefix) {
			out = append(out, ObjectInfo{Name: name, Size: int64(len(b)), ModTime: time.Unix(0, 0)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
