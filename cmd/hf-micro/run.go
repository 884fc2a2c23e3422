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

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/config"
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
			return serve(ctx, cfg, newLogger(cfg, stderr), nil)
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

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
