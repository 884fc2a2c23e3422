package deploycheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository, seen from this package's directory (where go test runs).
const repoRoot = "../.."

// service is what the deployment must agree with, as the service's source says it.
type service struct {
	defaultPort     string          // the PORT setting's fallback (internal/config)
	shutdownTimeout time.Duration   // the HF_MICRO_SHUTDOWN_TIMEOUT setting's fallback
	envNames        map[string]bool // every variable name internal/config mentions
	tokenVariables  []string        // the variables the Hub token is read from, in order
	getPaths        map[string]bool // paths that a route of their own serves to GET (internal/server/routes.go)
}

// Variables that the Go runtime and standard library read, which the deployment may set although internal/config
// never names them (docs/configuration.md documents the CA, proxy and memory ones).
var runtimeEnvNames = []string{
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
	"GOMEMLIMIT", "GOMAXPROCS", "GOGC", "GODEBUG", "GOTRACEBACK",
	"TZ",
}

// envNameRe is the shape of an environment variable name in the config source.
var envNameRe = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// routePatternRe is a net/http ServeMux pattern with an optional method: "GET /healthz", "/".
var routePatternRe = regexp.MustCompile(`^(?:([A-Z]+) )?(/\S*)$`)

func readService(t *testing.T) service {
	t.Helper()
	configFiles := parseGoFiles(t, filepath.Join(repoRoot, "internal", "config"))
	s := service{envNames: map[string]bool{}, getPaths: map[string]bool{}}

	consts := map[string]ast.Expr{}
	for _, f := range configFiles {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					switch {
					case gd.Tok == token.CONST:
						consts[name.Name] = vs.Values[i]
					case gd.Tok == token.VAR && name.Name == "tokenVariables":
						s.tokenVariables = stringList(t, vs.Values[i])
					}
				}
			}
		}
		// Every upper-case string literal: the settings table, the token variables, the token file variables.
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil && envNameRe.MatchString(v) && len(v) >= 3 {
					s.envNames[v] = true
				}
			}
			return true
		})
	}
	for _, name := range runtimeEnvNames {
		s.envNames[name] = true
	}

	fallbacks := settingFallbacks(configFiles)
	port, ok := fallbacks["PORT"]
	if !ok {
		t.Fatal("internal/config: no setting {env: \"PORT\", fallback: ...} found; update readService to how the config reads PORT now")
	}
	s.defaultPort = evalString(t, port, consts)
	shutdown, ok := fallbacks["HF_MICRO_SHUTDOWN_TIMEOUT"]
	if !ok {
		t.Fatal("internal/config: no setting {env: \"HF_MICRO_SHUTDOWN_TIMEOUT\", fallback: ...} found")
	}
	d, err := time.ParseDuration(evalString(t, shutdown, consts))
	if err != nil {
		t.Fatalf("internal/config: the HF_MICRO_SHUTDOWN_TIMEOUT fallback: %v", err)
	}
	s.shutdownTimeout = d

	if len(s.tokenVariables) == 0 || s.tokenVariables[0] != "HF_TOKEN" {
		t.Fatalf("internal/config: tokenVariables = %q, want HF_TOKEN first; update this check if the token moved", s.tokenVariables)
	}
	for _, name := range []string{"PORT", "ADDR", "HF_ENDPOINT", "LOG_LEVEL", "LOG_FORMAT", "HF_MICRO_SHUTDOWN_TIMEOUT"} {
		if !s.envNames[name] {
			t.Fatalf("internal/config does not mention %s: the scan for variable names is broken, or the service changed", name)
		}
	}

	routes := parseGoFile(t, filepath.Join(repoRoot, "internal", "server", "routes.go"))
	ast.Inspect(routes, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		v, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		if m := routePatternRe.FindStringSubmatch(v); m != nil && (m[1] == "" || m[1] == "GET") {
			s.getPaths[m[2]] = true
		}
		return true
	})
	if !s.getPaths["/healthz"] {
		t.Fatalf("internal/server/routes.go: no GET /healthz route found (routes seen: %v)", keys(s.getPaths))
	}
	return s
}

