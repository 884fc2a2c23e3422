package cache

import (
	"context"
	"errors"
	"io"
	"os"
)

// ErrGone is a stored file removed (evicted) before a reader could open it.
var ErrGone = errors.New("the file was evicted from the cache before it could be read")

// Stream writes bytes [start, end) of the download's file to w as they become deliverable: once on disk,
// and, for the last holdBack bytes of the file, once the whole file's hash has checked. ready is called once,
// just before the first byte goes to w (or at once for an empty span), so a download that fails earlier can
// still be answered otherwise. Stream reads the file through an fd of its own, opened before the file is
// renamed into place (an open fd survives the rename), a span at a time: from an *os.File, which net/http
// sends with sendfile. It returns the bytes written and the first error: the download's (a failure, or a
// NotStoredError), w's, or ctx's.
func (d *Download) Stream(ctx context.Context, w io.Writer, start, end int64, ready func()) (written int64, err error) {
	if start >= end {
		ready()
		return 0, nil
	}
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	span := &io.LimitedReader{}
	pos, started := start, false
	for pos < end {
		limit, err := d.await(ctx, pos, &f)
		if err != nil {
			return written, err
		}
		if !started {
			if _, err := f.Seek(pos, io.SeekStart); err != nil {
				return 0, err
			}
			started = true
			ready()
		}
		span.R, span.N = f, min(limit, end)-pos
		n, err := io.Copy(w, span)
		written += n
		pos += n
		if err != nil {
			return written, err
		}
		if n == 0 {
			return written, io.ErrUnexpectedEOF // the file is shorter than the download said it was on disk
		}
	}
	return written, nil
}

// await blocks until the byte at pos may be delivered, and returns how far the file may then be read; the
// first time, it opens *f, under the lock, so the name it opens is the file's current one.
func (d *Download) await(ctx context.Context, pos int64, f **os.File) (limit int64, err error) {
	for {
		d.mu.Lock()
		limit = d.onDisk
		if !d.done || d.err != nil {
			limit = min(limit, d.size-holdBack)
		}
		done, failed, changed := d.done, d.err, d.changed
		if failed == nil && limit > pos && *f == nil {
			*f, err = os.Open(d.path)
		}
		d.mu.Unlock()
		switch {
		case failed != nil:
			return 0, failed
		case errors.Is(err, os.ErrNotExist) && done:
			return 0, ErrGone // evicted since it was stored
		case err != nil && done:
			return 0, err
		case err != nil:
			// The temporary file is gone: the download is failing; its error comes with the next change.
			*f, err = nil, nil
		case limit > pos:
			return limit, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}
