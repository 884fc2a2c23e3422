package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// ErrMismatch is a download whose bytes are not the content the Hub named: nothing is cached, and every
// reader's stream is cut before the last piece.
var ErrMismatch = errors.New("the downloaded bytes do not match the hash the Hub announced")

// ErrTooLarge is a file larger than the whole cache: it is not cached.
var ErrTooLarge = errors.New("the file is larger than the cache")

// holdBack is the end of a file no reader gets until the whole file's hash has checked, so a corrupt download
// is cut short, never delivered whole. It is also the size of the fill's reads from the source.
const holdBack = 256 << 10

// Download is one content on its way into the store. The store owns it, not the caller that started it: it
// goes on when its callers leave, and every caller of the content reads the growing file (stream.go).
type Download struct {
	content Content
	size    int64
	entries []Entry // what to remember once stored; guarded by the store's mu

	mu      sync.Mutex
	path    string        // the temporary file, then the stored one; "" until the fill has one
	onDisk  int64         // bytes written to path
	done    bool          // stored (err nil) or failed
	err     error         // why it failed
	changed chan struct{} // closed, and replaced, whenever the fields above change
}

// Fill returns the download of e's content: the one in progress, or a new one that reads the body open
// returns (open gets ctx's values, never its cancellation: the fill outlives its first caller). A content
// stored already is a download that is done. Once the file is stored, e is remembered in the index.
func (s *Store) Fill(ctx context.Context, e Entry, open func(context.Context) (io.ReadCloser, error)) (*Download, error) {
	c := e.Content
	if !c.valid() {
		return nil, fmt.Errorf("cache: invalid content %q", c)
	}
	if e.Size > s.maxBytes {
		return nil, ErrTooLarge
	}
	if s.Has(c) {
		_ = s.Remember(e) // a failed write only costs a Hub question next time
		return &Download{content: c, size: e.Size, path: s.path(c), onDisk: e.Size, done: true, changed: make(chan struct{})}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.fills[c]; d != nil {
		if !slices.ContainsFunc(d.entries, func(known Entry) bool { return known.Key == e.Key }) {
			d.entries = append(d.entries, e)
		}
		return d, nil
	}
	d := &Download{content: c, size: e.Size, entries: []Entry{e}, changed: make(chan struct{})}
	s.fills[c] = d
	go s.run(context.WithoutCancel(ctx), d, open)
	return d, nil
}

// run fills d and ends it: the store forgets the download (a failed one may be tried again by the next
// caller), a stored file's entries are remembered, and then the readers learn the end.
func (s *Store) run(ctx context.Context, d *Download, open func(context.Context) (io.ReadCloser, error)) {
	err := s.fillOnce(ctx, d, open)
	s.mu.Lock()
	delete(s.fills, d.content)
	entries := d.entries
	s.mu.Unlock()
	if err == nil {
		for _, e := range entries {
			_ = s.Remember(e) // a failed write only costs a Hub question next time
		}
	}
	d.update(func() { d.done, d.err = true, err })
}

// fillOnce downloads d unless another process sharing the directory stored it while this one waited for the
// lock.
func (s *Store) fillOnce(ctx context.Context, d *Download, open func(context.Context) (io.ReadCloser, error)) error {
	unlock, err := s.lockFill(d.content)
	if err != nil {
		return fmt.Errorf("cache: locking the fill: %w", err)
	}
	defer unlock()
	if s.Has(d.content) {
		d.update(func() { d.path, d.onDisk = s.path(d.content), d.size })
		return nil
	}
	return s.download(ctx, d, open)
}

// download writes the body into a temporary file, publishing each buffer as it lands, checks the hash, and
// renames the file into place. A file that cannot be written (a full disk) fails the download with a
// NotStoredError: nothing more can be read from it.
func (s *Store) download(ctx context.Context, d *Download, open func(context.Context) (io.ReadCloser, error)) (err error) {
	tmp, err := s.createTemp(filepath.Join(s.dir, "tmp"), "fill-*", d.size)
	if err != nil {
		return &NotStoredError{Err: err}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	d.update(func() { d.path = tmp.Name() })
	body, err := open(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	h := d.content.hasher(d.size)
	buf := make([]byte, holdBack)
	var total int64
	for {
		// Whole buffers, not the transport's 16 KiB frames: one write to the file, one hash update and one
		// wake-up of the readers per 256 KiB.
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if total+int64(n) > d.size {
				return ErrMismatch
			}
			h.Write(buf[:n])
			if _, werr := tmp.Write(buf[:n]); werr != nil {
				return &NotStoredError{Err: werr}
			}
			total += int64(n)
			d.update(func() { d.onDisk = total })
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if total != d.size {
		return fmt.Errorf("the download ended after %d of %d bytes: %w", total, d.size, io.ErrUnexpectedEOF)
	}
	if !d.content.matches(h) {
		return ErrMismatch
	}
	if err := tmp.Close(); err != nil {
		return &NotStoredError{Err: err}
	}
	// Renamed under the download's lock, so a reader opening the file finds it under the name it reads.
	d.mu.Lock()
	err = os.Rename(tmp.Name(), s.path(d.content))
	if err == nil {
		d.path = s.path(d.content)
	}
	d.mu.Unlock()
	if err != nil {
		return &NotStoredError{Err: err}
	}
	s.mu.Lock()
	s.addLocked(d.content, d.size)
	s.mu.Unlock()
	return nil
}

// update changes the download's state and wakes every reader.
func (d *Download) update(change func()) {
	d.mu.Lock()
	change()
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()
}

// Done reports whether the download has ended, and how: nil when the file is stored.
func (d *Download) Done() (done bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done, d.err
}

// Wait blocks until the download has ended (its error, nil when stored) or ctx is done (ctx's error).
func (d *Download) Wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		done, err, changed := d.done, d.err, d.changed
		d.mu.Unlock()
		if done {
			return err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// NotStoredError is a download that could not be written to the cache (the disk is full).
type NotStoredError struct{ Err error }

func (e *NotStoredError) Error() string { return "cache: the file cannot be stored: " + e.Err.Error() }
func (e *NotStoredError) Unwrap() error { return e.Err }

// tempFile is where a fill writes; a test can make one that fails, as a full disk does.
type tempFile interface {
	io.WriteCloser
	Name() string
}

// createTemp creates a temporary file with room for size bytes.
func createTemp(dir, pattern string, size int64) (tempFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err // not a nil *os.File in a non-nil interface
	}
	if err := reserve(f, size); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return f, nil
}
