package logbuf

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder is the destination: what arrived, and in how many writes.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	return r.buf.Write(p)
}

func (r *recorder) state() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String(), r.writes
}

// TestLinesArriveTogetherAfterTheDelay runs on synctest's fake clock: the lines are held for exactly the delay
// however slow the machine, and the test sees the instant before and the instant of the write.
func TestLinesArriveTogetherAfterTheDelay(t *testing.T) {
	synctest.Test(t, linesArriveTogetherAfterTheDelay)
}

func linesArriveTogetherAfterTheDelay(t *testing.T) {
	const delay = 50 * time.Millisecond
	out := &recorder{}
	w := New(out, delay)
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	time.Sleep(delay - time.Nanosecond)
	synctest.Wait()
	if got, _ := out.state(); got != "" {
		t.Fatalf("written before the delay: %q", got)
	}
	time.Sleep(time.Nanosecond)
	synctest.Wait()
	if got, writes := out.state(); writes != 1 || strings.Count(got, "\n") != 100 || !strings.HasPrefix(got, "line 0\n") || !strings.HasSuffix(got, "line 99\n") {
		t.Fatalf("want the 100 lines in one write once the delay is over, got %d writes: %q", writes, got)
	}
	fmt.Fprintln(w, "later")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, writes := out.state(); !strings.HasSuffix(got, "line 99\nlater\n") || writes != 2 {
		t.Fatalf("after Flush: %d writes, %q", writes, got)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, writes := out.state(); writes != 2 {
		t.Fatalf("a Flush with nothing held wrote: %d writes", writes)
	}
}

func TestAFullBufferIsWrittenAtOnce(t *testing.T) {
	out := &recorder{}
	w := New(out, time.Hour)
	line := strings.Repeat("x", 1023) + "\n"
	for range maxBuffered / len(line) {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	got, writes := out.state()
	if writes != 1 || len(got) != maxBuffered {
		t.Fatalf("want one write of %d bytes, got %d writes of %d bytes", maxBuffered, writes, len(got))
	}
}

func TestWarningsAreWrittenAtOnce(t *testing.T) {
	out := &recorder{}
	w := New(out, time.Hour)
	logger := slog.New(Handler(slog.NewJSONHandler(w, nil), w)).With("component", "test").WithGroup("g")
	logger.Info("held")
	if got, _ := out.state(); got != "" {
		t.Fatalf("an info line was written at once: %q", got)
	}
	logger.Warn("trouble", "n", 1)
	got, writes := out.state()
	if writes != 1 || !strings.Contains(got, `"msg":"held"`) || !strings.Contains(got, `"msg":"trouble","component":"test","g":{"n":1}`) {
		t.Fatalf("want the held line and the warning in one write, got %d writes: %q", writes, got)
	}
	logger.Error("worse")
	if got, _ := out.state(); !strings.Contains(got, `"msg":"worse"`) {
		t.Fatalf("the error line was held: %q", got)
	}
}

// TestConcurrentLinesStayWhole writes from many goroutines (run with -race): every line arrives once and whole.
func TestConcurrentLinesStayWhole(t *testing.T) {
	out := &recorder{}
	w := New(out, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(w, "g%d-%d %s\n", g, i, strings.Repeat("y", 200))
			}
		})
	}
	wg.Wait()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, _ := out.state()
	seen := map[string]bool{}
	for line := range strings.SplitSeq(strings.TrimSuffix(got, "\n"), "\n") {
		id, rest, _ := strings.Cut(line, " ")
		if rest != strings.Repeat("y", 200) || seen[id] {
			t.Fatalf("torn or repeated line: %q", line)
		}
		seen[id] = true
	}
	if len(seen) != 8*500 {
		t.Fatalf("%d of %d lines arrived", len(seen), 8*500)
	}
}
