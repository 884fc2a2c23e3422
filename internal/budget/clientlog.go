package budget

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// LogRedisClientTo sends the Redis client library's own messages to logger at debug level. Left alone, the
// library writes a plain-text line to stderr for every failed dial, which would break a JSON log during an
// outage that the store already reports once. Its logger is one per process: the program calls this once.
func LogRedisClientTo(logger *slog.Logger) { redis.SetLogger(clientLogger{logger}) }

type clientLogger struct{ log *slog.Logger }

func (c clientLogger) Printf(ctx context.Context, format string, v ...any) {
	c.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
