package hub

import (
	"strings"
	"testing"
)

func TestParseRepoType(t *testing.T) {
	cases := map[string]RepoType{"": Model, "model": Model, "models": Model, "dataset": Dataset, "datasets": Dataset,
		"space": Space, "spaces": Space, "kernel": Kernel, "kernels": Kernel}
	for in, want := range cases {
		got, err := ParseRepoType(in)
		if err != nil || got != want {
			t.Errorf("ParseRepoType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Model", "spacess", "bucket", "../models", "model ", "space\n"} {
		if _, err := ParseRepoType(in); err == nil {
			t.Errorf("ParseRepoType(%q) accepted", in)
		}
	}
}

func TestRepoTypeForms(t *testing.T) {
	if Model.Plural() != "models" || Space.Plural() != "spaces" {
		t.Errorf("plural forms wrong: %q %q", Model.Plural(), Space.Plural())
	}
	if Model.WebPrefix() != "" || Dataset.WebPrefix() != "datasets/" {
		t.Errorf("web prefixes wrong: %q %q", Model.WebPrefix(), Dataset.WebPrefix())
	}
}

func TestParseRepoID(t *testing.T) {
	valid := map[string]RepoID{
		"gpt2":                         {Name: "gpt2"},
		"alice/my-model":               {"alice", "my-model"},
		"_a/b_":                        {"_a", "b_"},
		"Org.Name/x.y_z-1":             {"Org.Name", "x.y_z-1"},
		"a/" + strings.Repeat("n", 96): {"a", strings.Repeat("n", 96)},
	}
	for in, want := range valid {
		got, err := ParseRepoID(in)
		if err != nil || got != want {
			t.Errorf("ParseRepoID(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if got.String() != in {
			t.Errorf("RepoID(%q).String() = %q", in, got.String())
		}
	}
	invalid := []string{
		"", "/", "a/", "/b", "a/b/c", "datasets/a/b", "-a/b", "a/b-", ".a/b", "a/.b", "a--b", "a/b..c",
		"a/b.git", "a/" + strings.Repeat("n", 97), strings.Repeat("n", 97) + "/b",
		"a/b c", "a/b\r\nX-Injected: 1", "a/b?x=1", "a/b#frag", "a/%2e%2e", "../etc", "a/..", "café/modèle",
		"a/b\x00", "аlice/model", // Cyrillic а: a look-alike
	}
	for _, in := range invalid {
		if id, err := ParseRepoID(in); err == nil {
			t.Errorf("ParseRepoID(%q) accepted as %+v", in, id)
		}
	}
}
