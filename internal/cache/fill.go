package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrMismatch is a download whose bytes are not the content the Hub named: nothing is cached, and the caller's
// stream is cut before its last piece.
var ErrMismatch = errors.New("the downloaded bytes do not match the hash the Hub announced")

// ErrTooLarge is a file larger than the whole cache: it is not cached.
var ErrTooLarge = errors.New("the file is larger than the cache")

// fill is one content being downloaded; done closes when it is stored or failed.
type fill struct {
	done chan struct{}
	err  error
}

// holdBack is the piece of a download held from the caller until its hash checks.
const holdBack = 256 << 10

// Fill stores content c, of size bytes, from the body open returns, unless it is stored already. One caller
// at a time fills a content: the others wait until it is stored (or failed) and then read it from the store.
// The filling caller's bytes also go to w as they arrive (when w is not nil), except the last piece, which is
// written only once the whole file's hash has checked: a corrupt download is cut short, never delivered whole.
// A w that fails (the caller went away) is dropped and the fill goes on, for the others. written is what
// reached w; 0 means the caller must be served from the store.
func (s *Store) Fill(ctx context.Context, c Content, size int64, open func(context.Context) (io.ReadCloser, error), w io.Writer) (written int64, err error) {
	if !c.valid() {
		return 0, fmt.Errorf("cache: invalid content %q", c)
	}
	if size > s.maxBytes {
		return 0, ErrTooLarge
	}
	if s.Has(c) {
		return 0, nil
	}
	s.mu.Lock()
	if f := s.fills[c]; f != nil {
		s.mu.Unlock()
		select {
		case <-f.done:
			return 0, f.err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f := &fill{done: make(chan struct{})}
	s.fills[c] = f
	s.mu.Unlock()

	written, f.err = s.fillOnce(ctx, c, size, open, w)
	s.mu.Lock()
	delete(s.fills, c)
	s.mu.Unlock()
	close(f.done)
	return written, f.err
}

// fillOnce downloads c unless another process sharing the directory stored it while this one waited for
// the lock.
func (s *Store) fillOnce(ctx context.Context, c Content, size int64, open func(context.Context) (io.ReadCloser, error), w io.Writer) (int64, error) {
	unlock, err := s.lockFill(c)
	if err != nil {
		return 0, fmt.Errorf("cache: locking the fill: %w", err)
	}
	defer unlock()
	if s.Has(c) {
		return 0, nil
	}
	return s.download(ctx, c, size, open, w)
}

// download runs one fill: the body into a temporary file and to w, the hash checked, the file renamed into
// place, and only then the held-back piece written to w. When the file cannot be stored (the disk is full),
// the download still goes on to w, checked the same way, and ends with an ErrNotStored.
func (s *Store) download(ctx context.Context, c Content, size int64, open func(context.Context) (io.ReadCloser, error), w io.Writer) (written int64, err error) {
	body, err := open(ctx)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	tmp, storeErr := s.createTemp(filepath.Join(s.dir, "tmp"), "fill-*")
	dropTemp := func() {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			tmp = nil
		}
	}
	defer func() {
		if err != nil {
			dropTemp()
		}
	}()
	h := c.hasher(size)
	buf, held := make([]byte, holdBack), make([]byte, 0, holdBack)
	var total int64
	for {
		// Whole buffers, not the transport's 16 KiB frames: a write to the file and a flush to the caller per
		// 256 KiB instead of per frame, the most of a miss's CPU.
		n, rerr := io.ReadFull(body, buf)
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
		}
		if n > 0 {
			if total += int64(n); total > size {
				return written, ErrMismatch
			}
			h.Write(buf[:n])
			if tmp != nil {
				if _, werr := tmp.Write(buf[:n]); werr != nil {
					storeErr = werr
					dropTemp()
				}
			}
			if w != nil && len(held) > 0 {
				m, werr := w.Write(held)
				if written += int64(m); werr != nil {
					w = nil
				}
			}
			held = append(held[:0], buf[:n]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return written, rerr
		}
	}
	if total != size {
		return written, fmt.Errorf("the download ended after %d of %d bytes: %w", total, size, io.ErrUnexpectedEOF)
	}
	if !c.matches(h) {
		return written, ErrMismatch
	}
	if storeErr == nil {
		if storeErr = tmp.Close(); storeErr == nil {
			storeErr = os.Rename(tmp.Name(), s.path(c))
		}
		if storeErr == nil {
			s.mu.Lock()
			s.addLocked(c, size)
			s.mu.Unlock()
		} else {
			os.Remove(tmp.Name())
		}
		tmp = nil
	}
	if w != nil && len(held) > 0 {
		m, _ := w.Write(held)
		written += int64(m)
	}
	if storeErr != nil {
		return written, &NotStoredError{Err: storeErr}
	}
	return written, nil
}

// NotStoredError is a download that was checked and delivered but could not be stored (the disk is full).
type NotStoredError struct{ Err error }

func (e *NotStoredError) Error() string { return "cache: the file was not stored: " + e.Err.Error() }
func (e *NotStoredError) Unwrap() error { return e.Err }

// tempFile is where a fill writes; a test can make one that fails, as a full disk does.
type tempFile interface {
	io.WriteCloser
	Name() string
}

func createTemp(dir, pattern string) (tempFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	return f, nil
}
