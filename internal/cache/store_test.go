package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sha256Content(b []byte) Content {
	sum := sha256.Sum256(b)
	return Content{Kind: SHA256, Hash: hex.EncodeToString(sum[:])}
}

// source serves b and counts how often it was opened.
type source struct {
	b     []byte
	opens atomic.Int32
}

func (s *source) open(context.Context) (io.ReadCloser, error) {
	s.opens.Add(1)
	return io.NopCloser(bytes.NewReader(s.b)), nil
}

func readAll(t *testing.T, s *Store, c Content) []byte {
	t.Helper()
	f, ok := s.OpenContent(c)
	if !ok {
		t.Fatalf("%v is not stored", c)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entryOf is a file's entry, as the server hands it to Fill.
func entryOf(b []byte) Entry {
	return Entry{Key: Key{Type: "model", Repo: "acme/m", Commit: "0123456789012345678901234567890123456789", Path: "f"},
		Content: sha256Content(b), Size: int64(len(b))}
}

// streamAll reads a whole download as a caller does.
func streamAll(d *Download) ([]byte, error) {
	var got bytes.Buffer
	_, err := d.Stream(context.Background(), &got, 0, d.size, func() {})
	return got.Bytes(), err
}

// TestFillStreamsAndStores: the caller gets every byte, the file is stored and its entry remembered, and a
// second fill reads nothing from the source.
func TestFillStreamsAndStores(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	src := &source{b: bytes.Repeat([]byte("0123456789"), 70_000)}
	e := entryOf(src.b)
	d, err := s.Fill(context.Background(), e, src.open)
	if err != nil {
		t.Fatal(err)
	}
	got, err := streamAll(d)
	if err != nil || !bytes.Equal(got, src.b) || d.Wait(context.Background()) != nil {
		t.Fatalf("fill: %d bytes, %v; equal: %v", len(got), err, bytes.Equal(got, src.b))
	}
	d, err = s.Fill(context.Background(), e, src.open)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := streamAll(d); err != nil || !bytes.Equal(got, src.b) || src.opens.Load() != 1 {
		t.Fatalf("second fill: %d bytes, %v, %d opens", len(got), err, src.opens.Load())
	}
	if !bytes.Equal(readAll(t, s, e.Content), src.b) || s.Used() != int64(len(src.b)) {
		t.Fatalf("stored file differs, or used %d", s.Used())
	}
	if known, ok := s.Lookup(e.Key); !ok || known.Content != e.Content {
		t.Fatalf("the entry was not remembered: %v %v", known, ok)
	}
}

// TestGitBlobContent: a regular file is checked by its git blob id.
func TestGitBlobContent(t *testing.T) {
	s, _ := Open(t.TempDir(), 1<<20)
	// git hash-object of "hello\n"
	c, ok := ContentFromETags("", `"ce013625030ba8dba906f756967f9e9ca394464a"`)
	if !ok {
		t.Fatal("ETag not read")
	}
	src := &source{b: []byte("hello\n")}
	d, err := s.Fill(context.Background(), Entry{Content: c, Size: 6}, src.open)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := streamAll(d); err != nil || string(got) != "hello\n" || !s.Has(c) {
		t.Fatalf("fill: %q, %v", got, err)
	}
}

// TestMismatchIsCutOffAndNotCached: bytes that do not hash to the content are not stored, no temporary file
// is left, and no reader receives the last piece.
func TestMismatchIsCutOffAndNotCached(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1<<20)
	good := bytes.Repeat([]byte("x"), 600_000)
	bad := bytes.Clone(good)
	bad[len(bad)-1] = 'y'
	e := entryOf(good)
	d, err := s.Fill(context.Background(), e, (&source{b: bad}).open)
	if err != nil {
		t.Fatal(err)
	}
	got, err := streamAll(d)
	if !errors.Is(err, ErrMismatch) || s.Has(e.Content) || len(got) > len(good)-holdBack || !bytes.Equal(got, good[:len(got)]) {
		t.Fatalf("fill of corrupt bytes: %d read, %v, stored %v", len(got), err, s.Has(e.Content))
	}
	if _, ok := s.Lookup(e.Key); ok {
		t.Error("the entry of a corrupt download was remembered")
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	d, _ = s.Fill(context.Background(), e, (&source{b: good[:10]}).open)
	if _, err := streamAll(d); !errors.Is(err, io.ErrUnexpectedEOF) || s.Has(e.Content) {
		t.Errorf("short download: %v", err)
	}
}

// gatedSource blocks its reader until release closes, so concurrent fills are certain to overlap.
type gatedSource struct {
	source
	release chan struct{}
	opened  chan struct{} // closed when first opened, if not nil
}

func (g *gatedSource) open(ctx context.Context) (io.ReadCloser, error) {
	if g.opens.Add(1) == 1 && g.opened != nil {
		close(g.opened)
	}
	<-g.release
	return io.NopCloser(bytes.NewReader(g.b)), nil
}

// TestConcurrentFillsShareOneDownload: 32 callers asking together open the source once, and each reads the
// whole file, right.
func TestConcurrentFillsShareOneDownload(t *testing.T) {
	s, _ := Open(t.TempDir(), 4<<20)
	g := &gatedSource{source: source{b: patterned(3<<20 + 5)}, release: make(chan struct{})}
	e := entryOf(g.b)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		d, err := s.Fill(context.Background(), e, g.open) // all before the release: one download in progress
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			got, err := streamAll(d)
			if err == nil && !bytes.Equal(got, g.b) {
				err = fmt.Errorf("read %d bytes, not the file's", len(got))
			}
			errs <- err
		})
	}
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g.opens.Load() != 1 || !s.Has(e.Content) {
		t.Fatalf("%d downloads, stored %v", g.opens.Load(), s.Has(e.Content))
	}
}

