package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"sync"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// accountCache spares the Hub's strictly rate-limited whoami-v2: concurrent GET /api/account requests with the
// same credential share one Hub call, and its answer is kept for a short TTL. Entries are per credential and
// never shared across credentials; keys are digests, never tokens. A TTL of 0 turns both off.
type accountCache struct {
	ttl      time.Duration
	mu       sync.Mutex
	entries  map[[sha256.Size]byte]accountEntry
	inflight map[[sha256.Size]byte]*accountCall
}

type accountEntry struct {
	account json.RawMessage
	expires time.Time
}

// accountCall is one Hub call that several requests wait for.
type accountCall struct {
	done     chan struct{}
	account  json.RawMessage
	err      error
	upstream int // the Hub's status, for each waiter's access log
}

// maxAccountEntries bounds the cache; past it, expired entries are dropped, then the rest.
const maxAccountEntries = 10000

func newAccountCache(ttl time.Duration) *accountCache {
	return &accountCache{ttl: ttl, entries: map[[sha256.Size]byte]accountEntry{}, inflight: map[[sha256.Size]byte]*accountCall{}}
}

// serverTokenKey stands for the server's token: no caller's token digest can be it.
var serverTokenKey = sha256.Sum256([]byte("server"))

// credentialKey names the credential a request acts with: the server's token, or a digest of the caller's own.
func credentialKey(caller auth.Caller) [sha256.Size]byte {
	if caller.UsesServerToken() {
		return serverTokenKey
	}
	return caller.TokenDigest()
}

// accountSource is where accounts come from: the Hub client. An interface, not a method value, so that passing
// it allocates nothing.
type accountSource interface {
	WhoAmI(context.Context) (json.RawMessage, error)
}

// get returns the account for key, calling the Hub at most once at a time per key. A waiter whose own request
// ends stops waiting; the shared call goes on for the others, bounded by the Hub client's timeout.
func (c *accountCache) get(ctx context.Context, key [sha256.Size]byte, source accountSource) (json.RawMessage, error) {
	if c.ttl <= 0 {
		return source.WhoAmI(ctx)
	}
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && time.Now().Before(e.expires) {
		c.mu.Unlock()
		return e.account, nil
	}
	call, running := c.inflight[key]
	if !running {
		call = &accountCall{done: make(chan struct{})}
		c.inflight[key] = call
		// The call outlives this request if it goes away, and reports into facts of its own.
		own := reqctx.From(ctx)
		shared := &reqctx.Info{RequestID: own.RequestID, CallerRequestID: own.CallerRequestID, Trace: own.Trace}
		// Nor does it write into this request's reply: no budget note.
		go c.run(reqctx.With(context.WithoutCancel(ctx), shared), shared, key, call, source)
	}
	c.mu.Unlock()

	select {
	case <-call.done:
		reqctx.From(ctx).UpstreamStatus = call.upstream
		return call.account, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fresh returns the cached account for key, if it has not expired.
func (c *accountCache) fresh(key [sha256.Size]byte) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && time.Now().Before(e.expires) {
		return e.account, true
	}
	return nil, false
}

func (c *accountCache) run(ctx context.Context, shared *reqctx.Info, key [sha256.Size]byte, call *accountCall, source accountSource) {
	call.account, call.err = source.WhoAmI(ctx)
	call.upstream = shared.UpstreamStatus
	c.mu.Lock()
	delete(c.inflight, key)
	if call.err == nil {
		if len(c.entries) >= maxAccountEntries {
			c.prune()
		}
		c.entries[key] = accountEntry{account: call.account, expires: time.Now().Add(c.ttl)}
	}
	c.mu.Unlock()
	close(call.done)
}

// prune drops expired entries, and everything if that is not enough. Called with mu held.
func (c *accountCache) prune() {
	now := time.Now()
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) >= maxAccountEntries {
		clear(c.entries)
	}
}
