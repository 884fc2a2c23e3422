package cache

import (
	"errors"
	"os"
	"syscall"
)

// reserve asks the file system for size bytes of f up front (the file's length unchanged), so a disk too full
// for the file fails the fill before any reader has a byte of it, and the writes that follow allocate nothing.
// A file system that cannot reserve space (some network mounts) is written as it comes.
func reserve(f *os.File, size int64) error {
	const keepSize = 0x1 // FALLOC_FL_KEEP_SIZE
	if size <= 0 {
		return nil
	}
	for {
		err := syscall.Fallocate(int(f.Fd()), keepSize, 0, size)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG):
			return err
		default:
			return nil // reserved, or not supported here
		}
	}
}
