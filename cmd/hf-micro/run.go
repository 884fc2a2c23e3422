package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/config"
	"github.com/hf-micro/hf-micro/internal/logbuf"
)

// version is set at build time with -ldflags "-X main.version=..."; go install fills it from the module.
var version = "dev"

const usage = `hf-micro: a small, safe gateway to the Hugging Face Hub.

Usage:
  hf-micro [serve] [flags]   serve the API (the default)
  hf-micro demo [flags]      serve the API in front of a built-in fake Hub: no account, no network
  hf-micro healthcheck       exit 0 if the server on this machine answers /healthz, else 1
  hf-micro keygen            print a new client key (for HF_MICRO_API_KEYS)
  hf-micro version           print the version

Settings come from flags, the environment and a .env file; "hf-micro serve -h" lists them.
`

// run is the whole program; main only calls it, so tests can run it in-process with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	command, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		command, rest = rest[0], rest[1:]
	}
	switch command {
	case "serve", "demo", "healthcheck":
		cfg, err := config.Load(rest, getenv, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		if err != nil {
			return err
		}
		switch command {
		case "serve":
			logger, flush := newLogger(cfg, stderr)
			defer flush()
			return serve(ctx, cfg, logger, nil)
		case "demo":
			return demo(ctx, cfg, getenv, stdout, stderr)
		default:
			return healthcheck(ctx, cfg)
		}
	case "keygen":
		fmt.Fprintln(stdout, auth.GenerateKey())
		return nil
	case "version":
		fmt.Fprintln(stdout, "hf-micro", buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", command)
	}
}

// buildVersion is the -ldflags version, else the module version go install recorded.
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

// logDelay is the longest a log line waits to be written with the ones after it (see internal/logbuf).
const logDelay = 100 * time.Millisecond

// newLogger is the service's logger, writing to w in batches; flush writes what is held, at exit.
func newLogger(cfg config.Config, w io.Writer) (logger *slog.Logger, flush func() error) {
	out := logbuf.New(w, logDelay)
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(out, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(out, opts)
	}
	return slog.New(logbuf.Handler(h, out)), out.Flush
}
