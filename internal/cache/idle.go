package cache

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// ErrStalled is a download that sent nothing for the idle bound.
var ErrStalled = errors.New("the download sent nothing within the timeout")

// IdleBounded bounds each read of a download body: one that waits longer than idle closes the body, which
// ends the read with ErrStalled. A fill outlives the caller that started it (others may wait for it), so a
// source that stalls must not hold it forever; a long download that keeps moving is never cut.
func IdleBounded(body io.ReadCloser, idle time.Duration) io.ReadCloser {
	b := &idleBody{body: body, idle: idle}
	b.timer = time.AfterFunc(time.Hour, func() { b.stalled.Store(true); _ = body.Close() })
	b.timer.Stop()
	return b
}

type idleBody struct {
	body    io.ReadCloser
	idle    time.Duration
	timer   *time.Timer
	stalled atomic.Bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.body.Read(p)
	b.timer.Stop()
	if err != nil && err != io.EOF && b.stalled.Load() {
		err = ErrStalled
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.body.Close()
}
