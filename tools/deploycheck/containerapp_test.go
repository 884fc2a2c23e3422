package deploycheck

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// containerAppPath is the Container Apps definition checked here.
var containerAppPath = filepath.Join(repoRoot, "deploy", "azure", "containerapp.yaml")

// containerApp is the part of the Container Apps YAML (az containerapp create --yaml) these checks read. Field
// names are the API's; a misspelt one in the file is simply absent here, and the checks then fail.
type containerApp struct {
	Properties struct {
		EnvironmentID        string `yaml:"environmentId"`
		ManagedEnvironmentID string `yaml:"managedEnvironmentId"`
		Configuration        struct {
			Ingress *struct {
				External      bool   `yaml:"external"`
				TargetPort    int    `yaml:"targetPort"`
				Transport     string `yaml:"transport"`
				AllowInsecure bool   `yaml:"allowInsecure"`
			} `yaml:"ingress"`
			Secrets    []secret `yaml:"secrets"`
			Registries []struct {
				Server            string `yaml:"server"`
				PasswordSecretRef string `yaml:"passwordSecretRef"`
			} `yaml:"registries"`
		} `yaml:"configuration"`
		Template struct {
			TerminationGracePeriodSeconds *int        `yaml:"terminationGracePeriodSeconds"`
			Volumes                       []volume    `yaml:"volumes"`
			Containers                    []container `yaml:"containers"`
			Scale                         *struct {
				MinReplicas *int `yaml:"minReplicas"`
				MaxReplicas *int `yaml:"maxReplicas"`
			} `yaml:"scale"`
		} `yaml:"template"`
	} `yaml:"properties"`
}

type secret struct {
	Name        string    `yaml:"name"`
	Value       yaml.Node `yaml:"value"` // Kind 0 when absent
	KeyVaultURL string    `yaml:"keyVaultUrl"`
	Identity    string    `yaml:"identity"`
}

