package hub

import (
	"strings"
	"testing"
)

// FuzzParseRepoID checks that whatever ParseRepoID accepts is safe to put in a URL path as it is: only the
// Hub's characters, no dot segments, and it reads back the same.
func FuzzParseRepoID(f *testing.F) {
	for _, seed := range []string{"gpt2", "alice/m", "a/b/c", "../x", "a/..", "%2e%2e/x", "a/b?c", "a\r\n/b", "аlice/x", "a/b.git", "_a/b_"} {
		f.Add(seed)
	}
	c, err := New(Options{Endpoint: "https://hub.example/prefix"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseRepoID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("%q parsed as %+v, which reads back as %q", s, id, id.String())
		}
		for _, part := range []string{id.Namespace, id.Name} {
			if part == "." || part == ".." || strings.ContainsAny(part, "/?#%\\ \r\n\x00") || len(part) > maxNamePart {
				t.Fatalf("%q: unsafe part %q", s, part)
			}
		}
		u := c.apiURL("models", id.Namespace, id.Name)
		if u.EscapedPath() != u.Path || !strings.HasPrefix(u.Path, "/prefix/api/models/") {
			t.Fatalf("%q gives the path %q (escaped %q)", s, u.Path, u.EscapedPath())
		}
	})
}
