//go:build unix

package cache

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// lockFill takes the lock of content c's fill that every process sharing the directory respects, so two
// processes asked for one file at once download it once. It blocks until the lock is free. On a file system
// without locks, it locks nothing: both may download, and the renames leave one whole file.
func (s *Store) lockFill(c Content) (unlock func(), err error) {
	// Lock files stay: removing one while another process waits on it would let a third lock a new file.
	f, err := os.OpenFile(filepath.Join(s.dir, "locks", string(c.Kind)+"-"+c.Hash), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOLCK) || errors.Is(err, syscall.EINVAL) {
			return func() {}, nil
		}
		return nil, err
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}
