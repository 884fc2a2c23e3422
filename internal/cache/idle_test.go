package cache

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// TestIdleBounded: a body that keeps sending is read whole; one that sends nothing is cut with ErrStalled.
func TestIdleBounded(t *testing.T) {
	b, err := io.ReadAll(IdleBounded(io.NopCloser(strings.NewReader("all of it")), time.Minute))
	if err != nil || string(b) != "all of it" {
		t.Fatalf("a moving body: %q %v", b, err)
	}
	r, w := io.Pipe() // w never writes: the read can only end by the bound
	defer w.Close()
	if _, err := io.ReadAll(IdleBounded(r, time.Millisecond)); !errors.Is(err, ErrStalled) {
		t.Fatalf("a stalled body: %v", err)
	}
}
