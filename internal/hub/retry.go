package hub

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Idempotent reads (GET) are retried when the Hub could not be reached or answered 502, 503 or 504: those are
// the failures a second try often gets past. Writes are never retried (a create that timed out may have
// happened), nor is 429 (the caller gets Retry-After and decides). Retries wait a jittered, growing backoff,
// stay inside the caller's deadline, and draw on a budget so that an outage does not multiply the load on
// the Hub.
const (
	maxAttempts = 3
	baseBackoff = 100 * time.Millisecond
)

// retryBudget allows retries up to a tenth of the calls made, plus a small reserve: a token bucket.
type retryBudget struct {
	mu     sync.Mutex
	tokens float64
}

const (
	budgetPerCall = 0.1
	budgetMax     = 10
)

func newRetryBudget() *retryBudget { return &retryBudget{tokens: budgetMax} }

// deposit is made for every call.
func (b *retryBudget) deposit() {
	b.mu.Lock()
	b.tokens = min(b.tokens+budgetPerCall, budgetMax)
	b.mu.Unlock()
}

// withdraw takes one retry from the budget, if there is one.
func (b *retryBudget) withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// retryable reports whether a failed attempt of method is worth another.
func retryable(method string, err error) bool {
	var refused *refusedRedirect
	if method != http.MethodGet || errors.Is(err, context.Canceled) || errors.As(err, &refused) {
		return false
	}
	var he *Error
	if errors.As(err, &he) {
		return he.Status == http.StatusBadGateway || he.Status == http.StatusServiceUnavailable || he.Status == http.StatusGatewayTimeout
	}
	// A call that ran out of time is not retried: another would only wait as long again.
	var ne *NetworkError
	return errors.As(err, &ne) && !ne.Timeout()
}

// retryReason names what failed in an attempt that is tried again: the Hub's status, or "network".
func retryReason(err error) string {
	var he *Error
	if errors.As(err, &he) {
		return strconv.Itoa(he.Status)
	}
	return "network"
}

// backoff waits before attempt n (1 for the first retry): full jitter over a doubling window. It returns false
// when ctx ends first or the wait would not leave the call its deadline.
func backoff(ctx context.Context, n int) bool {
	wait := rand.N(baseBackoff << (n - 1))
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return false
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
