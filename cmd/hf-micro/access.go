package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/config"
)

// keygen prints a new client key; with --name, also the [[key]] block of the access file that admits it.
func keygen(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("name", "", "")
	signingKey := fs.Bool("signing-key", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return writeHelp(stdout, "keygen")
		}
		return &config.UsageError{Problem: "keygen: " + err.Error() + "; the flags are --name NAME and --signing-key"}
	}
	if fs.NArg() > 0 {
		return &config.UsageError{Problem: fmt.Sprintf("keygen takes no arguments but --name NAME or --signing-key, got %q", fs.Arg(0))}
	}
	if *signingKey {
		if *name != "" {
			return &config.UsageError{Problem: "keygen: --signing-key makes a key for HF_MICRO_SIGNING_KEY, which has no name; give one of the two"}
		}
		fmt.Fprintln(stdout, auth.GenerateSigningKey())
		return nil
	}
	if *name != "" && !auth.ValidName(*name) {
		return &config.UsageError{Problem: fmt.Sprintf("keygen --name %q: a name is 1 to 64 letters, digits, '-', '_' or '.'", *name)}
	}
	key := auth.GenerateKey()
	fmt.Fprintln(stdout, key)
	if *name == "" {
		return nil
	}
	fmt.Fprintf(stdout, "\n# The key above is shown only this once: hand it to its user. Paste this into the access file\n"+
		"# (HF_MICRO_ACCESS_FILE), which keeps only the key's SHA-256, and fill in its scopes:\n"+
		"[[key]]\nname    = %q\nsha256  = %q\n# expires = 2027-03-01T00:00:00Z\nread    = [\"*\"]\nwrite   = []\ndelete  = []\n",
		*name, auth.KeyDigest(key))
	return nil
}

// accessCommand is `hf-micro access check FILE`: it validates an access file and says what each principal may
// do. A bad file is an error after every problem has been printed with its line.
func accessCommand(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelpFlag(args[0]) {
		return writeHelp(stdout, "access")
	}
	if len(args) != 2 || args[0] != "check" {
		return &config.UsageError{Problem: "usage: hf-micro access check FILE"}
	}
	path := args[1]
	f, err := auth.LoadAccessFile(path)
	var fe *auth.AccessFileError
	switch {
	case errors.As(err, &fe):
		for _, p := range fe.Problems {
			if p.Line > 0 {
				fmt.Fprintf(stderr, "%s:%d: %s\n", path, p.Line, p.Msg)
			} else {
				fmt.Fprintf(stderr, "%s: %s\n", path, p.Msg)
			}
		}
		return fmt.Errorf("%s: %d problem(s); nothing in it is in force", path, len(fe.Problems))
	case err != nil:
		return err
	}
	now := time.Now()
	fmt.Fprintf(stdout, "%s: %d keys, %d identities\n", path, len(f.Keys), len(f.Identities))
	if f.Defaults != nil {
		fmt.Fprintf(stdout, "defaults: limits %s (per principal without limits of its own)\n", f.Defaults)
	}
	for _, k := range f.Keys {
		expiry := "never expires"
		switch {
		case k.Expired(now):
			expiry = "EXPIRED at " + k.Expires.UTC().Format(time.RFC3339) + ": refused"
		case !k.Expires.IsZero():
			expiry = "expires at " + k.Expires.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "key %s: %s; %s; %s\n", k.Name, k.Scopes.Describe(), expiry, describeLimits(f, k.Limits))
	}
	for _, id := range f.Identities {
		var claims []string
		for _, name := range slices.Sorted(maps.Keys(id.Claims)) {
			claims = append(claims, name+"="+id.Claims[name])
		}
		fmt.Fprintf(stdout, "identity %s: %s; tokens from %s for audience %s with %s; %s\n",
			id.Name, id.Scopes.Describe(), id.Issuer, id.Audience, strings.Join(claims, ", "), describeLimits(f, id.Limits))
	}
	return nil
}

// describeLimits says which budgets a principal has, and whether they are the file's defaults.
func describeLimits(f *auth.AccessFile, own budget.Limits) string {
	if own == nil && f.Defaults != nil {
		return "limits " + f.Defaults.String() + " (defaults)"
	}
	return "limits " + f.LimitsOf(own).String()
}

// watchAccess keeps the access file in force up to date: it polls the file and reloads at once on SIGHUP,
// until ctx ends.
func watchAccess(ctx context.Context, access *auth.Access, logger *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				access.ReloadAndLog(ctx, logger)
			}
		}
	}()
	go access.Watch(ctx, auth.ReloadInterval, logger)
}
