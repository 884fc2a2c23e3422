package policy

import (
	"strings"
	"testing"

	"github.com/hf-micro/hf-micro/internal/hub"
)

func TestPatternMatches(t *testing.T) {
	id := func(s string) hub.RepoID {
		ns, name, ok := strings.Cut(s, "/")
		if !ok {
			return hub.RepoID{Name: s}
		}
		return hub.RepoID{Namespace: ns, Name: name}
	}
	cases := []struct {
		pattern string
		t       hub.RepoType
		repo    string
		want    bool
	}{
		{"*", hub.Model, "acme/x", true},
		{"*", hub.Space, "bare", true},
		{"acme/*", hub.Model, "acme/x", true},
		{"acme/*", hub.Dataset, "acme/x", true},
		{"acme/*", hub.Model, "acmex/x", false},
		{"acme/*", hub.Model, "bare", false},
		{"*/*", hub.Model, "bare", false},
		{"*/*", hub.Kernel, "anyone/anything", true},
		{"ACME/Ci-*", hub.Model, "acme/ci-build", true},
		{"acme/ci-*", hub.Model, "Acme/CI-Build", true},
		{"acme/ci-*", hub.Model, "acme/ci-", true},
		{"acme/ci-*", hub.Model, "acme/c", false},
		{"acme/*-eval", hub.Model, "acme/a-b-eval", true},
		{"acme/*-eval", hub.Model, "acme/a-b-evals", false},
		{"acme/*a*b*", hub.Model, "acme/xxaxxbxx", true},
		{"acme/*a*b*", hub.Model, "acme/xxbxxaxx", false},
		{"acme/exact", hub.Model, "acme/exact", true},
		{"acme/exact", hub.Model, "acme/exactly", false},
		{"a*/x", hub.Model, "abc/x", true},
		{"dataset:acme/eval-*", hub.Dataset, "acme/eval-1", true},
		{"dataset:acme/eval-*", hub.Model, "acme/eval-1", false},
		{"Space:acme/*", hub.Space, "acme/demo", true},
		{"space:*", hub.Space, "bare", true},
		{"space:*", hub.Model, "acme/x", false},
		{"kernel:*/*", hub.Kernel, "a/b", true},
	}
	for _, tc := range cases {
		p, err := ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
		}
		if got := p.Matches(tc.t, id(tc.repo)); got != tc.want {
			t.Errorf("%q matches %s %s = %v, want %v", tc.pattern, tc.t, tc.repo, got, tc.want)
		}
	}
}

func TestParsePatternRefuses(t *testing.T) {
	for _, bad := range []string{"", "acme", "acme/", "/x", "a/b/c", "repo:acme/x", "models:acme/x", "acme/x y", "acme/x?", "dataset:", ":acme/x"} {
		if _, err := ParsePattern(bad); err == nil {
			t.Errorf("ParsePattern(%q) accepted", bad)
		}
	}
}

func TestScopesAllows(t *testing.T) {
	scopes := Scopes{
		Read:   MustParsePatterns("dataset:acme/private-*"),
		Write:  MustParsePatterns("acme/ci-*"),
		Delete: MustParsePatterns("model:acme/ci-tmp"),
	}
	repo := hub.RepoID{Namespace: "acme", Name: "ci-build"}
	cases := []struct {
		action  Action
		t       hub.RepoType
		id      hub.RepoID
		whoami  bool
		refusal string // "" when allowed
	}{
		{Read, "", hub.RepoID{}, true, ""},
		{Read, "", hub.RepoID{}, false, `may not read without naming a repository`},
		{Update, "", hub.RepoID{}, false, `"write" containing "*"`},
		{Update, "", hub.RepoID{}, true, `may not update`}, // whoami is a read
		{Read, hub.Dataset, hub.RepoID{Namespace: "acme", Name: "private-1"}, false, ""},
		{Read, hub.Model, hub.RepoID{Namespace: "acme", Name: "private-1"}, false, "may not read model acme/private-1"},
		{Read, hub.Space, repo, false, ""}, // write implies read
		{Create, hub.Space, repo, false, ""},
		{Update, hub.Model, repo, false, ""},
		{Update, hub.Model, hub.RepoID{Namespace: "acme", Name: "prod"}, false, `may not update model acme/prod: no pattern of its "write" scope matches (it has [acme/ci-*])`},
		{Delete, hub.Model, repo, false, `may not delete model acme/ci-build`}, // write does not imply delete
		{Delete, hub.Model, hub.RepoID{Namespace: "acme", Name: "ci-tmp"}, false, ""},
		{Delete, hub.Dataset, hub.RepoID{Namespace: "acme", Name: "ci-tmp"}, false, "may not delete"},
		{Create, hub.Model, hub.RepoID{Name: "ci-x"}, false, "may not create model ci-x"}, // a bare name fits only "*"
	}
	for _, tc := range cases {
		err := scopes.Allows("key:ci", tc.action, tc.t, tc.id, tc.whoami)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%s %s %s: refused: %v", tc.action, tc.t, tc.id, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal) || !strings.Contains(err.Error(), "key:ci")):
			t.Errorf("%s %s %s: %v, want a refusal naming key:ci and %q", tc.action, tc.t, tc.id, err, tc.refusal)
		}
	}
	full := FullScopes()
	for _, action := range []Action{Read, Create, Update, Delete} {
		if err := full.Allows("key:all", action, "", hub.RepoID{}, false); err != nil {
			t.Errorf("full scopes refuse %s naming no repository: %v", action, err)
		}
		if err := full.Allows("key:all", action, hub.Model, hub.RepoID{Name: "bare"}, false); err != nil {
			t.Errorf("full scopes refuse %s on a bare name: %v", action, err)
		}
	}
	if err := (Scopes{}).Allows("key:none", Read, hub.Model, repo, false); err == nil || !strings.Contains(err.Error(), "(none)") {
		t.Errorf("empty scopes: %v", err)
	}
}
