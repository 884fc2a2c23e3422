package auth

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyBlock is a [[key]] for key with read on everything.
func keyBlock(name, key, extra string) string {
	return "[[key]]\nname = \"" + name + "\"\nsha256 = \"" + digestOf(key) + "\"\nread = [\"*\"]\n" + extra + "\n"
}

func authenticate(a *Authenticator, credential string) (Caller, error) {
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5"
	if credential != "" {
		r.Header.Set("Authorization", "Bearer "+credential)
	}
	return a.Authenticate(r)
}

func TestAuthenticateWithAccessFile(t *testing.T) {
	valid, expired, fullKey := GenerateKey(), GenerateKey(), GenerateKey()
	f, err := ParseAccessFile([]byte(keyBlock("notebook", valid, "expires = 2999-01-01T00:00:00Z") +
		keyBlock("contractor", expired, "expires = 2001-02-03T04:05:06Z")))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := ParseKeys([]string{fullKey})
	a := New(Options{Keys: keys, Access: NewAccess("access.toml", f), CallerTokens: true})

	caller, err := authenticate(a, valid)
	if err != nil || caller.Kind != ClientKey || caller.String() != "key:notebook" || len(caller.Scopes.Read) != 1 || len(caller.Scopes.Write) != 0 ||
		caller.Expires.Year() != 2999 || !caller.UsesServerToken() {
		t.Errorf("access file key: %+v, %v", caller, err)
	}
	if caller, err := authenticate(a, fullKey); err != nil || caller.Scopes.Describe() != "read [*]; write [*]; delete [*]" {
		t.Errorf("HF_MICRO_API_KEYS key: %+v, %v", caller, err)
	}
	for credential, want := range map[string]string{
		expired:       `key expired: the key "contractor" expired at 2001-02-03T04:05:06Z`,
		GenerateKey(): "unknown client key",
		"":            "client key is required", // loopback included
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": "OIDC identities are not configured",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.":      "OIDC identities are not configured", // alg none, no signature
	} {
		if caller, err := authenticate(a, credential); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.12q: %+v, %v; want %q", credential, caller, err, want)
		}
	}
	if caller, err := authenticate(a, "hf_callers.own.token"); err != nil || caller.Kind != CallerToken {
		t.Errorf("a Hub token with dots that is no JWT: %+v, %v", caller, err)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for credential, want := range map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": true, "eyJ.a.": true,
		"hf_abc": false, "eyJabc": false, "eyJ.a.b.c": false, "xeyJ.a.b": false,
	} {
		if LooksLikeJWT(credential) != want {
			t.Errorf("LooksLikeJWT(%q) = %v", credential, !want)
		}
	}
}

// syncBuffer is a log destination safe for the watcher's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// eventually waits, with a deadline wide enough for any machine, for cond; it asserts that a change took
// effect, never how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
	}
}

