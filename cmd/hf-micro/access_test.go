package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
)

// TestKeygenNameAndAccessCheck: the block `keygen --name` prints is a valid access file that admits its key,
// and `access check` says what each principal may do.
func TestKeygenNameAndAccessCheck(t *testing.T) {
	code, stdout, stderr := runBinary(t, nil, "keygen", "--name", "release-ci")
	key, block, _ := strings.Cut(stdout, "\n")
	if code != 0 || stderr != "" || !strings.HasPrefix(key, auth.KeyPrefix) || !strings.Contains(block, `sha256  = "`+auth.KeyDigest(key)+`"`) {
		t.Fatalf("keygen --name: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	f, err := auth.ParseAccessFile([]byte(block + "\n[[key]]\nname = \"contractor\"\nsha256 = \"" + strings.Repeat("ab", 32) +
		"\"\nexpires = 2020-01-01T00:00:00Z\nread = [\"dataset:acme/*\"]\n"))
	if err != nil || len(f.Keys) != 2 || f.Keys[0].Name != "release-ci" {
		t.Fatalf("the printed block: %v", err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "access.toml")
	writeText(t, good, block+"\n[[key]]\nname = \"contractor\"\nsha256 = \""+strings.Repeat("ab", 32)+"\"\nexpires = 2020-01-01T00:00:00Z\nread = [\"dataset:acme/*\"]\n"+
		"\n[[identity]]\nname = \"ci\"\nissuer = \"https://token.actions.githubusercontent.com\"\naudience = \"hf-micro\"\nclaims = { repository = \"acme/models\" }\nwrite = [\"acme/*\"]\nlimits = { api = \"5/1m\" }\n"+
		"\n[defaults]\nlimits = { api = \"600/5m\", resolvers = \"3000/5m\" }\n")
	code, stdout, stderr = runBinary(t, nil, "access", "check", good)
	for _, want := range []string{
		"2 keys, 1 identities\n",
		"defaults: limits api 600/5m, resolvers 3000/5m (per principal without limits of its own)\n",
		"key release-ci: read [*]; write (none); delete (none); never expires; limits api 600/5m, resolvers 3000/5m (defaults)\n",
		"key contractor: read [dataset:acme/*]; write (none); delete (none); EXPIRED at 2020-01-01T00:00:00Z",
		"identity ci: read (none); write [acme/*]; delete (none); tokens from https://token.actions.githubusercontent.com for audience hf-micro with repository=acme/models; limits api 5/1m\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("access check lacks %q:\n%s", want, stdout)
		}
	}
	if code != 0 || stderr != "" {
		t.Errorf("a good file: exit %d, stderr %q", code, stderr)
	}

	bad := filepath.Join(dir, "bad.toml")
	writeText(t, bad, "[[key]]\nname = \"a b\"\nsha256 = \"abc\"\nwirte = [\"*\"]\n")
	code, stdout, stderr = runBinary(t, nil, "access", "check", bad)
	for _, want := range []string{bad + `:4: unknown field "key.wirte"`, bad + `:2: key #1 (name "a b"): name must be`, bad + ":3: key #1", "hf-micro: " + bad + ": 3 problem(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("access check of a bad file lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 || stdout != "" {
		t.Errorf("a bad file: exit %d, stdout %q", code, stdout)
	}
}

// TestAccessFileEndToEnd runs the binary with an access file: a missing file stops start-up; a running server
// takes an edited file on SIGHUP (which also says when nothing changed) and on its own.
func TestAccessFileEndToEnd(t *testing.T) {
	fake, token := newWorld()
	hubServer := httptest.NewServer(fake)
	defer hubServer.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.toml")

	code, _, stderr := runBinary(t, []string{"HF_TOKEN=" + token, "HF_MICRO_ACCESS_FILE=" + path}, "serve")
	if code != 1 || !strings.Contains(stderr, "HF_MICRO_ACCESS_FILE: cannot read the access file") {
		t.Errorf("a missing access file: exit %d, %s", code, stderr)
	}

	first, second := auth.GenerateKey(), auth.GenerateKey()
	block := func(name, key string) string {
		return "[[key]]\nname = \"" + name + "\"\nsha256 = \"" + auth.KeyDigest(key) + "\"\nread = [\"*\"]\n"
	}
	writeText(t, path, block("first", first))
	p := startBinary(t, nil, "HF_TOKEN="+token, "HF_ENDPOINT="+hubServer.URL, "HF_MICRO_ACCESS_FILE="+path)
	status := func(key string) int {
		req, _ := http.NewRequest("GET", p.base+"/api/account", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status(first) != 200 || status(second) != 401 || status("") != 401 {
		t.Fatalf("before the change: %d %d %d", status(first), status(second), status(""))
	}

	hup := func() {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	hup()
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), `"msg":"access file unchanged"`) })
	writeText(t, path, block("second", second))
	hup()
	waitFor(t, func() bool { return status(second) == 200 && status(first) == 401 })
	writeText(t, path, "[[key]]\nname = \"broken\n")
	hup()
	waitFor(t, func() bool { return strings.Contains(p.stderr.String(), "the previous one stays in force") })
	if status(second) != 200 {
		t.Error("a broken file took the previous one out of force")
	}
	if resp, err := http.Get(p.base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/readyz with a broken access file: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	writeText(t, path, block("first", first)) // no signal: the poller sees it
	waitFor(t, func() bool { return status(first) == 200 && status(second) == 401 })
	for _, secret := range []string{first, second, token} {
		if strings.Contains(p.stderr.String()+p.stdout.String(), secret) {
			t.Error("a secret appears in the output")
		}
	}
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
