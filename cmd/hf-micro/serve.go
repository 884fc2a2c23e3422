package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/cache"
	"github.com/hf-micro/hf-micro/internal/config"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/metrics"
	"github.com/hf-micro/hf-micro/internal/server"
)

// serve runs the HTTP server until ctx ends, then shuts down gracefully: readiness turns 503 at once, the
// server goes on serving for cfg.DrainDelay, then the listener closes and in-flight requests get
// cfg.ShutdownTimeout to finish. onListen, when set, is told the
// address once the server accepts connections.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, jsonOut io.Writer, onListen func(net.Addr)) error {
	var reg *metrics.Registry // nil: metrics off
	if cfg.MetricsAddr != "" {
		reg = metrics.New()
	}
	hubClient, err := hub.New(hub.Options{
		Endpoint:  cfg.Endpoint,
		Token:     cfg.Token,
		UserAgent: "hf-micro/" + buildVersion(),
		Timeout:   cfg.HubTimeout,
		MaxConns:  cfg.HubMaxConns,
		OnRetry:   reg.HubRetry,
	})
	if err != nil {
		return fmt.Errorf("HF_ENDPOINT: %w", err)
	}
	budgets, err := budgetStore(cfg, logger)
	if err != nil {
		return err
	}
	if closer, ok := budgets.(interface{ Close() error }); ok {
		defer closer.Close()
	}
	var store *cache.Store
	if cfg.CacheDir != "" {
		if store, err = cache.Open(cfg.CacheDir, cfg.CacheMaxBytes); err != nil {
			return fmt.Errorf("HF_MICRO_CACHE_DIR: %w", err)
		}
		logger.Info("download cache", slog.String("dir", cfg.CacheDir), slog.Int64("max_bytes", cfg.CacheMaxBytes), slog.Int64("used_bytes", store.Used()))
	}
	var draining atomic.Bool
	handler, err := server.NewServer(logger, hubClient, server.Options{
		Version:      buildVersion(),
		MaxBodyBytes: cfg.MaxBodyBytes,
		Draining:     &draining,
		Auth:         cfg.Auth,
		Policy:       cfg.Policy,
		CORSOrigins:  cfg.CORSOrigins,
		PublicURL:    cfg.PublicURL,

		AccountCacheTTL: cfg.AccountCacheTTL,
		Demo:            cfg.TokenSource == "demo", // set by demo
		Budgets:         budgets,
		Metrics:         reg,
		Cache:           store,
		CacheRefTTL:     cfg.CacheRefTTL,
		Offline:         cfg.Offline,
		AccessLogJSON:   jsonOut,
	})
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, logger); err != nil {
			return fmt.Errorf("HF_MICRO_PPROF_ADDR: %w", err)
		}
	}
	if reg != nil {
		if err := serveMetrics(ctx, cfg.MetricsAddr, reg, logger); err != nil {
			return fmt.Errorf("HF_MICRO_METRICS_ADDR: %w", err)
		}
	}
	listener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	logger.Info("listening",
		slog.String("addr", listener.Addr().String()),
		slog.String("hub", hubClient.Endpoint()),
		slog.Bool("hub_token", hubClient.HasToken()),
		slog.String("hub_token_from", cfg.TokenSource),
		slog.String("version", buildVersion()))
	announceAccess(logger, cfg)
	if cfg.Auth.Access != nil {
		if reg != nil {
			cfg.Auth.Access.OnReload = reg.AccessFileReload
		}
		watchAccess(ctx, cfg.Auth.Access, logger)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(listener) }()
	if onListen != nil {
		onListen(listener.Addr())
	}

	select {
	case err := <-served:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}

	draining.Store(true)
	if cfg.DrainDelay > 0 {
		// Load balancers learn from /readyz that this replica is going; meanwhile it serves as before.
		logger.Info("draining", slog.String("delay", cfg.DrainDelay.String()))
		time.Sleep(cfg.DrainDelay)
	}
	logger.Info("shutting down", slog.String("grace", cfg.ShutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("requests still in flight after the %s grace period were cut off", cfg.ShutdownTimeout)
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// budgetStore is where budgets and the Hub shield live: Redis, shared by every replica, when configured (not
// dialled yet: an unreachable Redis only means counting in memory, and /readyz does not depend on it), else
// this process's memory.
func budgetStore(cfg config.Config, logger *slog.Logger) (budget.Store, error) {
	if cfg.RedisURL.IsZero() {
		return budget.NewMemory(nil), nil
	}
	store, err := budget.NewRedis(budget.RedisOptions{URL: cfg.RedisURL.Value(), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("HF_MICRO_REDIS_URL: %w", err)
	}
	logger.Info("budgets and the Hub shield are shared through Redis", slog.String("redis", store.Addr()))
	return store, nil
}

// announceAccess says at start-up who may use the server's token and under which limits, and warns loudly
// about settings that open it up.
func announceAccess(logger *slog.Logger, cfg config.Config) {
	who := "loopback callers only (no client keys configured)"
	switch {
	case cfg.Auth.Access != nil:
		f := cfg.Auth.Access.Load()
		who = fmt.Sprintf("callers with a client key (%d of HF_MICRO_API_KEYS, %d of the access file %s), within their scopes",
			cfg.Auth.Keys.Len(), len(f.Keys), cfg.Auth.Access.Path())
	case cfg.Auth.Keys.Len() > 0:
		who = fmt.Sprintf("callers with one of %d client keys", cfg.Auth.Keys.Len())
	case cfg.Auth.AllowAnonymous:
		who = "ANYONE who can reach this port"
	}
	logger.Info("who may use the Hub token",
		slog.String("server_token_usable_by", who),
		slog.Bool("callers_own_tokens", cfg.Auth.CallerTokens),
		slog.Bool("read_only", cfg.Policy.ReadOnly),
		slog.Any("allowed_namespaces", cfg.Policy.AllowedNamespaces),
		slog.Bool("delete_allowed", !cfg.Policy.DenyDelete),
		slog.Any("cors_origins", cfg.CORSOrigins))
	if cfg.Auth.AllowAnonymous && cfg.Auth.Keys.Len() == 0 && cfg.Auth.Access == nil {
		logger.Warn("HF_MICRO_ALLOW_ANONYMOUS is on: anyone who can reach this port acts with the server's Hub token. " +
			"Only do this behind something else that authenticates callers.")
	}
	if cfg.Token.IsZero() {
		logger.Warn("no Hub token configured (HF_TOKEN): hf-micro forwards callers' own tokens and calls the Hub anonymously otherwise")
	}
}
