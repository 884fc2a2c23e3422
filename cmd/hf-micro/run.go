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

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/config"
	"github.com/hf-micro/hf-micro/internal/logbuf"
)

// version is set at build time with -ldflags "-X main.version=..."; go install fills it from the module.
var version = "dev"

// commands are hf-micro's subcommands, in the order the help lists them.
var commands = []struct{ name, args, does string }{
	{"serve", "[flags]", "serve the API (the default when no command is given)"},
	{"demo", "[flags]", "serve the API in front of a built-in fake Hub: no account, no network"},
	{"healthcheck", "[flags]", "exit 0 if the server on this machine (at ADDR or PORT) answers /healthz, else 1"},
	{"keygen", "[--name NAME | --signing-key]", "print a new client key (for HF_MICRO_API_KEYS); with --name, also its [[key]] block for the access file; with --signing-key, a key for HF_MICRO_SIGNING_KEY"},
	{"access", "check FILE", "validate an access file (HF_MICRO_ACCESS_FILE) and print what each principal may do and when it expires"},
	{"version", "", "print the version"},
	{"help", "[command]", "print this help, or a command's"},
}

// run is the whole program; main only calls it, so tests can run it in-process with their own environment.
// A command line it does not understand is a *config.UsageError.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	command, rest := "", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		command, rest = rest[0], rest[1:]
	}
	switch command {
	case "", "serve", "demo", "healthcheck":
		cfg, err := config.Load(rest, getenv)
		if errors.Is(err, flag.ErrHelp) {
			return writeHelp(stdout, command)
		}
		if err != nil {
			return err
		}
		switch command {
		case "", "serve":
			tuneGC(getenv)
			logger, jsonOut, flush := newLogger(cfg, stderr)
			defer flush()
			if !cfg.RedisURL.IsZero() {
				// Once per process: the Redis client's own messages go to our log, not to stderr as plain text.
				budget.LogRedisClientTo(logger)
			}
			return serve(ctx, cfg, logger, jsonOut, nil)
		case "demo":
			return demo(ctx, cfg, getenv, stdout, stderr)
		default:
			return healthcheck(ctx, cfg)
		}
	case "keygen":
		return keygen(rest, stdout)
	case "access":
		return accessCommand(rest, stdout, stderr)
	case "version":
		if len(rest) > 0 {
			if isHelpFlag(rest[0]) {
				return writeHelp(stdout, command)
			}
			return &config.UsageError{Problem: fmt.Sprintf("%s takes no arguments, got %q", command, rest[0])}
		}
		fmt.Fprintln(stdout, "hf-micro", buildVersion())
		return nil
	case "help":
		if len(rest) > 0 && !isHelpFlag(rest[0]) {
			return writeHelp(stdout, rest[0])
		}
		return writeHelp(stdout, "")
	default:
		return unknownCommand(command)
	}
}

func isHelpFlag(arg string) bool { return arg == "-h" || arg == "-help" || arg == "--help" }

func unknownCommand(name string) error {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return &config.UsageError{Problem: fmt.Sprintf("unknown command %q; the commands are %s", name, strings.Join(names, ", "))}
}

// writeHelp writes the help for one command, or for all of them when command is "".
func writeHelp(w io.Writer, command string) error {
	if command == "" {
		fmt.Fprintf(w, "hf-micro %s: a small, safe gateway to the Hugging Face Hub.\n\nUsage:\n", buildVersion())
		for _, c := range commands {
			fmt.Fprintf(w, "  %-30s %s\n", strings.TrimSpace("hf-micro "+c.name+" "+c.args), c.does)
		}
		fmt.Fprintln(w)
		config.Usage(w)
		return nil
	}
	for _, c := range commands {
		if c.name != command {
			continue
		}
		fmt.Fprintf(w, "Usage: %s\n\n%s.\n", strings.TrimSpace("hf-micro "+c.name+" "+c.args), c.does)
		if c.args == "[flags]" {
			fmt.Fprintln(w)
			config.Usage(w)
		}
		return nil
	}
	return unknownCommand(command)
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

// newLogger is the service's logger, writing to w in batches; flush writes what is held, at exit. jsonOut is
// the writer of its JSON handler, for the server's access lines (server.Options.AccessLogJSON); nil for text.
func newLogger(cfg config.Config, w io.Writer) (logger *slog.Logger, jsonOut io.Writer, flush func() error) {
	out := logbuf.New(w, logDelay)
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(logbuf.Handler(slog.NewTextHandler(out, opts), out)), nil, out.Flush
	}
	return slog.New(logbuf.Handler(slog.NewJSONHandler(out, opts), out)), out, out.Flush
}
