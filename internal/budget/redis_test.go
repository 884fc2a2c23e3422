package budget

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget/redistest"
	"github.com/hf-micro/hf-micro/internal/fakeclock"
	"github.com/hf-micro/hf-micro/internal/hubroute"
	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) {
	LogRedisClientTo(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// Wide enough for a busy CI machine: these tests assert what happened, never how fast.
const testRedisTimeout = 5 * time.Second

// logRecorder keeps the records a store logs.
type logRecorder struct {
	mu      sync.Mutex
	records []string // "LEVEL message attrs..."
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, line)
	return nil
}

// count reports how many records start with prefix.
func (l *logRecorder) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (l *logRecorder) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.records, "\n")
}

func newRedisStore(t *testing.T, url string, clock *fakeclock.Clock, log *logRecorder) *Redis {
	t.Helper()
	store, err := NewRedis(RedisOptions{URL: url, Timeout: testRedisTimeout, RetryEvery: 5 * time.Second,
		Logger: slog.New(log), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// Two stores on one Redis are two replicas: together they allow a principal's 10/1m exactly 10 times, however
// the requests are spread and interleaved.
func TestRedisReplicasShareOneBudget(t *testing.T) {
	server := redistest.Start(t)
	clock, log := newFakeClock(), &logRecorder{}
	replicas := []*Redis{newRedisStore(t, server.URL, clock, log), newRedisStore(t, server.URL, clock, log)}
	limit := Limit{10, time.Minute}
	clock.Advance(20 * time.Second)

	var allowed atomic.Int64
	perReplica := make([]atomic.Int64, 2)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			d := replicas[i%2].Take(context.Background(), "ci-bot", hubroute.API, limit)
			if d.Allowed {
				allowed.Add(1)
				perReplica[i%2].Add(1)
			}
			if d.Reset != 40*time.Second || d.Limit != limit {
				t.Errorf("decision %+v: want reset 40s and the limit", d)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Fatalf("%d of 40 allowed across two replicas, want exactly 10", n)
	}
	t.Logf("allowed by replica: %d and %d", perReplica[0].Load(), perReplica[1].Load())

	ctx := context.Background()
	if d := replicas[1].Take(ctx, "ci-bot", hubroute.API, limit); d.Allowed || d.Remaining != 0 {
		t.Errorf("over budget: %+v", d)
	}
	if d := replicas[0].Take(ctx, "alice", hubroute.API, limit); !d.Allowed || d.Remaining != 9 {
		t.Errorf("another principal: %+v", d)
	}
	if d := replicas[0].Take(ctx, "ci-bot", hubroute.Resolvers, limit); !d.Allowed || d.Remaining != 9 {
		t.Errorf("another bucket: %+v", d)
	}
	clock.Advance(40 * time.Second) // the next window
	if d := replicas[1].Take(ctx, "ci-bot", hubroute.API, limit); !d.Allowed || d.Remaining != 9 {
		t.Errorf("next window: %+v", d)
	}
	if n := log.count("WARN"); n != 0 {
		t.Errorf("warnings with Redis up:\n%s", log.all())
	}
}

// The key of a window lives in Redis until the window ends, and its name holds no raw principal separator.
func TestRedisKeysAreNamespacedAndExpire(t *testing.T) {
	server := redistest.Start(t)
	clock := newFakeClock()
	store := newRedisStore(t, server.URL, clock, &logRecorder{})
	clock.Advance(20 * time.Second)
	store.Take(context.Background(), "team:ci bot", hubroute.API, Limit{10, time.Minute})

	raw := redis.NewClient(&redis.Options{Addr: server.Addr})
	defer raw.Close()
	ctx := context.Background()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := "hf-micro:budget:team%3Aci+bot:api:1800000000"
	if len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %q, want [%s]", keys, want)
	}
	ttl, err := raw.PTTL(ctx, want).Result()
	if err != nil || ttl <= 0 || ttl > 40*time.Second+keyGrace {
		t.Errorf("TTL %v, %v: want the rest of the window (40s) and the grace at most", ttl, err)
	}
}

// A shield set through one replica holds for the other, for that credential and bucket only, and its key
// expires at the reset.
func TestRedisShieldHoldsForEveryReplica(t *testing.T) {
	server := redistest.Start(t)
	clock, log := newFakeClock(), &logRecorder{}
	a, b := newRedisStore(t, server.URL, clock, log), newRedisStore(t, server.URL, clock, log)
	ctx := context.Background()
	token := CredentialKey("hf_server_token")

	a.Shield(ctx, token, hubroute.API, 30*time.Second)
	reset, shielded := b.Shielded(ctx, token, hubroute.API)
	if !shielded || reset <= 0 || reset > 30*time.Second {
		t.Errorf("the other replica: Shielded = %v, %v; want up to 30s, true", reset, shielded)
	}
	if _, shielded := b.Shielded(ctx, token, hubroute.Resolvers); shielded {
		t.Error("another bucket is shielded")
	}
	if _, shielded := b.Shielded(ctx, CredentialKey("hf_caller_token"), hubroute.API); shielded {
		t.Error("another credential is shielded")
	}

	raw := redis.NewClient(&redis.Options{Addr: server.Addr})
	defer raw.Close()
	keys, err := raw.Keys(ctx, "hf-micro:shield:*").Result()
	if err != nil || len(keys) != 1 || strings.Contains(keys[0], "hf_server_token") || !strings.Contains(keys[0], token) {
		t.Fatalf("shield keys %q, %v: want one, named by the digest", keys, err)
	}
	if ttl, err := raw.PTTL(ctx, keys[0]).Result(); err != nil || ttl <= 0 || ttl > 30*time.Second {
		t.Errorf("shield TTL %v, %v: want the reset, 30s at most", ttl, err)
	}
	if n := log.count("WARN"); n != 0 {
		t.Errorf("warnings with Redis up:\n%s", log.all())
	}
}

// Redis dies mid-run: no request fails, the replica counts on its own (a fresh local window), one warning is
// logged however many requests meet the outage, Redis is not asked again before RetryEvery, and once a new
// server answers on the same port an info line says budgets are shared again.
func TestRedisOutageFallsBackToLocalCounting(t *testing.T) {
	server := redistest.Start(t)
	clock, log := newFakeClock(), &logRecorder{}
	store := newRedisStore(t, server.URL, clock, log)
	ctx := context.Background()
	limit := Limit{10, time.Minute}
	token := CredentialKey("hf_server_token")

	for range 3 {
		store.Take(ctx, "ci-bot", hubroute.API, limit)
	}
	store.Shield(ctx, token, hubroute.API, 30*time.Second)

	server.Kill()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if store.Take(ctx, "ci-bot", hubroute.API, limit).Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Errorf("during the outage %d of 20 allowed, want 10 (the whole budget, counted locally)", n)
	}
	if _, shielded := store.Shielded(ctx, token, hubroute.API); !shielded {
		t.Error("the shield set before the outage is lost on this replica")
	}
	if n := log.count("WARN budget: Redis is unreachable"); n != 1 {
		t.Fatalf("%d outage warnings, want 1:\n%s", n, log.all())
	}

	// A new, empty server on the same port. Until RetryEvery has passed, Redis is not asked: the local count,
	// used up, still answers.
	server.Restart()
	if d := store.Take(ctx, "ci-bot", hubroute.API, limit); d.Allowed {
		t.Errorf("Redis was asked again before RetryEvery: %+v", d)
	}
	if n := log.count("INFO"); n != 0 {
		t.Errorf("recovery logged before a probe:\n%s", log.all())
	}

	// After RetryEvery one request probes Redis. The probe can fail while the client library still holds the
	// dead server's dial error (it re-dials on its own, once a second of real time); the store then waits
	// another RetryEvery, which the fake clock gives it. This waits for an event, with a wide deadline.
	var d Decision
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		clock.Advance(5 * time.Second)
		if d = store.Take(ctx, "ci-bot", hubroute.API, limit); log.count("INFO") > 0 {
			break
		}
	}
	if n := log.count("INFO budget: Redis is back"); n != 1 {
		t.Fatalf("%d recovery lines, want 1:\n%s", n, log.all())
	}
	if !d.Allowed || d.Remaining != 9 {
		t.Errorf("back on the new, empty Redis: %+v; want allowed with 9 remaining", d)
	}
	if n := log.count("WARN"); n != 1 {
		t.Errorf("%d warnings in all, want 1:\n%s", n, log.all())
	}
}

