package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// Key is a file as the Hub names it: a path in a repository at a full commit sha, which never changes.
type Key struct {
	Type   string `json:"type"` // singular: model, dataset, space, kernel
	Repo   string `json:"repo"` // ns/name
	Commit string `json:"commit"`
	Path   string `json:"path"`
}

// Entry is what the cache learnt about a Key: its content, size and the Hub's headers to answer with.
type Entry struct {
	Key     Key         `json:"key"`
	Content Content     `json:"content"`
	Size    int64       `json:"size"`
	Header  http.Header `json:"header"`
}

// indexPath is the entry's file: one small JSON file per key, named by the key's digest.
func (s *Store) indexPath(k Key) string {
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return filepath.Join(s.dir, "index", hex.EncodeToString(sum[:]))
}

// Lookup returns what is known about a key whose content is stored.
func (s *Store) Lookup(k Key) (Entry, bool) {
	b, err := os.ReadFile(s.indexPath(k))
	if err != nil {
		return Entry{}, false
	}
	var e Entry
	if json.Unmarshal(b, &e) != nil || e.Key != k || !s.Has(e.Content) {
		return Entry{}, false
	}
	return e, true
}

// Remember records an entry, atomically (a temporary file renamed into place), so a crash leaves the old
// entry or the new one, never half of one.
func (s *Store) Remember(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "index-*")
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if _, err = tmp.Write(b); err == nil {
		err = tmp.Close()
	} else {
		tmp.Close()
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.indexPath(e.Key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}
