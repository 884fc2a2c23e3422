package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is a fake environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// inDir runs the test in a fresh working directory, where a .env file may be written.
func inDir(t *testing.T, dotenv string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	if dotenv != "" {
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDefaults(t *testing.T) {
	inDir(t, "")
	cfg, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "https://huggingface.co" || cfg.Addr != ":8080" || cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "json" ||
		cfg.HubTimeout != 30*time.Second || cfg.ShutdownTimeout != 20*time.Second || cfg.MaxBodyBytes != 1<<20 || cfg.HubMaxConns != 64 || cfg.CacheDir != "" || cfg.CacheMaxBytes != 20<<30 ||
		cfg.ReadHeaderTimeout != 10*time.Second || cfg.IdleTimeout != 120*time.Second {
		t.Errorf("defaults = %+v", cfg)
	}
	if !cfg.Token.IsZero() || cfg.TokenSource != "" {
		t.Error("a token appeared from nowhere")
	}
}

func TestTokenAliases(t *testing.T) {
	inDir(t, "")
	cases := []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{"HF_TOKEN": "hf_a"}, "HF_TOKEN"},
		{map[string]string{"HF_ACCESS_TOKEN": "hf_b"}, "HF_ACCESS_TOKEN"},
		{map[string]string{"HUGGING_FACE_HUB_TOKEN": "hf_c"}, "HUGGING_FACE_HUB_TOKEN"},
		{map[string]string{"HF_TOKEN": "hf_a", "HF_ACCESS_TOKEN": "hf_b"}, "HF_TOKEN"},
		{map[string]string{"HF_TOKEN": "  hf_padded \n"}, "HF_TOKEN"},
	}
	for _, tc := range cases {
		cfg, err := Load(nil, env(tc.vars))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Token.IsZero() || cfg.TokenSource != tc.want {
			t.Errorf("%v: token from %q, want %q", tc.vars, cfg.TokenSource, tc.want)
		}
	}
}

