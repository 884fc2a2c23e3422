// Package config reads hf-micro's settings from flags, the environment and an optional .env file, in that
// order of precedence, and refuses invalid values with one line that names the setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// Config is everything the service needs to start. Token prints as REDACTED.
type Config struct {
	Token       hub.Token
	TokenSource string // the variable the token came from, for the start-up log; "" when there is none
	Endpoint    string // Hub base URL
	Addr        string // listen address, host:port

	LogLevel  slog.Level
	LogFormat string // "json" or "text"

	Auth        auth.Options  // client keys, callers' tokens, anonymous access
	Policy      policy.Policy // what the server's token may be used for
	CORSOrigins []string      // origins whose browsers may call the API; none by default
	PublicURL   string        // hf-micro's base URL as its callers reach it; "" derives it from each request

	// RedisURL is where budgets and the shield are shared by every replica; zero keeps them in memory. It
	// holds a password, so it prints as REDACTED.
	RedisURL Secret

	AccountCacheTTL   time.Duration // how long GET /api/account reuses a credential's answer; 0 = off
	PprofAddr         string        // loopback address for Go's profiles (cmd/hf-micro/pprof.go, runtime/pprof); "" = off
	MetricsAddr       string        // address of the listener that serves GET /metrics alone; "" = off
	MetricsPublic     bool          // lets MetricsAddr be reachable from elsewhere than this machine
	HubTimeout        time.Duration // one whole Hub call
	HubMaxConns       int           // connections to the Hub being opened (HTTP/2) or open (HTTP/1.1) at once; 0 = no limit
	ShutdownTimeout   time.Duration // grace period for in-flight requests after SIGTERM
	DrainDelay        time.Duration // how long to keep serving, with /readyz at 503, before closing the listener
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxBodyBytes      int64 // largest accepted request body

	CacheDir      string        // the download cache's directory; "" = no cache
	CacheMaxBytes int64         // the download cache's bound
	CacheRefTTL   time.Duration // how long the cache reuses a branch or tag's commit; 0 = always ask the Hub
	Offline       bool          // never call the Hub; serve what the cache holds

	keys []string // client keys as read, until they are hashed
}

// Defaults, documented in docs/configuration.md (docs_test.go holds the two together).
const (
	DefaultEndpoint          = "https://huggingface.co"
	DefaultPort              = "8080"
	DefaultShutdownTimeout   = 20 * time.Second // under Azure Container Apps' 30 s termination grace
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxBodyBytes      = 1 << 20
	DefaultAccountCacheTTL   = 5 * time.Second
	DefaultHubMaxConns       = 64
	DefaultCacheMaxBytes     = 20 << 30
)

// tokenVariables are read in this order: HF_TOKEN as huggingface_hub names it, HF_ACCESS_TOKEN as the original
// hf-micro named it, and huggingface_hub's legacy name.
var tokenVariables = []string{"HF_TOKEN", "HF_ACCESS_TOKEN", "HUGGING_FACE_HUB_TOKEN"}

// Error is an invalid setting.
type Error struct {
	Setting string // the variable or flag, e.g. HF_ENDPOINT or -port
	Problem string
}

func (e *Error) Error() string { return "invalid configuration: " + e.Setting + ": " + e.Problem }

// UsageError is a command line hf-micro does not understand, such as an unknown flag; the message names what
// is accepted.
type UsageError struct{ Problem string }

func (e *UsageError) Error() string { return e.Problem }

// envFileUsage describes -env-file, the one flag that is not a setting.
const envFileUsage = "read settings from this file (default .env in the working directory, when present)"

