package cache

import (
	"errors"
	"os"
	"syscall"
	"testing"
)

// TestReserveRefusesWhatTheDiskCannotHold: a file larger than the disk fails at creation, before any byte
// is written (where the file system can reserve space at all), and leaves no temporary file.
func TestReserveRefusesWhatTheDiskCannotHold(t *testing.T) {
	dir := t.TempDir()
	probe, err := os.CreateTemp(dir, "probe-*")
	if err != nil {
		t.Fatal(err)
	}
	supported := !errors.Is(syscall.Fallocate(int(probe.Fd()), 1, 0, 4096), syscall.EOPNOTSUPP)
	probe.Close()
	os.Remove(probe.Name())

	f, err := createTemp(dir, "fill-*", 1<<50) // a pebibyte
	if supported && (err == nil || f != nil) {
		t.Fatalf("a pebibyte file was created: %v", err)
	}
	if !supported && err != nil {
		t.Fatalf("reserve failed where fallocate is not supported: %v", err)
	}
	if f != nil {
		f.Close()
		os.Remove(f.Name())
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	if f, err := createTemp(dir, "fill-*", 1<<20); err != nil {
		t.Fatalf("a mebibyte: %v", err)
	} else {
		f.Close()
		if info, _ := os.Stat(f.Name()); info.Size() != 0 {
			t.Errorf("the reserved file's length is %d, want 0", info.Size())
		}
	}
}