// settingFallbacks finds the composite literals {env: "NAME", ..., fallback: EXPR} of the settings table.
func settingFallbacks(files []*ast.File) map[string]ast.Expr {
	out := map[string]ast.Expr{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			var env string
			var fallback ast.Expr
			for _, elt := range cl.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, ok := kv.Key.(*ast.Ident)
				if !ok {
					continue
				}
				switch key.Name {
				case "env":
					if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						env, _ = strconv.Unquote(lit.Value)
					}
				case "fallback":
					fallback = kv.Value
				}
			}
			if env != "" && fallback != nil {
				out[env] = fallback
			}
			return true
		})
	}
	return out
}

// evalString evaluates the small constant expressions the settings table uses for fallbacks: a string literal,
// a string constant, or D.String() of a duration constant.
func evalString(t *testing.T, e ast.Expr, consts map[string]ast.Expr) string {
	t.Helper()
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			v, err := strconv.Unquote(e.Value)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	case *ast.Ident:
		if c, ok := consts[e.Name]; ok {
			return evalString(t, c, consts)
		}
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "String" && len(e.Args) == 0 {
			return evalDuration(t, sel.X, consts).String()
		}
	}
	t.Fatalf("internal/config: cannot evaluate %s; teach evalString this form", exprString(e))
	return ""
}

// evalDuration evaluates N * time.Unit products and duration constants.
func evalDuration(t *testing.T, e ast.Expr, consts map[string]ast.Expr) time.Duration {
	t.Helper()
	units := map[string]time.Duration{
		"Nanosecond": time.Nanosecond, "Microsecond": time.Microsecond, "Millisecond": time.Millisecond,
		"Second": time.Second, "Minute": time.Minute, "Hour": time.Hour,
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return evalDuration(t, e.X, consts)
	case *ast.BasicLit:
		if e.Kind == token.INT {
			n, err := strconv.ParseInt(e.Value, 0, 64)
			if err == nil {
				return time.Duration(n)
			}
		}
	case *ast.Ident:
		if c, ok := consts[e.Name]; ok {
			return evalDuration(t, c, consts)
		}
	case *ast.SelectorExpr:
		if pkg, ok := e.X.(*ast.Ident); ok && pkg.Name == "time" {
			if u, ok := units[e.Sel.Name]; ok {
				return u
			}
		}
	case *ast.BinaryExpr:
		if e.Op == token.MUL {
			return evalDuration(t, e.X, consts) * evalDuration(t, e.Y, consts)
		}
	}
	t.Fatalf("internal/config: cannot evaluate the duration %s; teach evalDuration this form", exprString(e))
	return 0
}

func stringList(t *testing.T, e ast.Expr) []string {
	t.Helper()
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("internal/config: tokenVariables is %s, not a []string literal", exprString(e))
	}
	var out []string
	for _, elt := range cl.Elts {
		lit, ok := elt.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Fatalf("internal/config: tokenVariables has %s, not a string literal", exprString(elt))
		}
		v, _ := strconv.Unquote(lit.Value)
		out = append(out, v)
	}
	return out
}

func parseGoFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if !strings.HasSuffix(p, "_test.go") {
			files = append(files, parseGoFile(t, p))
		}
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

func parseGoFile(t *testing.T, path string) *ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func exprString(e ast.Expr) string { return types.ExprString(e) }

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestReadService pins down what the scans find, so that a scan broken by a refactoring fails here, plainly,
// rather than making the checks against the deployment vacuous.
func TestReadService(t *testing.T) {
	s := readService(t)
	t.Logf("default port %s, shutdown timeout %s, token variables %q, GET paths %q", s.defaultPort, s.shutdownTimeout, s.tokenVariables, keys(s.getPaths))
	if _, err := strconv.Atoi(s.defaultPort); err != nil {
		t.Errorf("default port %q is not a number", s.defaultPort)
	}
	if s.shutdownTimeout <= 0 {
		t.Errorf("shutdown timeout %s", s.shutdownTimeout)
	}
	if !s.getPaths["/readyz"] {
		t.Errorf("no GET /readyz route found")
	}
}