// A caller that goes away while Redis is asked says nothing about Redis: no outage is declared.
func TestRedisCancelledCallerIsNoOutage(t *testing.T) {
	server := redistest.Start(t)
	log := &logRecorder{}
	store := newRedisStore(t, server.URL, newFakeClock(), log)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	store.Take(ctx, "ci-bot", hubroute.API, Limit{10, time.Minute})
	if store.down.Load() || log.count("WARN") != 0 {
		t.Errorf("a cancelled caller declared an outage:\n%s", log.all())
	}
	if d := store.Take(context.Background(), "ci-bot", hubroute.API, Limit{10, time.Minute}); !d.Allowed {
		t.Errorf("after a cancelled caller: %+v", d)
	}
}

func TestNewRedisRejectsABadURLWithoutRepeatingIt(t *testing.T) {
	for _, url := range []string{"http://:s3cret@host:6380", "rediss://:s3cret@host:notaport", "s3cret"} {
		_, err := NewRedis(RedisOptions{URL: url})
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewRedis(%q) error = %v; want an error that does not repeat the URL", url, err)
		}
	}
}

// A Redis that accepts connections and never answers costs each call at most the timeout, then the replica
// counts on its own.
func TestRedisThatHangsFallsBackAfterTheTimeout(t *testing.T) {
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		var held []net.Conn // open and silent until the listener closes
		for {
			conn, err := hung.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, conn)
		}
	}()
	log := &logRecorder{}
	store, err := NewRedis(RedisOptions{URL: "redis://" + hung.Addr().String(), Timeout: 200 * time.Millisecond,
		Logger: slog.New(log), Now: newFakeClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i := range 3 {
		if d := store.Take(context.Background(), "ci-bot", hubroute.API, Limit{10, time.Minute}); !d.Allowed || d.Remaining != 9-i {
			t.Fatalf("request %d: %+v; want counted locally", i+1, d)
		}
	}
	if n := log.count("WARN budget: Redis is unreachable"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, log.all())
	}
}