// Load reads the configuration. args are the command-line arguments after the subcommand; getenv reads the
// real environment, which wins over the .env file. -h returns flag.ErrHelp and prints nothing: the caller
// shows the help (see Usage).
func Load(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("hf-micro", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	envFile := fs.String("env-file", "", envFileUsage)
	flags := map[string]flagValue{}
	for _, s := range settings {
		if s.flag != "" {
			flags[s.env] = flagValue{name: "-" + s.flag, value: fs.String(s.flag, "", s.usage)}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, &UsageError{Problem: err.Error() + "; " + acceptedFlags(fs)}
	}
	if fs.NArg() > 0 {
		return Config{}, &UsageError{Problem: fmt.Sprintf("unexpected argument %q; settings are flags (-name value) or environment variables; %s", fs.Arg(0), acceptedFlags(fs))}
	}

	dotenv, err := readEnvFile(*envFile)
	if err != nil {
		return Config{}, err
	}
	src := source{getenv: getenv, dotenv: dotenv, flags: flags}

	var cfg Config
	for _, s := range settings {
		name, value := src.lookup(s.env)
		if value == "" {
			value = s.fallback
		}
		if err := s.apply(&cfg, value); err != nil {
			return Config{}, &Error{Setting: name, Problem: err.Error()}
		}
	}
	if err := loadToken(&cfg, src); err != nil {
		return Config{}, err
	}
	if cfg.MetricsAddr != "" && !cfg.MetricsPublic && !isLoopback(cfg.MetricsAddr) {
		return Config{}, &Error{Setting: "HF_MICRO_METRICS_ADDR", Problem: fmt.Sprintf(
			"%q is reachable from other machines; use a loopback address such as 127.0.0.1:9090 (a collector beside the container reaches it), or set HF_MICRO_METRICS_PUBLIC=true",
			cfg.MetricsAddr)}
	}
	keys, err := auth.ParseKeys(cfg.keys)
	if err != nil {
		return Config{}, &Error{Setting: "HF_MICRO_API_KEYS", Problem: err.Error()}
	}
	cfg.Auth.Keys, cfg.keys = keys, nil
	return cfg, nil
}

// acceptedFlags names the flags, for an error about the command line.
func acceptedFlags(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
	return "the flags are " + strings.Join(names, ", ") + ` ("hf-micro -h" describes them)`
}

// Usage writes every setting: its flag if it has one, the environment variable, what it does and its default.
func Usage(w io.Writer) {
	fmt.Fprint(w, "Settings: a flag wins over its environment variable, which wins over the .env file.\n\n")
	for _, s := range settings {
		name := s.env
		if s.flag != "" {
			name = "-" + s.flag + ", " + s.env
		}
		fmt.Fprintf(w, "  %s\n        %s", name, s.usage)
		if s.fallback != "" {
			fmt.Fprintf(w, " (default %s)", s.fallback)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  -env-file path\n        %s\n\n", envFileUsage)
	fmt.Fprintf(w, "The Hub token comes from %s (the first one set),\n"+
		"or from the file named by HF_TOKEN_FILE or HF_TOKEN_PATH; never from a flag, as other users of the\n"+
		"machine can read a process's arguments.\n",
		strings.Join(tokenVariables, ", "))
}

// readEnvFile parses a .env file without touching the process environment. The default file is optional; a
// file named explicitly must exist.
func readEnvFile(path string) (map[string]string, error) {
	explicit := path != ""
	if !explicit {
		path = ".env"
	}
	values, err := godotenv.Read(path)
	switch {
	case err == nil:
		return values, nil
	case !explicit && errors.Is(err, os.ErrNotExist):
		return nil, nil
	default:
		return nil, &Error{Setting: "-env-file", Problem: err.Error()}
	}
}

// source looks a setting up: flag, then environment, then .env.
type source struct {
	getenv func(string) string
	dotenv map[string]string
	flags  map[string]flagValue // by the variable they override
}

type flagValue struct {
	name  string
	value *string
}

// lookup returns the value and the name to blame if it is wrong.
func (s source) lookup(env string) (name, value string) {
	if f, ok := s.flags[env]; ok && *f.value != "" {
		return f.name, *f.value
	}
	if v := s.getenv(env); v != "" {
		return env, v
	}
	if v := s.dotenv[env]; v != "" {
		return env + " (from .env)", v
	}
	return env, ""
}

func loadToken(cfg *Config, src source) error {
	for _, env := range tokenVariables {
		if name, value := src.lookup(env); value != "" {
			return setToken(cfg, name, value)
		}
	}
	// A mounted secret file; HF_TOKEN_PATH is huggingface_hub's name for it. Read only when set explicitly.
	for _, env := range []string{"HF_TOKEN_FILE", "HF_TOKEN_PATH"} {
		if name, path := src.lookup(env); path != "" {
			raw, err := os.ReadFile(path)
			if err != nil {
				return &Error{Setting: name, Problem: "cannot read the token file: " + err.Error()}
			}
			return setToken(cfg, name, string(raw))
		}
	}
	return nil
}

func setToken(cfg *Config, name, raw string) error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return &Error{Setting: name, Problem: "the token is empty"}
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f {
			// The message never quotes the value: it is a secret.
			return &Error{Setting: name, Problem: "the token contains a space or control character; paste it without quotes or line breaks"}
		}
	}
	cfg.Token = hub.NewToken(raw)
	cfg.TokenSource = strings.TrimSuffix(name, " (from .env)")
	return nil
}

// setting is one configurable value other than the token.
type setting struct {
	env, flag, usage, fallback string
	apply                      func(*Config, string) error
}

var settings = []setting{
	{env: "HF_ENDPOINT", flag: "endpoint", usage: "Hub base URL", fallback: DefaultEndpoint,
		apply: func(c *Config, v string) error {
			u, err := hub.ParseEndpoint(v)
			if err != nil {
				return err
			}
			c.Endpoint = u.String()
			return nil
		}},
	{env: "PORT", flag: "port", usage: "listen port on all interfaces", fallback: DefaultPort,
		apply: func(c *Config, v string) error {
			if err := checkPort(v); err != nil {
				return err
			}
			c.Addr = ":" + v
			return nil
		}},
	// ADDR comes after PORT so that it wins when both are set.
	{env: "ADDR", flag: "addr", usage: "listen address host:port; wins over PORT",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			_, port, err := net.SplitHostPort(v)
			if err != nil {
				return fmt.Errorf("want host:port such as 127.0.0.1:8080 or :8080, got %q", v)
			}
			if err := checkPort(port); err != nil {
				return err
			}
			c.Addr = v
			return nil
		}},
	{env: "LOG_LEVEL", flag: "log-level", usage: "debug, info, warn or error", fallback: "info",
		apply: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "debug":
				c.LogLevel = slog.LevelDebug
			case "info":
				c.LogLevel = slog.LevelInfo
			case "warn", "warning":
				c.LogLevel = slog.LevelWarn
			case "error":
				c.LogLevel = slog.LevelError
			default:
				return fmt.Errorf("want debug, info, warn or error, got %q", v)
			}
			return nil
		}},
	{env: "LOG_FORMAT", flag: "log-format", usage: "json or text", fallback: "json",
		apply: func(c *Config, v string) error {
			v = strings.ToLower(v)
			if v != "json" && v != "text" {
				return fmt.Errorf("want json or text, got %q", v)
			}
			c.LogFormat = v
			return nil
		}},
	{env: "HF_MICRO_API_KEYS", usage: "client keys, comma-separated",
		apply: func(c *Config, v string) error {
			keys := splitList(v)
			if v != "" && len(keys) == 0 {
				// A setting that is there but holds no key must not leave the server open as if it were unset.
				return errors.New("is set but names no key; set keys (`hf-micro keygen` makes one) or remove the setting")
			}
			c.keys = append(c.keys, keys...)
			return nil
		}},
	{env: "HF_MICRO_API_KEYS_FILE", usage: "a file of client keys, one per line (# comments allowed)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			raw, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("cannot read the keys file: %v", err)
			}
			found := 0
			for _, line := range strings.Split(string(raw), "\n") {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
					c.keys = append(c.keys, line)
					found++
				}
			}
			if found == 0 {
				return fmt.Errorf("the keys file %s holds no key; add keys (`hf-micro keygen` makes one) or remove the setting", v)
			}
			return nil
		}},
	{env: "HF_MICRO_ACCESS_FILE", usage: "a TOML file of named client keys (as SHA-256 digests) with their own scopes and expiry; re-read when it changes (docs/access.md)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			access, err := auth.OpenAccess(v)
			if err != nil {
				return err
			}
			c.Auth.Access = access
			return nil
		}},
	{env: "HF_MICRO_ALLOW_ANONYMOUS", usage: "let unauthenticated callers from anywhere use the server's token", fallback: "false",
		apply: boolean(func(c *Config) *bool { return &c.Auth.AllowAnonymous })},
	{env: "HF_MICRO_CALLER_TOKENS", usage: "forward callers' own Hub tokens", fallback: "true",
		apply: boolean(func(c *Config) *bool { return &c.Auth.CallerTokens })},
	{env: "HF_MICRO_SIGNING_KEY", usage: "secret the replicas share to sign exchanged identity keys: 64 hex digits (`hf-micro keygen --signing-key`)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			key, err := auth.ParseSigningKey(v)
			c.Auth.SigningKey = key
			return err
		}},
	{env: "HF_MICRO_SIGNING_KEY_FILE", usage: "a file holding the signing key, instead of HF_MICRO_SIGNING_KEY",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if !c.Auth.SigningKey.IsZero() {
				return errors.New("set HF_MICRO_SIGNING_KEY or HF_MICRO_SIGNING_KEY_FILE, not both")
			}
			raw, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("cannot read the signing key file: %v", err)
			}
			key, err := auth.ParseSigningKey(string(raw))
			c.Auth.SigningKey = key
			return err
		}},
	{env: "HF_MICRO_REDIS_URL", usage: "share budgets and the Hub shield between replicas through Redis: redis://[:password@]host:port[/db], or rediss:// for TLS (docs/budgets.md); counted in memory without it",
		apply: func(c *Config, v string) error { return setRedisURL(c, v) }},
	{env: "HF_MICRO_REDIS_URL_FILE", usage: "a file holding the Redis URL, instead of HF_MICRO_REDIS_URL",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if !c.RedisURL.IsZero() {
				return errors.New("set HF_MICRO_REDIS_URL or HF_MICRO_REDIS_URL_FILE, not both")
			}
			raw, err := os.ReadFile(v)
			if err != nil {
				return fmt.Errorf("cannot read the Redis URL file: %v", err)
			}
			if strings.TrimSpace(string(raw)) == "" {
				return errors.New("the Redis URL file is empty")
			}
			return setRedisURL(c, string(raw))
		}},
	{env: "HF_MICRO_READ_ONLY", usage: "use the server's token for reads only", fallback: "false",
		apply: boolean(func(c *Config) *bool { return &c.Policy.ReadOnly })},
	{env: "HF_MICRO_ALLOW_DELETE", usage: "allow deleting repositories with the server's token", fallback: "true",
		apply: func(c *Config, v string) error {
			allow, err := parseBool(v)
			c.Policy.DenyDelete = !allow
			return err
		}},
	{env: "HF_MICRO_ALLOWED_NAMESPACES", usage: "namespaces the server's token may create in, change or delete; comma-separated",
		apply: func(c *Config, v string) error {
			for _, ns := range splitList(v) {
				if id, err := hub.ParseRepoID(ns + "/x"); err != nil || id.Namespace != ns {
					return fmt.Errorf("%q is not a valid namespace", ns)
				}
				c.Policy.AllowedNamespaces = append(c.Policy.AllowedNamespaces, ns)
			}
			return nil
		}},
	{env: "HF_MICRO_CORS_ORIGINS", usage: "browser origins allowed to call the API, comma-separated (e.g. https://app.example.com)",
		apply: func(c *Config, v string) error {
			for _, origin := range splitList(v) {
				u, err := url.Parse(origin)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
					return fmt.Errorf("%q is not an origin such as https://app.example.com", origin)
				}
				c.CORSOrigins = append(c.CORSOrigins, origin)
			}
			return nil
		}},
	{env: "HF_MICRO_PUBLIC_URL", usage: "hf-micro's base URL as callers reach it, for Hub links it rewrites (default: from each request)",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			u, err := hub.ParseEndpoint(v)
			if err != nil {
				return err
			}
			c.PublicURL = u.String()
			return nil
		}},
	{env: "HF_MICRO_ACCOUNT_CACHE_TTL", usage: "how long GET /api/account reuses an answer per credential; 0 turns caching off", fallback: DefaultAccountCacheTTL.String(),
		apply: durationOrZero(func(c *Config) *time.Duration { return &c.AccountCacheTTL })},
	{env: "HF_MICRO_PPROF_ADDR", usage: "serve Go's profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			host, port, err := net.SplitHostPort(v)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() || checkPort(port) != nil {
				return fmt.Errorf("want a loopback address such as 127.0.0.1:6060 (the profiler must not be reachable from elsewhere), got %q", v)
			}
			c.PprofAddr = v
			return nil
		}},
	{env: "HF_MICRO_METRICS_ADDR", usage: "serve Prometheus metrics (GET /metrics) on this address, apart from the API, e.g. 127.0.0.1:9090",
		apply: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			if _, port, err := net.SplitHostPort(v); err != nil || checkPort(port) != nil {
				return fmt.Errorf("want an address such as 127.0.0.1:9090, got %q", v)
			}
			c.MetricsAddr = v
			return nil
		}},
	{env: "HF_MICRO_METRICS_PUBLIC", usage: "allow HF_MICRO_METRICS_ADDR to be reachable from other machines", fallback: "false",
		apply: boolean(func(c *Config) *bool { return &c.MetricsPublic })},
	{env: "HF_MICRO_HUB_TIMEOUT", flag: "hub-timeout", usage: "bound on one Hub call", fallback: hub.DefaultTimeout.String(),
		apply: duration(func(c *Config) *time.Duration { return &c.HubTimeout })},
	{env: "HF_MICRO_HUB_MAX_CONNS", usage: "connections to the Hub being opened at once, and over HTTP/1.1 open at once; 0 = no limit", fallback: strconv.Itoa(DefaultHubMaxConns),
		apply: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("want a number of connections (0 for no limit), got %q", v)
			}
			c.HubMaxConns = n
			return nil
		}},
	{env: "HF_MICRO_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", usage: "grace period for in-flight requests on SIGTERM", fallback: DefaultShutdownTimeout.String(),
		apply: duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{env: "HF_MICRO_DRAIN_DELAY", usage: "after SIGTERM, keep serving this long with /readyz at 503 before closing the listener", fallback: "0",
		apply: durationOrZero(func(c *Config) *time.Duration { return &c.DrainDelay })},
	{env: "HF_MICRO_READ_HEADER_TIMEOUT", usage: "time a client has to send its request headers", fallback: DefaultReadHeaderTimeout.String(),
		apply: duration(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
	{env: "HF_MICRO_IDLE_TIMEOUT", usage: "how long an idle keep-alive connection is kept", fallback: DefaultIdleTimeout.String(),
		apply: duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
	{env: "HF_MICRO_MAX_BODY_BYTES", usage: "largest accepted request body", fallback: strconv.Itoa(DefaultMaxBodyBytes),
		apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("want a positive number of bytes, got %q", v)
			}
			c.MaxBodyBytes = n
			return nil
		}},
	{env: "HF_MICRO_CACHE_DIR", usage: "keep downloaded Hub files in this directory and serve them from there (docs/cache.md); empty = no cache",
		apply: func(c *Config, v string) error { c.CacheDir = v; return nil }},
	{env: "HF_MICRO_CACHE_MAX_BYTES", usage: "bound on the download cache; the least recently used files are evicted", fallback: strconv.Itoa(DefaultCacheMaxBytes),
		apply: func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				return fmt.Errorf("want a positive number of bytes, got %q", v)
			}
			c.CacheMaxBytes = n
			return nil
		}},
	{env: "HF_MICRO_OFFLINE", usage: "never call the Hub: serve files the download cache holds at a full commit sha (or a ref within HF_MICRO_CACHE_REF_TTL) to callers using the server's token, and answer everything else 503", fallback: "false",
		apply: boolean(func(c *Config) *bool { return &c.Offline })},
	{env: "HF_MICRO_CACHE_REF_TTL", usage: "how long the download cache reuses the commit a branch or tag named, for requests with the server's token; 0 asks the Hub every time", fallback: "0",
		apply: durationOrZero(func(c *Config) *time.Duration { return &c.CacheRefTTL })},
}