type container struct {
	Name         string   `yaml:"name"`
	Image        string   `yaml:"image"`
	Env          []envVar `yaml:"env"`
	Probes       []probe  `yaml:"probes"`
	VolumeMounts []struct {
		VolumeName string `yaml:"volumeName"`
		MountPath  string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

// volume is a template volume; a Secret volume makes files of secrets.
type volume struct {
	Name        string `yaml:"name"`
	StorageType string `yaml:"storageType"`
	Secrets     []struct {
		SecretRef string `yaml:"secretRef"`
		Path      string `yaml:"path"`
	} `yaml:"secrets"`
}

type envVar struct {
	Name      string    `yaml:"name"`
	Value     yaml.Node `yaml:"value"` // Kind 0 when absent
	SecretRef string    `yaml:"secretRef"`
}

type probe struct {
	Type    string `yaml:"type"`
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   int    `yaml:"port"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
	TCPSocket *struct {
		Port int `yaml:"port"`
	} `yaml:"tcpSocket"`
	InitialDelaySeconds *int `yaml:"initialDelaySeconds"`
	PeriodSeconds       *int `yaml:"periodSeconds"`
	TimeoutSeconds      *int `yaml:"timeoutSeconds"`
	FailureThreshold    *int `yaml:"failureThreshold"`
	SuccessThreshold    *int `yaml:"successThreshold"`
}

// loadContainerApp reads the definition and returns it with its one container (hf-micro runs alone).
func loadContainerApp(t *testing.T) (containerApp, container) {
	t.Helper()
	raw, err := os.ReadFile(containerAppPath)
	if err != nil {
		t.Fatal(err)
	}
	var app containerApp
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&app); err != nil {
		t.Fatalf("%s: %v", containerAppPath, err)
	}
	if n := len(app.Properties.Template.Containers); n != 1 {
		t.Fatalf("%s: template.containers has %d entries, want 1 (hf-micro)", containerAppPath, n)
	}
	return app, app.Properties.Template.Containers[0]
}

// env returns the container's environment as name -> entry, failing on duplicates.
func env(t *testing.T, c container) map[string]envVar {
	t.Helper()
	out := map[string]envVar{}
	for _, e := range c.Env {
		if _, dup := out[e.Name]; dup {
			t.Errorf("env %s is set twice", e.Name)
		}
		out[e.Name] = e
	}
	return out
}

// literal is an env entry's literal value, "" when it has none.
func literal(e envVar) string {
	return e.Value.Value
}

// listenPort is the port hf-micro listens on with this environment: ADDR's, else PORT, else the default.
func listenPort(t *testing.T, s service, vars map[string]envVar) string {
	t.Helper()
	if addr := literal(vars["ADDR"]); addr != "" {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("env ADDR=%q: %v", addr, err)
		}
		return port
	}
	if port := literal(vars["PORT"]); port != "" {
		return port
	}
	return s.defaultPort
}

func TestIngressReachesTheServicePort(t *testing.T) {
	s := readService(t)
	app, c := loadContainerApp(t)
	ingress := app.Properties.Configuration.Ingress
	if ingress == nil {
		t.Fatal("configuration.ingress is missing")
	}
	port := listenPort(t, s, env(t, c))
	if port != s.defaultPort {
		t.Errorf("the container listens on %s, not the service's default port %s (internal/config), which the image EXPOSEs", port, s.defaultPort)
	}
	if strconv.Itoa(ingress.TargetPort) != port {
		t.Errorf("ingress.targetPort = %d, but hf-micro listens on %s", ingress.TargetPort, port)
	}
	if !ingress.External {
		t.Errorf("ingress.external = false: the gateway would be reachable only inside the environment")
	}
	if ingress.Transport != "auto" && ingress.Transport != "http" {
		t.Errorf("ingress.transport = %q, want auto (hf-micro speaks HTTP/1.1)", ingress.Transport)
	}
	if ingress.AllowInsecure {
		t.Errorf("ingress.allowInsecure = true: client keys and tokens would cross the internet in clear")
	}
	if app.Properties.EnvironmentID == "" && app.Properties.ManagedEnvironmentID == "" {
		t.Errorf("properties.environmentId is missing")
	}
}

func TestProbesUseTheHealthRoutes(t *testing.T) {
	s := readService(t)
	_, c := loadContainerApp(t)
	port := listenPort(t, s, env(t, c))
	// Liveness must not depend on the Hub or on draining (/healthz); readiness must turn 503 on SIGTERM (/readyz).
	want := map[string]string{"Liveness": "/healthz", "Readiness": "/readyz"}
	seen := map[string]bool{}
	for _, p := range c.Probes {
		if seen[p.Type] {
			t.Errorf("two %s probes", p.Type)
		}
		seen[p.Type] = true
		if p.HTTPGet == nil {
			t.Errorf("%s probe: not an httpGet probe", p.Type)
			continue
		}
		path := p.HTTPGet.Path
		switch p.Type {
		case "Liveness", "Readiness":
			if path != want[p.Type] {
				t.Errorf("%s probe: path %q, want %q", p.Type, path, want[p.Type])
			}
		case "Startup":
			if path != "/healthz" && path != "/readyz" {
				t.Errorf("Startup probe: path %q, want /healthz or /readyz", path)
			}
		default:
			t.Errorf("probe type %q: Container Apps knows Liveness, Readiness and Startup", p.Type)
		}
		if !s.getPaths[path] {
			t.Errorf("%s probe: GET %s is not a route of its own in internal/server/routes.go", p.Type, path)
		}
		if strconv.Itoa(p.HTTPGet.Port) != port {
			t.Errorf("%s probe: port %d, but hf-micro listens on %s", p.Type, p.HTTPGet.Port, port)
		}
		if p.HTTPGet.Scheme != "" && p.HTTPGet.Scheme != "HTTP" {
			t.Errorf("%s probe: scheme %q, but hf-micro serves plain HTTP behind the ingress", p.Type, p.HTTPGet.Scheme)
		}
		// The ranges Container Apps accepts (ContainerAppProbe in the Microsoft.App API).
		inRange(t, p.Type+" probe: initialDelaySeconds", p.InitialDelaySeconds, 1, 60)
		inRange(t, p.Type+" probe: periodSeconds", p.PeriodSeconds, 1, 240)
		inRange(t, p.Type+" probe: timeoutSeconds", p.TimeoutSeconds, 1, 240)
		inRange(t, p.Type+" probe: failureThreshold", p.FailureThreshold, 1, 10)
		inRange(t, p.Type+" probe: successThreshold", p.SuccessThreshold, 1, 10)
		if p.Type != "Readiness" && p.SuccessThreshold != nil && *p.SuccessThreshold != 1 {
			t.Errorf("%s probe: successThreshold must be 1", p.Type)
		}
		if p.TimeoutSeconds != nil && p.PeriodSeconds != nil && *p.TimeoutSeconds > *p.PeriodSeconds {
			t.Errorf("%s probe: timeoutSeconds %d is longer than periodSeconds %d", p.Type, *p.TimeoutSeconds, *p.PeriodSeconds)
		}
	}
	for typ := range want {
		if !seen[typ] {
			t.Errorf("no %s probe: Container Apps would fall back to a TCP check", typ)
		}
	}
}

func inRange(t *testing.T, what string, v *int, lo, hi int) {
	t.Helper()
	if v != nil && (*v < lo || *v > hi) {
		t.Errorf("%s = %d, outside %d..%d", what, *v, lo, hi)
	}
}

func TestEnvironmentIsWhatTheServiceReads(t *testing.T) {
	s := readService(t)
	app, c := loadContainerApp(t)
	vars := env(t, c)
	secrets := map[string]secret{}
	for _, sec := range app.Properties.Configuration.Secrets {
		secrets[sec.Name] = sec
	}
	secretNames := map[string]bool{}
	for _, name := range s.tokenVariables {
		secretNames[name] = true
	}
	for _, e := range c.Env {
		if !s.envNames[e.Name] {
			t.Errorf("env %s: hf-micro does not read it (internal/config has no such name); misspelt, or the service renamed it", e.Name)
		}
		hasValue, hasRef := e.Value.Kind != 0, e.SecretRef != ""
		if hasValue == hasRef {
			t.Errorf("env %s: needs exactly one of value and secretRef", e.Name)
		}
		if hasValue && (e.Value.Kind != yaml.ScalarNode || e.Value.Tag != "!!str") {
			t.Errorf("env %s: value %s is a YAML %s; Container Apps wants a string: quote it", e.Name, e.Value.Value, e.Value.Tag)
		}
		// Tokens and keys come from secrets, never from a value written here.
		if secretNames[e.Name] || strings.HasSuffix(e.Name, "_TOKEN") || strings.HasSuffix(e.Name, "_KEYS") {
			if !hasRef {
				t.Errorf("env %s: a credential must come from a secretRef, not a value in this file", e.Name)
			}
		}
		if hasRef {
			if _, ok := secrets[e.SecretRef]; !ok {
				t.Errorf("env %s: secretRef %q is not in configuration.secrets", e.Name, e.SecretRef)
			}
		}
	}
	token, ok := vars["HF_TOKEN"]
	switch {
	case !ok:
		t.Errorf("env HF_TOKEN is not set: the server would have no Hub token")
	case token.SecretRef == "":
		t.Errorf("env HF_TOKEN: must be a secretRef")
	}
	for _, alias := range s.tokenVariables[1:] {
		if _, ok := vars[alias]; ok {
			t.Errorf("env %s: set the token as HF_TOKEN only (%s is an alias, and HF_TOKEN wins)", alias, alias)
		}
	}
	if v := strings.ToLower(literal(vars["HF_MICRO_ALLOW_ANONYMOUS"])); v == "true" || v == "1" || v == "yes" {
		if ing := app.Properties.Configuration.Ingress; ing != nil && ing.External {
			t.Errorf("HF_MICRO_ALLOW_ANONYMOUS on an external ingress lets anyone on the internet use the server's token")
		}
	}
	if v := literal(vars["LOG_FORMAT"]); v != "" && v != "json" {
		t.Errorf("LOG_FORMAT=%s: Container Apps' log analytics parses json", v)
	}
}

func TestSecretsAreReferencesOnly(t *testing.T) {
	app, c := loadContainerApp(t)
	used := map[string]bool{}
	for _, e := range c.Env {
		if e.SecretRef != "" {
			used[e.SecretRef] = true
		}
	}
	for _, r := range app.Properties.Configuration.Registries {
		if r.PasswordSecretRef != "" {
			used[r.PasswordSecretRef] = true
		}
	}
	for _, v := range app.Properties.Template.Volumes {
		for _, s := range v.Secrets {
			used[s.SecretRef] = true
		}
	}
	seen := map[string]bool{}
	for _, sec := range app.Properties.Configuration.Secrets {
		if seen[sec.Name] {
			t.Errorf("secret %s is defined twice", sec.Name)
		}
		seen[sec.Name] = true
		if sec.Value.Kind != 0 {
			t.Errorf("secret %s has a value in the file: a committed file must hold references only (keyVaultUrl)", sec.Name)
		}
		if sec.KeyVaultURL == "" {
			t.Errorf("secret %s has no keyVaultUrl: with no value either, Container Apps has nothing to give the app", sec.Name)
		} else if !strings.HasPrefix(sec.KeyVaultURL, "https://") || !strings.Contains(sec.KeyVaultURL, "/secrets/") {
			t.Errorf("secret %s: keyVaultUrl %q is not https://<vault>.vault.azure.net/secrets/<name>", sec.Name, sec.KeyVaultURL)
		}
		if sec.Identity == "" {
			t.Errorf("secret %s has no identity to read Key Vault with", sec.Name)
		}
		if !used[sec.Name] {
			t.Errorf("secret %s is not used by any env, registry or volume", sec.Name)
		}
	}
}

// hubTokenRe is the shape of a Hugging Face access token.
var hubTokenRe = regexp.MustCompile(`hf_[A-Za-z0-9]{20,}`)

func TestNoTokenInTheFile(t *testing.T) {
	raw, err := os.ReadFile(containerAppPath)
	if err != nil {
		t.Fatal(err)
	}
	if m := hubTokenRe.Find(raw); m != nil {
		t.Errorf("%s contains what looks like a Hub token (%.6s...): revoke it, and use the Key Vault secret", containerAppPath, m)
	}
}

func TestGracePeriodOutlastsShutdown(t *testing.T) {
	s := readService(t)
	app, c := loadContainerApp(t)
	// As internal/config reads them: a Go duration, or whole seconds.
	setting := func(name string, fallback time.Duration) time.Duration {
		v := literal(env(t, c)[name])
		if v == "" {
			return fallback
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, errSecs := strconv.Atoi(v)
			if errSecs != nil {
				t.Fatalf("env %s=%q is neither a duration nor seconds", name, v)
			}
			d = time.Duration(secs) * time.Second
		}
		return d
	}
	// After SIGTERM hf-micro serves on for the drain delay, then gives in-flight requests the shutdown timeout.
	shutdown := setting("HF_MICRO_DRAIN_DELAY", 0) + setting("HF_MICRO_SHUTDOWN_TIMEOUT", s.shutdownTimeout)
	grace := app.Properties.Template.TerminationGracePeriodSeconds
	if grace == nil {
		t.Fatalf("template.terminationGracePeriodSeconds is not set (shutdown timeout %s)", shutdown)
	}
	if g := time.Duration(*grace) * time.Second; g <= shutdown {
		t.Errorf("terminationGracePeriodSeconds %d is not longer than the drain delay plus the shutdown timeout (%s): in-flight requests would be killed before they finish", *grace, shutdown)
	}
	if sc := app.Properties.Template.Scale; sc != nil && sc.MinReplicas != nil && sc.MaxReplicas != nil && *sc.MinReplicas > *sc.MaxReplicas {
		t.Errorf("scale: minReplicas %d > maxReplicas %d", *sc.MinReplicas, *sc.MaxReplicas)
	}
}

// TestAccessFileIsMounted: HF_MICRO_ACCESS_FILE names a file that a Secret volume mounted in the container makes
// (hf-micro refuses to start when the file is missing).
func TestAccessFileIsMounted(t *testing.T) {
	app, c := loadContainerApp(t)
	var path string
	for _, e := range c.Env {
		if e.Name == "HF_MICRO_ACCESS_FILE" {
			path = e.Value.Value
		}
	}
	if path == "" {
		t.Fatal("no HF_MICRO_ACCESS_FILE in the definition: docs/access.md says it mounts the access file")
	}
	secrets := map[string]bool{}
	for _, sec := range app.Properties.Configuration.Secrets {
		secrets[sec.Name] = true
	}
	for _, m := range c.VolumeMounts {
		for _, v := range app.Properties.Template.Volumes {
			if v.Name != m.VolumeName || v.StorageType != "Secret" {
				continue
			}
			for _, s := range v.Secrets {
				if filepath.Join(m.MountPath, s.Path) == path && secrets[s.SecretRef] {
					return
				}
			}
		}
	}
	t.Errorf("HF_MICRO_ACCESS_FILE=%s is not a file of a Secret volume mounted in the container", path)
}
