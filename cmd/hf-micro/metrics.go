package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hf-micro/hf-micro/internal/metrics"
)

// serveMetrics serves GET /metrics, and nothing else, on its own listener (HF_MICRO_METRICS_ADDR), apart from
// the API, which never serves it. It stops when ctx ends.
func serveMetrics(ctx context.Context, addr string, reg *metrics.Registry, logger *slog.Logger) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(listener) }()
	logger.Info("metrics", slog.String("addr", listener.Addr().String()))
	return nil
}