// setRedisURL checks a Redis URL; the error never repeats it, as it holds the password.
func setRedisURL(c *Config, v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
		return errors.New("want a URL starting with redis:// or rediss:// (TLS, as Azure Cache for Redis on port 6380)")
	}
	if err := budget.CheckRedisURL(v); err != nil {
		return err
	}
	c.RedisURL = newSecret(v)
	return nil
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := parseBool(v)
		*field(c) = b
		return err
	}
}

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("want true or false, got %q", v)
	}
	return b, nil
}

// isLoopback reports whether a listen address (host:port) is on this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// splitList reads a comma-separated list, ignoring blanks.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func checkPort(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("want a port number from 0 to 65535, got %q", v)
	}
	return nil
}

// duration sets a positive duration.
func duration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err == nil && d <= 0 {
			err = fmt.Errorf("must be more than zero, got %q", v)
		}
		*field(c) = d
		return err
	}
}

// durationOrZero is duration for settings where 0 means off.
func durationOrZero(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := parseDuration(v)
		if err == nil && d < 0 {
			err = fmt.Errorf("must not be negative, got %q", v)
		}
		*field(c) = d
		return err
	}
}

// parseDuration accepts Go durations ("30s", "1m") and plain seconds ("30").
func parseDuration(v string) (time.Duration, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, nil
	}
	secs, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as 30s or 2m, got %q", v)
	}
	return time.Duration(secs) * time.Second, nil
}
