package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// patterned is n bytes that differ along the file.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/4096)
	}
	return b
}

// fillWhole stores b, read whole by one caller.
func fillWhole(t *testing.T, s *Store, b []byte) {
	t.Helper()
	d, err := s.Fill(context.Background(), entryOf(b), (&source{b: b}).open)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := streamAll(d); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("fill: %d bytes, %v", len(got), err)
	}
}

// pausedSource sends the first at bytes of b, then blocks until release closes (paused closes when it does),
// then sends the rest; a Read past b's end blocks the same way when at is len(b).
type pausedSource struct {
	b       []byte
	at      int
	paused  chan struct{}
	release chan struct{}
	opens   atomic.Int32
}

func newPausedSource(b []byte, at int) *pausedSource {
	return &pausedSource{b: b, at: at, paused: make(chan struct{}), release: make(chan struct{})}
}

func (p *pausedSource) open(context.Context) (io.ReadCloser, error) {
	p.opens.Add(1)
	return io.NopCloser(&pausedBody{p: p}), nil
}

type pausedBody struct {
	p      *pausedSource
	off    int
	waited bool
}

func (b *pausedBody) Read(q []byte) (int, error) {
	if b.off == b.p.at && !b.waited {
		b.waited = true
		close(b.p.paused)
		<-b.p.release
	}
	end := len(b.p.b)
	if b.off < b.p.at {
		end = b.p.at
	}
	if b.off >= end {
		return 0, io.EOF
	}
	n := copy(q, b.p.b[b.off:end])
	b.off += n
	return n, nil
}

// progressWriter collects what a reader receives, and signals once it has at least want bytes.
type progressWriter struct {
	mu        sync.Mutex
	got       bytes.Buffer
	want      int
	reached   chan struct{}
	failAfter int // a write past this many bytes fails, as a caller that went away (0: never)
}

func newProgressWriter(want int) *progressWriter {
	return &progressWriter{want: want, reached: make(chan struct{})}
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failAfter > 0 && w.got.Len()+len(p) > w.failAfter {
		return 0, errors.New("the caller went away")
	}
	before := w.got.Len()
	w.got.Write(p)
	if before < w.want && w.got.Len() >= w.want {
		close(w.reached)
	}
	return len(p), nil
}

func (w *progressWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.got.Bytes())
}

// TestJoinerReadsTheGrowingFile: a caller that joins while the source is blocked mid-file receives the bytes
// on disk before the download completes, then the rest; a one-byte range is answered while it is blocked.
func TestJoinerReadsTheGrowingFile(t *testing.T) {
	s, _ := Open(t.TempDir(), 4<<20)
	b := patterned(4*holdBack + 123)
	src := newPausedSource(b, 2*holdBack+17) // two whole buffers on disk, then the source blocks
	e := entryOf(b)
	first, err := s.Fill(context.Background(), e, src.open)
	if err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	firstW := newProgressWriter(1)
	go func() { _, err := first.Stream(context.Background(), firstW, 0, e.Size, func() {}); firstDone <- err }()
	<-src.paused

	second, err := s.Fill(context.Background(), e, (&source{b: b}).open)
	if err != nil || second != first {
		t.Fatalf("the second caller did not join the download: %v", err)
	}
	secondW := newProgressWriter(2 * holdBack)
	secondDone := make(chan error, 1)
	go func() {
		_, err := second.Stream(context.Background(), secondW, 0, e.Size, func() {})
		secondDone <- err
	}()
	<-secondW.reached // only possible from the file: the source is blocked

	var one bytes.Buffer
	if n, err := first.Stream(context.Background(), &one, 0, 1, func() {}); n != 1 || err != nil || one.Bytes()[0] != b[0] {
		t.Fatalf("a one-byte range while the source is blocked: %d, %v", n, err)
	}
	if done, _ := first.Done(); done {
		t.Fatal("the download ended while its source was blocked")
	}
	close(src.release)
	for _, c := range []struct {
		done chan error
		w    *progressWriter
	}{{firstDone, firstW}, {secondDone, secondW}} {
		if err := <-c.done; err != nil || !bytes.Equal(c.w.bytes(), b) {
			t.Fatalf("a reader: %v, %d bytes", err, len(c.w.bytes()))
		}
	}
	if !s.Has(e.Content) || src.opens.Load() != 1 {
		t.Fatalf("stored %v, %d downloads", s.Has(e.Content), src.opens.Load())
	}
}

