package main

import (
	"bytes"
	"errors"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// runBinary runs hf-micro with args and an empty environment, in a fresh directory, and returns its exit
// code and output.
func runBinary(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = t.TempDir(), append([]string{}, env...) // never nil, which would mean this process's environment
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestHelpListsCommandsAndSettings(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, stdout, stderr := runBinary(t, nil, args...)
		if code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q; want 0 and nothing", args, code, stderr)
		}
		for _, want := range []string{
			"\n  hf-micro serve [flags] ", "(the default when no command is given)",
			"\n  hf-micro demo [flags] ", "\n  hf-micro healthcheck [flags] ", "\n  hf-micro keygen [--name NAME | --signing-key] ", "\n  hf-micro access check FILE ", "\n  HF_MICRO_ACCESS_FILE\n", "\n  hf-micro version ",
			"\n  -port, PORT\n        listen port on all interfaces (default 8080)\n",
			"\n  -addr, ADDR\n", "\n  -shutdown-timeout, HF_MICRO_SHUTDOWN_TIMEOUT\n", "\n  -env-file path\n",
			"\n  HF_MICRO_MAX_BODY_BYTES\n        largest accepted request body (default 1048576)\n",
			"HF_TOKEN",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%q: the help lacks %q:\n%s", args, want, stdout)
			}
		}
	}
}

func TestSubcommandHelp(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		usage    string
		settings bool
	}{
		{[]string{"serve", "-h"}, "Usage: hf-micro serve [flags]\n", true},
		{[]string{"demo", "--help"}, "Usage: hf-micro demo [flags]\n", true},
		{[]string{"healthcheck", "-h"}, "Usage: hf-micro healthcheck [flags]\n", true},
		{[]string{"help", "demo"}, "Usage: hf-micro demo [flags]\n", true},
		{[]string{"keygen", "-h"}, "Usage: hf-micro keygen [--name NAME | --signing-key]\n", false},
		{[]string{"access", "--help"}, "Usage: hf-micro access check FILE\n", false},
		{[]string{"version", "--help"}, "Usage: hf-micro version\n", false},
	} {
		code, stdout, stderr := runBinary(t, nil, tc.args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, tc.usage) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and %q", tc.args, code, stdout, stderr, tc.usage)
		}
		if got := strings.Contains(stdout, "  -port, PORT\n"); got != tc.settings {
			t.Errorf("%q: lists the settings: %v, want %v", tc.args, got, tc.settings)
		}
	}
}

// TestCommandLineMistakes: what hf-micro does not understand gets one line on stderr naming what it accepts,
// and exit status 2, before anything starts.
func TestCommandLineMistakes(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"; the commands are serve, demo, healthcheck, keygen, access, version, help`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"; the commands are serve,`},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus; the flags are -addr, -endpoint, -env-file, -hub-timeout,"},
		{[]string{"serve", "--prot", "8080"}, "flag provided but not defined: -prot; the flags are -addr,"},
		{[]string{"demo", "stray"}, `unexpected argument "stray"; settings are flags (-name value) or environment variables; the flags are -addr,`},
		{[]string{"keygen", "extra"}, `keygen takes no arguments but --name NAME or --signing-key, got "extra"`},
		{[]string{"keygen", "--name", "a b"}, `keygen --name "a b": a name is 1 to 64 letters`},
		{[]string{"access", "list"}, `usage: hf-micro access check FILE`},
	} {
		code, stdout, stderr := runBinary(t, nil, tc.args...)
		if code != 2 || stdout != "" || !strings.HasPrefix(stderr, "hf-micro: "+tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and one line %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestHealthcheckWithNothingListening(t *testing.T) {
	// A port that was free a moment ago; nothing listens on it now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()

	code, _, stderr := runBinary(t, []string{"PORT=" + port}, "healthcheck")
	want := "hf-micro: healthcheck: nothing is listening on 127.0.0.1:" + port + " (connection refused): is the server running?"
	if code != 1 || !strings.HasPrefix(stderr, want) || strings.Contains(stderr, "dial tcp") {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}

func TestLoopbackAddr(t *testing.T) {
	for listen, want := range map[string]string{
		":8080":          "127.0.0.1:8080",
		"0.0.0.0:8080":   "127.0.0.1:8080",
		"[::]:8080":      "127.0.0.1:8080",
		"127.0.0.1:9000": "127.0.0.1:9000",
		"[::1]:9000":     "[::1]:9000",
		"10.1.2.3:8080":  "10.1.2.3:8080",
		"localhost:8080": "localhost:8080",
	} {
		if got := loopbackAddr(listen); got != want {
			t.Errorf("loopbackAddr(%q) = %q, want %q", listen, got, want)
		}
	}
}
