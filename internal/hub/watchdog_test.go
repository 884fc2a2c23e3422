package hub

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestWatchdog follows calls on the fake clock of a synctest bubble: each ends at its deadline or at the next
// look after it, never before; a call that ends first is forgotten, and so is one whose parent ends; and the
// watchdog stops looking once no call is in flight.
func TestWatchdog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 100 * time.Millisecond // looks every 10ms from the first call's start
		w := newWatchdog(timeout)
		start := time.Now()
		var onTick, offTick, early, orphan watchedCall
		w.start(context.Background(), &onTick)
		time.Sleep(5 * time.Millisecond)
		w.start(context.Background(), &offTick)
		w.start(context.Background(), &early)
		parent, cancelParent := context.WithCancel(context.Background())
		w.start(parent, &orphan)

		time.Sleep(45 * time.Millisecond)
		w.end(&early)
		cancelParent()
		<-orphan.ctx.Done()
		w.end(&orphan)

		<-onTick.ctx.Done()
		if at := time.Since(start); at != timeout {
			t.Errorf("a call that started on a look ended after %v, want %v", at, timeout)
		}
		<-offTick.ctx.Done()
		if at := time.Since(start); at != 110*time.Millisecond {
			t.Errorf("a call due at 105ms ended at %v, want the next look, 110ms", at)
		}
		for name, call := range map[string]*watchedCall{"on a look": &onTick, "between looks": &offTick} {
			if err := call.timedOut(context.Canceled); !errors.Is(err, context.DeadlineExceeded) || err.Error() != "no complete answer within the Hub timeout (100ms)" {
				t.Errorf("the call %s: %v, want the Hub timeout", name, err)
			}
			w.end(call) // as the caller does after the error
		}
		for name, call := range map[string]*watchedCall{"ended first": &early, "whose parent ended": &orphan} {
			if err := call.timedOut(context.Canceled); err != context.Canceled {
				t.Errorf("the call %s: %v, want its own error", name, err)
			}
		}

		time.Sleep(timeout) // the next look finds nothing and stops
		w.mu.Lock()
		defer w.mu.Unlock()
		if len(w.calls) != 0 || w.armed {
			t.Errorf("%d calls still watched, looking %v; want none, not looking", len(w.calls), w.armed)
		}
	})
}
