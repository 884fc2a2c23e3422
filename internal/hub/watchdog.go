package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// watchdog ends the calls that outlive the Hub timeout. It looks at the calls in flight every tick, a tenth of
// the timeout, with one timer that is armed only while calls are in flight. A timer per call
// (context.WithTimeout) costs a runtime timer armed and stopped on every call: about 2% of GET /api/account's
// CPU in paired A/B runs. The price is precision: a call ends between its timeout and a tick after it.
type watchdog struct {
	timeout *callTimeout // shared, as the cause of every call it ends
	tick    time.Duration

	mu    sync.Mutex
	calls []*watchedCall // in flight, in no order; each knows its index
	armed bool           // a look is due
}

// watchedCall is one attempt: its context ends when the attempt ends, its parent ends, or the watchdog ends it.
type watchedCall struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	deadline time.Time
	index    int // in watchdog.calls; -1 once forgotten
}

func newWatchdog(timeout time.Duration) *watchdog {
	return &watchdog{timeout: &callTimeout{timeout}, tick: max(timeout/10, time.Millisecond)}
}

// start gives call a context under parent and watches it until end.
func (w *watchdog) start(parent context.Context, call *watchedCall) {
	call.ctx, call.cancel = context.WithCancelCause(parent)
	call.deadline = time.Now().Add(w.timeout.limit)
	w.mu.Lock()
	call.index = len(w.calls)
	w.calls = append(w.calls, call)
	if !w.armed {
		w.armed = true
		// A timer of its own each time, not one reset: a timer made inside a synctest bubble must not be
		// reset from outside it, and one made outside would not follow the bubble's clock.
		time.AfterFunc(w.tick, w.look)
	}
	w.mu.Unlock()
}

// end forgets call and releases its context.
func (w *watchdog) end(call *watchedCall) {
	w.mu.Lock()
	w.forget(call)
	w.mu.Unlock()
	call.cancel(nil)
}

// look ends the calls past their deadline, and comes again in a tick while calls are in flight.
func (w *watchdog) look() {
	now := time.Now()
	var late []*watchedCall
	w.mu.Lock()
	for i := len(w.calls) - 1; i >= 0; i-- { // from the end: forget moves the last call, already seen, to i
		if call := w.calls[i]; !now.Before(call.deadline) {
			w.forget(call)
			late = append(late, call)
		}
	}
	w.armed = len(w.calls) > 0
	if w.armed {
		time.AfterFunc(w.tick, w.look)
	}
	w.mu.Unlock()
	for _, call := range late {
		call.cancel(w.timeout)
	}
}

// forget removes call from the calls in flight, if it is there. w.mu is held.
func (w *watchdog) forget(call *watchedCall) {
	i := call.index
	if i < 0 {
		return
	}
	last := len(w.calls) - 1
	w.calls[i] = w.calls[last]
	w.calls[i].index = i
	w.calls[last] = nil
	w.calls = w.calls[:last]
	call.index = -1
}

// timedOut names the Hub timeout as the cause of an error when the watchdog ended the call.
func (call *watchedCall) timedOut(err error) error {
	var limit *callTimeout
	if errors.As(context.Cause(call.ctx), &limit) {
		return limit
	}
	return err
}

// callTimeout is the cause of an attempt that ran out of its time (HF_MICRO_HUB_TIMEOUT).
type callTimeout struct{ limit time.Duration }

func (e *callTimeout) Error() string {
	return fmt.Sprintf("no complete answer within the Hub timeout (%s)", e.limit)
}

// Unwrap makes a call timeout a deadline exceeded, as callers test for.
func (e *callTimeout) Unwrap() error { return context.DeadlineExceeded }
