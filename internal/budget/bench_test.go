//go:build unix

package budget

import (
	"context"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget/redistest"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// The benchmarks count requests of 1,000 principals against a limit none of them reaches, one request at a
// time, and report the process's CPU time per request (cpu-ns/op) beside the wall time: with Redis, ns/op is
// mostly the wait for the loopback round trip, while cpu-ns/op is what a request costs this process.

func BenchmarkTakeMemory(b *testing.B) {
	benchmarkTake(b, NewMemory(nil))
}

func BenchmarkTakeRedis(b *testing.B) {
	server := redistest.Start(b)
	store, err := NewRedis(RedisOptions{URL: server.URL, Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	benchmarkTake(b, store)
	if store.down.Load() {
		b.Fatal("Redis went down during the benchmark: the figures are of the memory fallback")
	}
}

func benchmarkTake(b *testing.B, store Store) {
	principals := make([]string, 1000)
	for i := range principals {
		principals[i] = fmt.Sprint("principal-", i)
	}
	limit := Limit{maxCount, time.Hour}
	ctx := context.Background()
	b.ReportAllocs()
	cpuBefore := cpuTime(b)
	i := 0
	for b.Loop() {
		if !store.Take(ctx, principals[i%len(principals)], hubroute.API, limit).Allowed {
			b.Fatal("refused")
		}
		i++
	}
	b.ReportMetric(float64(cpuTime(b)-cpuBefore)/float64(i), "cpu-ns/op")
}

// cpuTime is the CPU time, user and system, this process has used.
func cpuTime(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
