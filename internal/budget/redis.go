package budget

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// Defaults for RedisOptions.
const (
	DefaultRedisTimeout = 100 * time.Millisecond
	DefaultRedisRetry   = 5 * time.Second
)

// keyGrace keeps a window's counter a little past the window's end, for a replica whose clock lags.
const keyGrace = 5 * time.Second

// takeScript counts a request in one round trip: the counter is created with the window's lifetime, so Redis
// drops ended windows by itself.
var takeScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// admitScript checks the shield and counts the request in one round trip: {1, pttl} when shielded (nothing
// counted), {0, n} with n the count after this request, or {0, 0} when there is no budget key to count in.
var admitScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return {1, ttl} end
if #KEYS < 2 then return {0, 0} end
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return {0, n}`)

// RedisOptions configures a Redis store.
type RedisOptions struct {
	URL        string           // redis:// or rediss://, with the password (or Azure access key) in it
	Timeout    time.Duration    // the most any one call waits on Redis; DefaultRedisTimeout when 0
	RetryEvery time.Duration    // how often to try Redis again while it is unreachable; DefaultRedisRetry when 0
	Logger     *slog.Logger     // where the outage warning and the recovery line go
	Now        func() time.Time // the clock; time.Now when nil
}

// Redis is a Store shared by every replica that points at the same Redis. While Redis cannot be reached it
// answers from a Memory store of this replica's own, and tries Redis again at most once per RetryEvery.
type Redis struct {
	client     *redis.Client
	addr       string // for logs; the URL holds the password
	timeout    time.Duration
	retryEvery time.Duration
	log        *slog.Logger
	now        func() time.Time
	local      *Memory

	down      atomic.Bool
	nextProbe atomic.Int64 // Unix nanoseconds; while down, the first call after it tries Redis
}

// NewRedis returns a Redis store. It does not connect: the first request does, and an unreachable Redis only
// means counting locally. An error is a malformed URL.
func NewRedis(opts RedisOptions) (*Redis, error) {
	o, err := parseRedisURL(opts.URL)
	if err != nil {
		return nil, err
	}
	timeout := orDefault(opts.Timeout, DefaultRedisTimeout)
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout = timeout, timeout, timeout, timeout
	o.ContextTimeoutEnabled = true
	// No retries, of commands or of dials: a retry would multiply the wait, and the request goes on with local
	// counting instead.
	o.MaxRetries = -1
	o.DialerRetries = 1
	o.DisableIdentity = true
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Redis{
		client:     redis.NewClient(o),
		addr:       o.Addr,
		timeout:    timeout,
		retryEvery: orDefault(opts.RetryEvery, DefaultRedisRetry),
		log:        logger,
		now:        now,
		local:      NewMemory(now),
	}, nil
}

// CheckRedisURL reports whether url is a Redis URL NewRedis takes. The error never repeats the URL, which may
// hold a password.
func CheckRedisURL(url string) error {
	_, err := parseRedisURL(url)
	return err
}

func parseRedisURL(url string) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, errors.New("the Redis URL is not valid: want redis://[:password@]host:port[/db], or rediss:// for TLS")
	}
	return o, nil
}

// Addr is Redis's host:port, which may be logged (the URL may not: it holds the password).
func (r *Redis) Addr() string { return r.addr }

// Close closes the connections to Redis.
func (r *Redis) Close() error { return r.client.Close() }

func (r *Redis) Take(ctx context.Context, principal string, bucket hubroute.Bucket, limit Limit) Decision {
	if !r.available() {
		return r.local.Take(ctx, principal, bucket, limit)
	}
	start, reset := limit.window(r.now())
	key := budgetKeyName(principal, bucket, start)
	call, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	n, err := takeScript.Run(call, r.client, []string{key}, (reset + keyGrace).Milliseconds()).Int64()
	if err != nil {
		r.failed(ctx, err)
		return r.local.Take(ctx, principal, bucket, limit)
	}
	r.succeeded()
	return decide(n, limit, reset)
}

func (r *Redis) Admit(ctx context.Context, credentialKey, principal string, bucket hubroute.Bucket, limit *Limit) Admission {
	if !r.available() {
		return r.local.Admit(ctx, credentialKey, principal, bucket, limit)
	}
	keys := []string{shieldKeyName(credentialKey, bucket)}
	var reset time.Duration
	if limit != nil {
		var start time.Time
		start, reset = limit.window(r.now())
		keys = append(keys, budgetKeyName(principal, bucket, start))
	}
	call, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := admitScript.Run(call, r.client, keys, (reset + keyGrace).Milliseconds()).Int64Slice()
	if err == nil && len(res) != 2 {
		err = errors.New("the admit script answered something else than two numbers")
	}
	if err != nil {
		r.failed(ctx, err)
		return r.local.Admit(ctx, credentialKey, principal, bucket, limit)
	}
	r.succeeded()
	switch {
	case res[0] == 1:
		return Admission{Shielded: true, ShieldReset: time.Duration(res[1]) * time.Millisecond}
	case limit == nil:
		return Admission{}
	}
	return Admission{Counted: true, Decision: decide(res[1], *limit, reset)}
}

func (r *Redis) Shield(ctx context.Context, credentialKey string, bucket hubroute.Bucket, reset time.Duration) {
	// The shield is kept in memory too, so this replica holds it through an outage that starts later.
	r.local.Shield(ctx, credentialKey, bucket, reset)
	if !r.available() {
		return
	}
	call, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Set(call, shieldKeyName(credentialKey, bucket), 1, reset).Err(); err != nil {
		r.failed(ctx, err)
		return
	}
	r.succeeded()
}

func (r *Redis) Shielded(ctx context.Context, credentialKey string, bucket hubroute.Bucket) (time.Duration, bool) {
	if !r.available() {
		return r.local.Shielded(ctx, credentialKey, bucket)
	}
	call, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ttl, err := r.client.PTTL(call, shieldKeyName(credentialKey, bucket)).Result()
	if err != nil {
		r.failed(ctx, err)
		return r.local.Shielded(ctx, credentialKey, bucket)
	}
	r.succeeded()
	return ttl, ttl > 0 // PTTL is negative for a missing key
}

func budgetKeyName(principal string, bucket hubroute.Bucket, start time.Time) string {
	return "hf-micro:budget:" + url.QueryEscape(principal) + ":" + url.QueryEscape(string(bucket)) + ":" +
		strconv.FormatInt(start.Unix(), 10)
}

func shieldKeyName(credentialKey string, bucket hubroute.Bucket) string {
	return "hf-micro:shield:" + url.QueryEscape(credentialKey) + ":" + url.QueryEscape(string(bucket))
}

// available reports whether to ask Redis: always while it is up; while it is down, for one caller per
// RetryEvery, whose call is the probe.
func (r *Redis) available() bool {
	if !r.down.Load() {
		return true
	}
	next := r.nextProbe.Load()
	now := r.now().UnixNano()
	return now >= next && r.nextProbe.CompareAndSwap(next, now+int64(r.retryEvery))
}

// failed notes that a call to Redis failed, and warns once per outage. A call that failed because its
// caller went away says nothing about Redis.
func (r *Redis) failed(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	r.nextProbe.Store(r.now().UnixNano() + int64(r.retryEvery))
	if r.down.CompareAndSwap(false, true) {
		r.log.Warn("budget: Redis is unreachable; each replica counts budgets on its own until it is back",
			"addr", r.addr, "err", err.Error(), "retry_every", r.retryEvery.String())
	}
}

func (r *Redis) succeeded() {
	if r.down.Load() && r.down.CompareAndSwap(true, false) {
		r.log.Info("budget: Redis is back; budgets are shared again", "addr", r.addr)
	}
}

func orDefault(d, fallback time.Duration) time.Duration {
	if d <= 0 {
		return fallback
	}
	return d
}
