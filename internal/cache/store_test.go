package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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

// TestFillStreamsAndStores: the filling caller gets every byte, the file is stored, and a second fill reads
// nothing from the source.
func TestFillStreamsAndStores(t *testing.T) {
	s, err := Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	src := &source{b: bytes.Repeat([]byte("0123456789"), 70_000)}
	c := sha256Content(src.b)
	var got bytes.Buffer
	n, err := s.Fill(context.Background(), c, int64(len(src.b)), src.open, &got)
	if err != nil || n != int64(len(src.b)) || !bytes.Equal(got.Bytes(), src.b) {
		t.Fatalf("fill: %d, %v; streamed equal: %v", n, err, bytes.Equal(got.Bytes(), src.b))
	}
	if n, err := s.Fill(context.Background(), c, int64(len(src.b)), src.open, &got); n != 0 || err != nil || src.opens.Load() != 1 {
		t.Fatalf("second fill: %d, %v, %d opens", n, err, src.opens.Load())
	}
	if !bytes.Equal(readAll(t, s, c), src.b) || s.Used() != int64(len(src.b)) {
		t.Fatalf("stored file differs, or used %d", s.Used())
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
	if _, err := s.Fill(context.Background(), c, 6, src.open, nil); err != nil || !s.Has(c) {
		t.Fatalf("fill: %v", err)
	}
}

// TestMismatchIsCutOffAndNotCached: bytes that do not hash to the content are not stored, no temporary file
// is left, and the caller never receives the last piece.
func TestMismatchIsCutOffAndNotCached(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1<<20)
	good := bytes.Repeat([]byte("x"), 600_000)
	bad := bytes.Clone(good)
	bad[len(bad)-1] = 'y'
	c := sha256Content(good)
	var got bytes.Buffer
	n, err := s.Fill(context.Background(), c, int64(len(good)), (&source{b: bad}).open, &got)
	if !errors.Is(err, ErrMismatch) || s.Has(c) || n >= int64(len(good)) || int64(got.Len()) != n {
		t.Fatalf("fill of corrupt bytes: %d written, %v, stored %v", n, err, s.Has(c))
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	short := &source{b: good[:10]}
	if _, err := s.Fill(context.Background(), c, int64(len(good)), short.open, nil); !errors.Is(err, io.ErrUnexpectedEOF) || s.Has(c) {
		t.Errorf("short download: %v", err)
	}
}

// gatedSource blocks its reader until release closes, so concurrent fills are certain to overlap.
type gatedSource struct {
	source
	release chan struct{}
}

func (g *gatedSource) open(ctx context.Context) (io.ReadCloser, error) {
	g.opens.Add(1)
	<-g.release
	return io.NopCloser(bytes.NewReader(g.b)), nil
}

// TestConcurrentFillsShareOneDownload: callers asking together open the source once; all find the file.
func TestConcurrentFillsShareOneDownload(t *testing.T) {
	s, _ := Open(t.TempDir(), 1<<20)
	g := &gatedSource{source: source{b: bytes.Repeat([]byte("ab"), 1000)}, release: make(chan struct{})}
	c := sha256Content(g.b)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Fill(context.Background(), c, int64(len(g.b)), g.open, io.Discard)
			errs <- err
		})
	}
	// Wait until the leader is downloading and the others wait for it: the fill is registered.
	for deadline := time.Now().Add(time.Minute); g.opens.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if g.opens.Load() != 1 || !s.Has(c) {
		t.Fatalf("%d downloads, stored %v", g.opens.Load(), s.Has(c))
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
		if _, err := s.Fill(context.Background(), sha256Content(x), 1000, (&source{b: x}).open, nil); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Millisecond) // distinct use times; the order, not the duration, is asserted
	readAll(t, s, sha256Content(a))   // a is now used more recently than b
	if _, err := s.Fill(context.Background(), sha256Content(c), 1000, (&source{b: c}).open, nil); err != nil {
		t.Fatal(err)
	}
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
	if _, err := s2.Fill(context.Background(), sha256Content(bytes.Repeat([]byte("d"), 3000)), 3000, (&source{}).open, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a file larger than the cache: %v", err)
	}
}

// TestTwoStoresOnOneDirectory: stores sharing a directory (two processes) download a file once, and each
// finds what the other stored.
func TestTwoStoresOnOneDirectory(t *testing.T) {
	dir := t.TempDir()
	s1, _ := Open(dir, 1<<20)
	s2, _ := Open(dir, 1<<20)
	g := &gatedSource{source: source{b: bytes.Repeat([]byte("cd"), 1000)}, release: make(chan struct{})}
	other := &source{b: g.b}
	c := sha256Content(g.b)
	done := make(chan error, 2)
	go func() { _, err := s1.Fill(context.Background(), c, int64(len(g.b)), g.open, nil); done <- err }()
	for deadline := time.Now().Add(time.Minute); g.opens.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	go func() { _, err := s2.Fill(context.Background(), c, int64(len(g.b)), other.open, nil); done <- err }()
	close(g.release)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if other.opens.Load() != 0 || !bytes.Equal(readAll(t, s2, c), g.b) {
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

// TestDiskFull: when the file cannot be written (a full disk, at creation or midway), the checked download
// still reaches the caller whole, the error says it was not stored, nothing is stored and no temporary file
// is left.
func TestDiskFull(t *testing.T) {
	for _, limit := range []int{-1, 300_000} {
		dir := t.TempDir()
		s, _ := Open(dir, 1<<20)
		s.createTemp = func(dir, pattern string) (tempFile, error) {
			if limit < 0 {
				return nil, errors.New("no space left on device")
			}
			f, err := os.CreateTemp(dir, pattern)
			return &failingFile{File: f, limit: limit}, err
		}
		src := &source{b: bytes.Repeat([]byte("0123456789"), 70_000)}
		c := sha256Content(src.b)
		var got bytes.Buffer
		n, err := s.Fill(context.Background(), c, int64(len(src.b)), src.open, &got)
		var notStored *NotStoredError
		if !errors.As(err, &notStored) || n != int64(len(src.b)) || !bytes.Equal(got.Bytes(), src.b) || s.Has(c) {
			t.Fatalf("limit %d: %d written, %v, stored %v", limit, n, err, s.Has(c))
		}
		if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
			t.Errorf("limit %d: temporary files left: %v", limit, left)
		}
	}
}
