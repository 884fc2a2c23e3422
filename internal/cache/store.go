// Package cache is hf-micro's download cache: a content-addressed file store on disk. Files are named by
// their content hash (the LFS sha256, or the git blob sha1 of a regular file), so one content is stored once
// whatever repository or revision names it; an index remembers which content a (repository, commit, path)
// has. Both survive restarts. A file enters the store only whole and with its hash checked (a temporary file,
// then an atomic rename); concurrent requests for one content share one fill (fill.go) and read its file as it
// grows (stream.go); the least recently used files are evicted to keep the store under its bound.
package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Store is the cache directory. Safe for concurrent use.
type Store struct {
	dir      string
	maxBytes int64

	mu    sync.Mutex
	blobs map[Content]*blob     // what is on disk
	used  int64                 // the sum of the blobs' sizes
	fills map[Content]*Download // fills in progress
	// onEvict is told the size of each file evicted (OnEvict); nil tells no one.
	onEvict func(size int64)

	createTemp func(dir, pattern string, size int64) (tempFile, error) // for tests of a full disk
}

type blob struct {
	size    int64
	lastUse time.Time
}

// Open opens (creating) a store in dir bounded to maxBytes, and reads what an earlier process left there.
// Leftover temporary files (a fill cut short by a crash) are removed.
func Open(dir string, maxBytes int64) (*Store, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("cache: the size bound must be positive, not %d", maxBytes)
	}
	s := &Store{dir: dir, maxBytes: maxBytes, blobs: map[Content]*blob{}, fills: map[Content]*Download{}, createTemp: createTemp}
	for _, sub := range []string{"tmp", "index", "locks", string(SHA256), string(GitSHA1)} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	tmp, err := os.ReadDir(filepath.Join(dir, "tmp"))
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	for _, e := range tmp {
		_ = os.Remove(filepath.Join(dir, "tmp", e.Name()))
	}
	for _, kind := range []Kind{SHA256, GitSHA1} {
		entries, err := os.ReadDir(filepath.Join(dir, string(kind)))
		if err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
		for _, e := range entries {
			c := Content{Kind: kind, Hash: e.Name()}
			info, err := e.Info()
			if err != nil || !c.valid() || !info.Mode().IsRegular() {
				continue
			}
			s.blobs[c] = &blob{size: info.Size(), lastUse: info.ModTime()}
			s.used += info.Size()
		}
	}
	s.mu.Lock()
	s.evictLocked()
	s.mu.Unlock()
	return s, nil
}

// MaxBytes is the store's bound.
func (s *Store) MaxBytes() int64 { return s.maxBytes }

// Used is the bytes the store's files take.
func (s *Store) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// OnEvict has f told the size of each file evicted from now on, for the metrics. f runs with the store's lock
// held: it must be quick and must not call the store.
func (s *Store) OnEvict(f func(size int64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEvict = f
}

func (s *Store) path(c Content) string { return filepath.Join(s.dir, string(c.Kind), c.Hash) }

// OpenContent opens a stored file for reading and marks it used; ok is false when it is not stored. An open
// file stays readable when it is evicted meanwhile.
func (s *Store) OpenContent(c Content) (f *os.File, ok bool) {
	if !c.valid() || !s.Has(c) {
		return nil, false
	}
	s.mu.Lock()
	if b := s.blobs[c]; b != nil {
		b.lastUse = time.Now()
	}
	s.mu.Unlock()
	f, err := os.Open(s.path(c))
	if err != nil {
		s.forget(c) // removed behind our back
		return nil, false
	}
	// The modification time carries the last use across restarts; failing to set it only ages the file.
	now := time.Now()
	_ = os.Chtimes(s.path(c), now, now)
	return f, true
}

// Has reports whether a content is stored. A file another process sharing the directory stored is found on
// disk and adopted: a file under its content's name is always whole, as fills rename complete files only.
func (s *Store) Has(c Content) bool {
	if !c.valid() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobs[c] != nil {
		return true
	}
	info, err := os.Stat(s.path(c))
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	s.addLocked(c, info.Size())
	return s.blobs[c] != nil
}

func (s *Store) forget(c Content) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.blobs[c]; b != nil {
		s.used -= b.size
		delete(s.blobs, c)
	}
}

// add records a file renamed into place, and evicts to stay under the bound. Callers hold s.mu.
func (s *Store) addLocked(c Content, size int64) {
	if old := s.blobs[c]; old != nil {
		s.used -= old.size
	}
	s.blobs[c] = &blob{size: size, lastUse: time.Now()}
	s.used += size
	s.evictLocked()
}

// evictLocked removes the least recently used files until the store is under its bound. Callers hold s.mu.
func (s *Store) evictLocked() {
	if s.used <= s.maxBytes {
		return
	}
	order := make([]Content, 0, len(s.blobs))
	for c := range s.blobs {
		order = append(order, c)
	}
	slices.SortFunc(order, func(a, b Content) int { return s.blobs[a].lastUse.Compare(s.blobs[b].lastUse) })
	for _, c := range order {
		if s.used <= s.maxBytes {
			return
		}
		if err := os.Remove(s.path(c)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		size := s.blobs[c].size
		s.used -= size
		delete(s.blobs, c)
		if s.onEvict != nil {
			s.onEvict(size)
		}
	}
}