// TestEvictionAndRestart: the least recently used file goes when the bound is passed; a new store on the same
// directory knows the files and the index, and a file larger than the cache is refused. OnEvict is told of
// the eviction.
func TestEvictionAndRestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 2500)
	var evicted []int64
	s.OnEvict(func(size int64) { evicted = append(evicted, size) })
	a, b, c := bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("b"), 1000), bytes.Repeat([]byte("c"), 1000)
	for _, x := range [][]byte{a, b} {
		fillWhole(t, s, x)
	}
	time.Sleep(10 * time.Millisecond) // distinct use times; the order, not the duration, is asserted
	readAll(t, s, sha256Content(a))   // a is now used more recently than b
	fillWhole(t, s, c)
	if !s.Has(sha256Content(a)) || s.Has(sha256Content(b)) || !s.Has(sha256Content(c)) || s.Used() != 2000 {
		t.Fatalf("after eviction: a %v b %v c %v, used %d", s.Has(sha256Content(a)), s.Has(sha256Content(b)), s.Has(sha256Content(c)), s.Used())
	}
	if len(evicted) != 1 || evicted[0] != 1000 {
		t.Errorf("OnEvict was told %v; want one file of 1000 bytes", evicted)
	}
	key := Key{Type: "model", Repo: "acme/m", Commit: "0123456789012345678901234567890123456789", Path: "w.bin"}
	if err := s.Remember(Entry{Key: key, Content: sha256Content(a), Size: 1000}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(dir, 2500)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := s2.Lookup(key)
	if !ok || e.Content != sha256Content(a) || !bytes.Equal(readAll(t, s2, e.Content), a) || s2.Used() != 2000 {
		t.Fatalf("after restart: %v %v, used %d", e, ok, s2.Used())
	}
	if _, err := s2.Fill(context.Background(), entryOf(bytes.Repeat([]byte("d"), 3000)), (&source{}).open); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a file larger than the cache: %v", err)
	}
}

// TestTwoStoresOnOneDirectory: stores sharing a directory (two processes) download a file once: the second
// waits for the first's lock and then reads what it stored.
func TestTwoStoresOnOneDirectory(t *testing.T) {
	dir := t.TempDir()
	s1, _ := Open(dir, 1<<20)
	s2, _ := Open(dir, 1<<20)
	g := &gatedSource{source: source{b: bytes.Repeat([]byte("cd"), 1000)}, release: make(chan struct{}), opened: make(chan struct{})}
	other := &source{b: g.b}
	e := entryOf(g.b)
	d1, err := s1.Fill(context.Background(), e, g.open)
	if err != nil {
		t.Fatal(err)
	}
	<-g.opened // s1 holds the lock
	d2, err := s2.Fill(context.Background(), e, other.open)
	if err != nil {
		t.Fatal(err)
	}
	close(g.release)
	for _, d := range []*Download{d1, d2} {
		if got, err := streamAll(d); err != nil || !bytes.Equal(got, g.b) {
			t.Fatalf("read %d bytes, %v", len(got), err)
		}
	}
	if other.opens.Load() != 0 || !bytes.Equal(readAll(t, s2, e.Content), g.b) {
		t.Fatalf("the second store downloaded %d times", other.opens.Load())
	}
}

// failingFile is a temporary file on a disk that fills up after limit bytes.
type failingFile struct {
	*os.File
	limit int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if len(p) > f.limit {
		return 0, errors.New("no space left on device")
	}
	f.limit -= len(p)
	return f.File.Write(p)
}

// TestDiskFull: when the file cannot be written (a full disk, at creation or midway), the download fails with
// a NotStoredError: a reader gets no byte (the file could not be created) or a part of the file and the error
// (it filled up), never the rest unwritten; nothing is stored and no temporary file is left.
func TestDiskFull(t *testing.T) {
	for _, limit := range []int{-1, 300_000} {
		dir := t.TempDir()
		s, _ := Open(dir, 1<<20)
		s.createTemp = func(dir, pattern string, _ int64) (tempFile, error) {
			if limit < 0 {
				return nil, errors.New("no space left on device")
			}
			f, err := os.CreateTemp(dir, pattern)
			return &failingFile{File: f, limit: limit}, err
		}
		src := &source{b: bytes.Repeat([]byte("0123456789"), 70_000)}
		e := entryOf(src.b)
		d, err := s.Fill(context.Background(), e, src.open)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		ready := false
		n, err := d.Stream(context.Background(), &got, 0, e.Size, func() { ready = true })
		var notStored *NotStoredError
		if !errors.As(err, &notStored) || n >= e.Size || !bytes.Equal(got.Bytes(), src.b[:n]) || s.Has(e.Content) || ready != (n > 0) {
			t.Fatalf("limit %d: %d read, %v, ready %v, stored %v", limit, n, err, ready, s.Has(e.Content))
		}
		if limit < 0 && src.opens.Load() != 0 {
			t.Errorf("the source was opened for a file that could not be created")
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
			t.Errorf("limit %d: temporary files left: %v", limit, left)
		}
	}
}