// TestHoldBack: with the whole file on disk but the end of the source's body not yet read (so the hash not yet
// checked), a reader may have all but the last holdBack bytes, no more; the rest follows the check.
func TestHoldBack(t *testing.T) {
	s, _ := Open(t.TempDir(), 4<<20)
	b := patterned(3 * holdBack)
	src := newPausedSource(b, len(b)) // every byte sent, the end of the body not yet
	e := entryOf(b)
	d, _ := s.Fill(context.Background(), e, src.open)
	<-src.paused // every byte is on disk
	// A done context: Stream hands over what it may without waiting, then stops.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var early bytes.Buffer
	if n, err := d.Stream(ctx, &early, 0, e.Size, func() {}); n != e.Size-holdBack || !errors.Is(err, context.Canceled) {
		t.Fatalf("before the hash checked, a reader had %d bytes (%v), want %d", n, err, e.Size-holdBack)
	}
	close(src.release)
	if got, err := streamAll(d); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("after the check: %v, %d bytes", err, len(got))
	}
}

// TestMismatchCutsEveryReader: a corrupt download ends every reader with ErrMismatch, none past the held-back
// piece, and nothing is stored.
func TestMismatchCutsEveryReader(t *testing.T) {
	s, _ := Open(t.TempDir(), 4<<20)
	good := patterned(4 * holdBack)
	bad := bytes.Clone(good)
	bad[len(bad)-10] ^= 1
	e := entryOf(good)
	src := newPausedSource(bad, holdBack+1)
	readers := make([]*Download, 4)
	for i := range readers {
		readers[i], _ = s.Fill(context.Background(), e, src.open)
	}
	var wg sync.WaitGroup
	for _, d := range readers {
		wg.Go(func() {
			got, err := streamAll(d)
			if !errors.Is(err, ErrMismatch) || len(got) > len(good)-holdBack || !bytes.Equal(got, good[:len(got)]) {
				t.Errorf("a reader of a corrupt download: %d bytes, %v", len(got), err)
			}
		})
	}
	<-src.paused
	close(src.release)
	wg.Wait()
	if s.Has(e.Content) || src.opens.Load() != 1 {
		t.Fatalf("stored %v, %d downloads", s.Has(e.Content), src.opens.Load())
	}
}

// TestFirstCallerLeaves: the caller that started a download goes away mid-file; the download goes on, another
// caller gets the whole file, and it is stored.
func TestFirstCallerLeaves(t *testing.T) {
	s, _ := Open(t.TempDir(), 4<<20)
	b := patterned(4*holdBack + 5)
	src := newPausedSource(b, 3*holdBack)
	e := entryOf(b)
	first, _ := s.Fill(context.Background(), e, src.open)
	w := newProgressWriter(1)
	w.failAfter = holdBack
	if _, err := first.Stream(context.Background(), w, 0, e.Size, func() {}); err == nil {
		t.Fatal("the first caller's failed write was not reported")
	}
	second, _ := s.Fill(context.Background(), e, (&source{b: b}).open)
	<-src.paused
	close(src.release)
	if got, err := streamAll(second); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("the second caller: %d bytes, %v", len(got), err)
	}
	if !s.Has(e.Content) || src.opens.Load() != 1 {
		t.Fatalf("stored %v, %d downloads", s.Has(e.Content), src.opens.Load())
	}
}
