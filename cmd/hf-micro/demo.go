package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/hf-micro/hf-micro/internal/config"
	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/server"
)

// demo serves the API in front of the built-in fake Hub on loopback, so that every endpoint can be tried with
// no account and no network. A real token in the environment is never used.
func demo(ctx context.Context, cfg config.Config, getenv func(string) string, stdout, stderr io.Writer) error {
	fake, token := fakehub.Demo()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: fake Hub: %w", err)
	}
	fakeServer := &http.Server{Handler: fake, ReadHeaderTimeout: cfg.ReadHeaderTimeout}
	go func() { _ = fakeServer.Serve(listener) }()
	defer fakeServer.Close()

	realToken := !cfg.Token.IsZero()
	cfg.Endpoint = "http://" + listener.Addr().String()
	cfg.Token = hub.NewToken(token)
	cfg.TokenSource = "demo"

	logger, jsonOut, flush := newLogger(cfg, stderr)
	defer flush()
	return serve(ctx, cfg, logger, jsonOut, func(addr net.Addr) {
		base := "http://" + loopbackAddr(addr.String())
		examples, err := server.Examples(base)
		if err != nil {
			fmt.Fprintln(stderr, "demo:", err)
		}
		fmt.Fprintf(stdout, "\nhf-micro %s demo: serving on %s in front of a built-in fake Hub at %s.\n", buildVersion(), base, cfg.Endpoint)
		fmt.Fprintln(stdout, "The server holds a demo token for the fake user \"demo\" (org \"demo-org\"), so /api/account answers for \"demo\";")
		fmt.Fprintln(stdout, "no real account or network is used.")
		if realToken {
			fmt.Fprintln(stdout, "Your Hub token from the environment is ignored in demo mode.")
		}
		fmt.Fprintf(stdout, "Open %s/ for the endpoint list, or paste these in turn:\n\n  %s\n\nStop with Ctrl-C.\n\n",
			base, strings.Join(examples, "\n  "))
	})
}