// watched starts Watch on the access file at path and returns an Authenticator using it and the log.
func watched(t *testing.T, path string) (*Authenticator, *syncBuffer) {
	t.Helper()
	access, err := OpenAccess(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	log := &syncBuffer{}
	go func() {
		defer close(done)
		access.Watch(ctx, 10*time.Millisecond, slog.New(slog.NewTextHandler(log, nil)))
	}()
	t.Cleanup(func() { cancel(); <-done })
	return New(Options{Access: access}), log
}

func accepted(a *Authenticator, key string) bool {
	_, err := authenticate(a, key)
	return err == nil
}

func TestAccessReloadEditInPlace(t *testing.T) {
	old, added := GenerateKey(), GenerateKey()
	path := filepath.Join(t.TempDir(), "access.toml")
	writeFile(t, path, keyBlock("old", old, ""))
	a, log := watched(t, path)

	writeFile(t, path, keyBlock("old", old, "")+keyBlock("added", added, ""))
	eventually(t, "the added key is accepted", func() bool { return accepted(a, added) })
	writeFile(t, path, keyBlock("added", added, ""))
	eventually(t, "the removed key is refused", func() bool { return !accepted(a, old) })
	if !strings.Contains(log.String(), "access file reloaded") {
		t.Errorf("log: %s", log)
	}
}

func TestAccessReloadRename(t *testing.T) {
	old, replacement := GenerateKey(), GenerateKey()
	dir := t.TempDir()
	path := filepath.Join(dir, "access.toml")
	writeFile(t, path, keyBlock("old", old, ""))
	a, _ := watched(t, path)

	writeFile(t, filepath.Join(dir, ".access.toml.tmp"), keyBlock("replacement", replacement, ""))
	if err := os.Rename(filepath.Join(dir, ".access.toml.tmp"), path); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replaced file is in force", func() bool { return accepted(a, replacement) && !accepted(a, old) })
}

// TestAccessReloadKubernetesSwap swaps a mounted volume's files as the kubelet (and Azure Container Apps) does:
// access.toml -> ..data/access.toml, ..data -> a timestamped directory; an update writes a new directory and
// renames a new ..data symlink over the old one.
func TestAccessReloadKubernetesSwap(t *testing.T) {
	old, replacement := GenerateKey(), GenerateKey()
	dir := t.TempDir()
	publish := func(version, content string) {
		writeFile(t, filepath.Join(dir, version, "access.toml"), content)
		if err := os.Symlink(version, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
	}
	publish("..2026_01_01_00_00_00.1", keyBlock("old", old, ""))
	if err := os.Symlink("..data/access.toml", filepath.Join(dir, "access.toml")); err != nil {
		t.Fatal(err)
	}
	a, _ := watched(t, filepath.Join(dir, "access.toml"))
	if !accepted(a, old) {
		t.Fatal("the first version is not in force")
	}

	publish("..2026_01_01_00_00_01.2", keyBlock("replacement", replacement, ""))
	if err := os.RemoveAll(filepath.Join(dir, "..2026_01_01_00_00_00.1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the swapped version is in force", func() bool { return accepted(a, replacement) && !accepted(a, old) })
}

func TestAccessBrokenFileKeepsThePreviousOne(t *testing.T) {
	key, next := GenerateKey(), GenerateKey()
	path := filepath.Join(t.TempDir(), "access.toml")
	writeFile(t, path, keyBlock("kept", key, ""))
	a, log := watched(t, path)

	writeFile(t, path, keyBlock("kept", key, "")+"[[key]]\nname = \"broken\"\nsha256 = \"nothex\"\n")
	eventually(t, "the broken file is logged with its line", func() bool {
		return strings.Contains(log.String(), "the previous one stays in force") && strings.Contains(log.String(), "line 8")
	})
	if !accepted(a, key) {
		t.Error("the previous file is no longer in force")
	}
	if n := strings.Count(log.String(), "not reloaded"); n != 1 {
		t.Errorf("the same problem was logged %d times", n)
	}
	writeFile(t, path, keyBlock("next", next, ""))
	eventually(t, "a fixed file is in force again", func() bool { return accepted(a, next) && !accepted(a, key) })
}

func TestReloadOnDemand(t *testing.T) {
	old, added := GenerateKey(), GenerateKey()
	path := filepath.Join(t.TempDir(), "access.toml")
	writeFile(t, path, keyBlock("old", old, ""))
	access, err := OpenAccess(path)
	if err != nil {
		t.Fatal(err)
	}
	a := New(Options{Access: access})
	var log syncBuffer
	logger := slog.New(slog.NewTextHandler(&log, nil))
	var reloads []string
	access.OnReload = func(result string) { reloads = append(reloads, result) }

	access.ReloadAndLog(context.Background(), logger)
	writeFile(t, path, keyBlock("added", added, ""))
	access.ReloadAndLog(context.Background(), logger) // what SIGHUP calls: in force at once
	if !accepted(a, added) || accepted(a, old) {
		t.Error("the reload is not in force")
	}
	if out := log.String(); !strings.Contains(out, "access file unchanged") || !strings.Contains(out, "access file reloaded") {
		t.Errorf("log: %s", out)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := access.Reload(); err == nil || !accepted(a, added) {
		t.Errorf("a removed file: %v, and the previous one must stay", err)
	}
	if fmt.Sprint(reloads) != "[changed error]" {
		t.Errorf("reloads reported: %q; want changed, then error (an unchanged file is not reported)", reloads)
	}
	if _, err := OpenAccess(path); err == nil {
		t.Error("a missing file at start-up is no error")
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
