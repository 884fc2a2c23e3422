package server

import (
	"sync"
	"time"

	"github.com/hf-micro/hf-micro/internal/cache"
)

// refCache remembers which commit a branch or tag named, for HF_MICRO_CACHE_REF_TTL, so that downloads at a
// branch can be answered from the cache without asking the Hub. It serves only requests made with the server's
// token (a caller's own token is always confirmed by the Hub), and lives in memory.
type refCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[refKey]resolvedRef
}

type refKey struct{ repoType, repo, rev string }

type resolvedRef struct {
	commit string
	at     time.Time
}

func newRefCache(ttl time.Duration) *refCache {
	return &refCache{ttl: ttl, m: map[refKey]resolvedRef{}}
}

// commit returns the commit k's revision named within the TTL.
func (c *refCache) commit(k cache.Key) (string, bool) {
	if c.ttl <= 0 {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[refKey{k.Type, k.Repo, k.Commit}]
	if !ok || time.Since(r.at) >= c.ttl {
		return "", false
	}
	return r.commit, true
}

// learn records that k's revision named commit now.
func (c *refCache) learn(k cache.Key, commit string) {
	if c.ttl <= 0 || isCommit(k.Commit) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[refKey{k.Type, k.Repo, k.Commit}] = resolvedRef{commit: commit, at: time.Now()}
}