func TestTokenFile(t *testing.T) {
	inDir(t, "")
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("hf_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, env(map[string]string{"HF_TOKEN_PATH": path}))
	if err != nil || cfg.Token.IsZero() || cfg.TokenSource != "HF_TOKEN_PATH" {
		t.Fatalf("token file: %+v, %v", cfg, err)
	}
	_, err = Load(nil, env(map[string]string{"HF_TOKEN_PATH": path + ".missing"}))
	if err == nil || !strings.Contains(err.Error(), "HF_TOKEN_PATH") {
		t.Errorf("missing token file: %v", err)
	}
}

func TestDotEnvAndPrecedence(t *testing.T) {
	inDir(t, "HF_TOKEN=hf_fromdotenv\nPORT=9001\nLOG_LEVEL=debug\nHF_ENDPOINT=http://dotenv.example\n")
	cfg, err := Load(nil, env(map[string]string{"PORT": "9002"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9002" {
		t.Errorf("the real environment must win over .env: addr %q", cfg.Addr)
	}
	if cfg.LogLevel != slog.LevelDebug || cfg.Endpoint != "http://dotenv.example" || cfg.TokenSource != "HF_TOKEN" {
		t.Errorf(".env not applied: %+v", cfg)
	}
	cfg, err = Load([]string{"-port", "9003", "-endpoint", "http://flag.example/"}, env(map[string]string{"PORT": "9002"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9003" || cfg.Endpoint != "http://flag.example" {
		t.Errorf("flags must win over the environment: %+v", cfg)
	}
}

func TestAddrWinsOverPort(t *testing.T) {
	inDir(t, "")
	cfg, err := Load(nil, env(map[string]string{"PORT": "9000", "ADDR": "127.0.0.1:7000"}))
	if err != nil || cfg.Addr != "127.0.0.1:7000" {
		t.Errorf("addr = %q, %v", cfg.Addr, err)
	}
}

func TestExplicitEnvFile(t *testing.T) {
	inDir(t, "")
	path := filepath.Join(t.TempDir(), "prod.env")
	if err := os.WriteFile(path, []byte("LOG_FORMAT=text\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load([]string{"-env-file", path}, env(nil))
	if err != nil || cfg.LogFormat != "text" {
		t.Errorf("explicit env file: %+v, %v", cfg, err)
	}
	if _, err := Load([]string{"-env-file", path + ".nope"}, env(nil)); err == nil || !strings.Contains(err.Error(), "-env-file") {
		t.Errorf("a missing explicit env file must fail: %v", err)
	}
}

func TestInvalidValues(t *testing.T) {
	inDir(t, "")
	const secret = "hf_has space"
	cases := []struct {
		vars     map[string]string
		args     []string
		wantName string
	}{
		{vars: map[string]string{"HF_ENDPOINT": "huggingface.co"}, wantName: "HF_ENDPOINT"},
		{vars: map[string]string{"HF_ENDPOINT": "ftp://x"}, wantName: "HF_ENDPOINT"},
		{vars: map[string]string{"PORT": "http"}, wantName: "PORT"},
		{vars: map[string]string{"PORT": "70000"}, wantName: "PORT"},
		{vars: map[string]string{"ADDR": "localhost"}, wantName: "ADDR"},
		{vars: map[string]string{"LOG_LEVEL": "loud"}, wantName: "LOG_LEVEL"},
		{vars: map[string]string{"LOG_FORMAT": "xml"}, wantName: "LOG_FORMAT"},
		{vars: map[string]string{"HF_MICRO_HUB_TIMEOUT": "soon"}, wantName: "HF_MICRO_HUB_TIMEOUT"},
		{vars: map[string]string{"HF_MICRO_SHUTDOWN_TIMEOUT": "-1s"}, wantName: "HF_MICRO_SHUTDOWN_TIMEOUT"},
		{vars: map[string]string{"HF_MICRO_MAX_BODY_BYTES": "0"}, wantName: "HF_MICRO_MAX_BODY_BYTES"},
		{vars: map[string]string{"HF_MICRO_CACHE_MAX_BYTES": "0"}, wantName: "HF_MICRO_CACHE_MAX_BYTES"},
		{vars: map[string]string{"HF_MICRO_DRAIN_DELAY": "-1s"}, wantName: "HF_MICRO_DRAIN_DELAY"},
		{vars: map[string]string{"HF_MICRO_HUB_MAX_CONNS": "-1"}, wantName: "HF_MICRO_HUB_MAX_CONNS"},
		{vars: map[string]string{"HF_MICRO_HUB_MAX_CONNS": "many"}, wantName: "HF_MICRO_HUB_MAX_CONNS"},
		{vars: map[string]string{"HF_TOKEN": secret}, wantName: "HF_TOKEN"},
		{args: []string{"-port", "x"}, wantName: "-port"},
	}
	for _, tc := range cases {
		_, err := Load(tc.args, env(tc.vars))
		if err == nil {
			t.Errorf("%v %v: accepted", tc.vars, tc.args)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "invalid configuration: "+tc.wantName+": ") || strings.Contains(msg, "\n") {
			t.Errorf("%v %v: error %q should be one line naming %s", tc.vars, tc.args, msg, tc.wantName)
		}
		if strings.Contains(msg, secret) {
			t.Errorf("the token value is in the error %q", msg)
		}
	}
}

// A key setting that is there but names no key must stop the start, not leave the server open to loopback
// callers as if no keys were configured.
func TestKeySettingsThatNameNoKey(t *testing.T) {
	dir := t.TempDir()
	commentsOnly := filepath.Join(dir, "keys")
	if err := os.WriteFile(commentsOnly, []byte("# the release key\n\n   \n# hf_micro_revoked\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"HF_MICRO_API_KEYS":      " , ",
		"HF_MICRO_API_KEYS_FILE": commentsOnly,
	} {
		_, err := Load(nil, env(map[string]string{name: value}))
		if err == nil || !strings.HasPrefix(err.Error(), "invalid configuration: "+name+": ") || !strings.Contains(err.Error(), "no key") {
			t.Errorf("%s=%q: %v", name, value, err)
		}
	}
}

func TestAccountCacheTTL(t *testing.T) {
	inDir(t, "")
	for value, want := range map[string]time.Duration{"": 5 * time.Second, "0": 0, "0s": 0, "-1s": -1, "2s": 2 * time.Second, "10": 10 * time.Second} {
		cfg, err := Load(nil, env(map[string]string{"HF_MICRO_ACCOUNT_CACHE_TTL": value}))
		switch {
		case want < 0 && err == nil:
			t.Errorf("%q accepted", value)
		case want >= 0 && (err != nil || cfg.AccountCacheTTL != want):
			t.Errorf("%q: %v, %v", value, cfg.AccountCacheTTL, err)
		}
	}
}

func TestDurationsInSeconds(t *testing.T) {
	inDir(t, "")
	cfg, err := Load(nil, env(map[string]string{"HF_MICRO_HUB_TIMEOUT": "5", "HF_MICRO_SHUTDOWN_TIMEOUT": "1m"}))
	if err != nil || cfg.HubTimeout != 5*time.Second || cfg.ShutdownTimeout != time.Minute {
		t.Errorf("durations: %v %v %v", cfg.HubTimeout, cfg.ShutdownTimeout, err)
	}
}

func TestAccessSettings(t *testing.T) {
	inDir(t, "")
	keysFile := filepath.Join(t.TempDir(), "keys")
	const fileKey = "hf_micro_fromthefile_0123456789"
	if err := os.WriteFile(keysFile, []byte("# team keys\n"+fileKey+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("hf_mounted\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, env(map[string]string{
		"HF_MICRO_API_KEYS":           "hf_micro_fromtheenv_0123456789, hf_micro_another_one_0123456789",
		"HF_MICRO_API_KEYS_FILE":      keysFile,
		"HF_MICRO_ALLOW_ANONYMOUS":    "true",
		"HF_MICRO_CALLER_TOKENS":      "false",
		"HF_MICRO_READ_ONLY":          "1",
		"HF_MICRO_ALLOW_DELETE":       "false",
		"HF_MICRO_ALLOWED_NAMESPACES": "acme, alice",
		"HF_MICRO_CORS_ORIGINS":       "https://app.example,http://localhost:3000",
		"HF_TOKEN_FILE":               tokenFile,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Auth.Keys.Match(fileKey); !ok || cfg.Auth.Keys.Len() != 3 {
		t.Errorf("keys: %d", cfg.Auth.Keys.Len())
	}
	if !cfg.Auth.AllowAnonymous || cfg.Auth.CallerTokens || !cfg.Policy.ReadOnly || !cfg.Policy.DenyDelete ||
		strings.Join(cfg.Policy.AllowedNamespaces, " ") != "acme alice" || len(cfg.CORSOrigins) != 2 || cfg.TokenSource != "HF_TOKEN_FILE" {
		t.Errorf("access settings: %+v", cfg)
	}

	cfg, err = Load(nil, env(nil))
	if err != nil || cfg.Auth.Keys.Len() != 0 || cfg.Auth.AllowAnonymous || !cfg.Auth.CallerTokens || cfg.Policy.ReadOnly || cfg.Policy.DenyDelete {
		t.Errorf("access defaults: %+v, %v", cfg, err)
	}

	for name, value := range map[string]string{
		"HF_MICRO_API_KEYS":           "tooshort",
		"HF_MICRO_API_KEYS_FILE":      keysFile + ".missing",
		"HF_MICRO_ALLOW_ANONYMOUS":    "yes please",
		"HF_MICRO_ALLOWED_NAMESPACES": "acme,../etc",
		"HF_MICRO_CORS_ORIGINS":       "*",
		"HF_MICRO_PPROF_ADDR":         "0.0.0.0:6060",
	} {
		_, err := Load(nil, env(map[string]string{name: value}))
		if err == nil || !strings.HasPrefix(err.Error(), "invalid configuration: "+name+": ") {
			t.Errorf("%s=%q: %v", name, value, err)
		}
		if name == "HF_MICRO_API_KEYS" && strings.Contains(err.Error(), value) {
			t.Errorf("the key is quoted in %q", err)
		}
	}
}

// TestCommandLineMistakes: an unknown flag or a stray argument is a usage error on one line that names the
// flags there are; -h is flag.ErrHelp, for the caller to print the help.
func TestCommandLineMistakes(t *testing.T) {
	for _, args := range [][]string{{"-bogus"}, {"--prot", "8080"}, {"stray"}, {"-port", "8080", "extra"}} {
		_, err := Load(args, env(nil))
		var usage *UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: error %v, want a UsageError", args, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "the flags are -addr, -endpoint, -env-file,") {
			t.Errorf("%q: error %q should be one line naming the flags", args, msg)
		}
	}
	for _, help := range []string{"-h", "-help", "--help"} {
		if _, err := Load([]string{help}, env(nil)); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: error %v, want flag.ErrHelp", help, err)
		}
	}
}

// TestUsageListsEverySetting: the help names each setting's flag and variable, and its default.
func TestUsageListsEverySetting(t *testing.T) {
	var out strings.Builder
	Usage(&out)
	help := out.String()
	for _, s := range settings {
		if !strings.Contains(help, s.env+"\n        "+s.usage) {
			t.Errorf("the help does not describe %s:\n%s", s.env, help)
		}
		if s.flag != "" && !strings.Contains(help, "  -"+s.flag+", "+s.env+"\n") {
			t.Errorf("the help does not give -%s for %s", s.flag, s.env)
		}
	}
	for _, want := range []string{
		"  -port, PORT\n        listen port on all interfaces (default 8080)\n",
		"  -endpoint, HF_ENDPOINT\n        Hub base URL (default https://huggingface.co)\n",
		"  HF_MICRO_MAX_BODY_BYTES\n        largest accepted request body (default 1048576)\n",
		"  -env-file path\n",
		"HF_TOKEN, HF_ACCESS_TOKEN, HUGGING_FACE_HUB_TOKEN",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("the help lacks %q:\n%s", want, help)
		}
	}
}

func TestAccessFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "access.toml")
	if err := os.WriteFile(good, []byte("[[key]]\nname = \"ci\"\nsha256 = \""+strings.Repeat("ab", 32)+"\"\nread = [\"*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, env(map[string]string{"HF_MICRO_ACCESS_FILE": good}))
	if err != nil || cfg.Auth.Access == nil || len(cfg.Auth.Access.Load().Keys) != 1 || cfg.Auth.Access.Path() != good {
		t.Fatalf("Load: %+v, %v", cfg.Auth, err)
	}
	broken := filepath.Join(dir, "broken.toml")
	if err := os.WriteFile(broken, []byte("[[key]]\nname = \"ci\"\nsha256 = \"short\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{broken: "line 3", filepath.Join(dir, "missing.toml"): "cannot read the access file"} {
		if _, err := Load(nil, env(map[string]string{"HF_MICRO_ACCESS_FILE": path})); err == nil ||
			!strings.Contains(err.Error(), "HF_MICRO_ACCESS_FILE") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error naming HF_MICRO_ACCESS_FILE and %q", path, err, want)
		}
	}
}

func TestRedisURL(t *testing.T) {
	const password = "s3cr3t-access-key"
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	cfg, err := Load(nil, env(map[string]string{"HF_MICRO_REDIS_URL": "rediss://:" + password + "@cache.redis.cache.windows.net:6380"}))
	if err != nil || cfg.RedisURL.Value() != "rediss://:"+password+"@cache.redis.cache.windows.net:6380" {
		t.Fatalf("a good URL: %v", err)
	}
	if printed := fmt.Sprintf("%v %+v", cfg, cfg); strings.Contains(printed, password) {
		t.Error("the Config prints the Redis password")
	}
	file := filepath.Join(t.TempDir(), "redis-url")
	if err := os.WriteFile(file, []byte("redis://127.0.0.1:6379/2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(nil, env(map[string]string{"HF_MICRO_REDIS_URL_FILE": file})); err != nil || cfg.RedisURL.Value() != "redis://127.0.0.1:6379/2" {
		t.Errorf("from a file: %q, %v", cfg.RedisURL.Value(), err)
	}
	if cfg, err := Load(nil, env(nil)); err != nil || !cfg.RedisURL.IsZero() {
		t.Errorf("unset: %v", err)
	}
	for _, bad := range []string{"http://:" + password + "@host:6379", "redis://:" + password + "@host:port", "rediss://:" + password + "@host:6380/notadb"} {
		_, err := Load(nil, env(map[string]string{"HF_MICRO_REDIS_URL": bad}))
		if err == nil || !strings.Contains(err.Error(), "HF_MICRO_REDIS_URL") || strings.Contains(err.Error(), password) {
			t.Errorf("%s: err = %v: want an error naming the setting and not the password", bad, err)
		}
	}
	if _, err := Load(nil, env(map[string]string{"HF_MICRO_REDIS_URL": "redis://h:1", "HF_MICRO_REDIS_URL_FILE": file})); err == nil {
		t.Error("both set: no error")
	}
}

// TestMetricsListenerIsLoopbackUnlessMadePublic: a metrics address others can reach is a start-up error
// unless HF_MICRO_METRICS_PUBLIC says so; off by default.
func TestMetricsListenerIsLoopbackUnlessMadePublic(t *testing.T) {
	cfg, err := Load(nil, env(nil))
	if err != nil || cfg.MetricsAddr != "" {
		t.Fatalf("default: %q, %v; want off", cfg.MetricsAddr, err)
	}
	for _, addr := range []string{"127.0.0.1:9090", "[::1]:9090", "localhost:0"} {
		cfg, err := Load(nil, env(map[string]string{"HF_MICRO_METRICS_ADDR": addr}))
		if err != nil || cfg.MetricsAddr != addr {
			t.Errorf("%s: %q, %v", addr, cfg.MetricsAddr, err)
		}
	}
	for _, addr := range []string{":9090", "0.0.0.0:9090", "[::]:9090", "10.0.0.4:9090"} {
		_, err := Load(nil, env(map[string]string{"HF_MICRO_METRICS_ADDR": addr}))
		if err == nil || !strings.Contains(err.Error(), "HF_MICRO_METRICS_ADDR: ") || !strings.Contains(err.Error(), "HF_MICRO_METRICS_PUBLIC=true") {
			t.Errorf("%s: %v; want an error naming HF_MICRO_METRICS_PUBLIC", addr, err)
		}
		cfg, err := Load(nil, env(map[string]string{"HF_MICRO_METRICS_ADDR": addr, "HF_MICRO_METRICS_PUBLIC": "true"}))
		if err != nil || cfg.MetricsAddr != addr || !cfg.MetricsPublic {
			t.Errorf("%s made public: %q, %v", addr, cfg.MetricsAddr, err)
		}
	}
	for _, bad := range []string{"9090", "127.0.0.1:http-ish", "127.0.0.1:99999"} {
		if _, err := Load(nil, env(map[string]string{"HF_MICRO_METRICS_ADDR": bad})); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
