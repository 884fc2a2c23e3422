package policy

import (
	"fmt"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// Pattern names repositories: "[type:]namespace/name", where "*" in a segment matches any run of characters
// but '/', and "*" alone is every repository. Matching is ASCII case-insensitive, as the Hub's names are.
type Pattern struct {
	text      string
	repoType  hub.RepoType // "" for any type
	every     bool         // "*" (or "type:*"): every repository, bare names included
	namespace string       // lower case
	name      string       // lower case
}

// Everything is the pattern "*".
var Everything = Pattern{text: "*", every: true}

// ParsePattern reads a pattern, refusing characters no repository name has.
func ParsePattern(s string) (Pattern, error) {
	p := Pattern{text: s}
	rest := s
	if typ, after, ok := strings.Cut(s, ":"); ok {
		for _, t := range hub.RepoTypes {
			if strings.EqualFold(typ, string(t)) {
				p.repoType = t
			}
		}
		if p.repoType == "" {
			return Pattern{}, fmt.Errorf("pattern %q: unknown repository type %q (want model, dataset, space or kernel)", s, typ)
		}
		rest = after
	}
	if rest == "*" {
		p.every = true
		return p, nil
	}
	ns, name, ok := strings.Cut(rest, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return Pattern{}, fmt.Errorf("pattern %q: want [type:]namespace/name (a '*' matches any run of characters in a segment) or *", s)
	}
	for _, part := range []string{ns, name} {
		for i := 0; i < len(part); i++ {
			if c := part[i]; !hub.IsWordByte(c) && c != '-' && c != '.' && c != '*' {
				return Pattern{}, fmt.Errorf("pattern %q: %q is not a letter, digit, '-', '_', '.' or '*'", s, c)
			}
		}
	}
	p.namespace, p.name = strings.ToLower(ns), strings.ToLower(name)
	return p, nil
}

// MustParsePatterns parses patterns known to be valid (in tests and defaults); it panics on a bad one.
func MustParsePatterns(patterns ...string) []Pattern {
	out := make([]Pattern, len(patterns))
	for i, s := range patterns {
		p, err := ParsePattern(s)
		if err != nil {
			panic(err)
		}
		out[i] = p
	}
	return out
}

func (p Pattern) String() string { return p.text }

// IsEverything reports whether p is "*" with no type: every repository, and what names none.
func (p Pattern) IsEverything() bool { return p.every && p.repoType == "" }

// Matches reports whether the repository id of type t fits the pattern. A bare name (no namespace: the Hub
// reads it as the token owner's) fits only "*", as no one can tell here whose it is.
func (p Pattern) Matches(t hub.RepoType, id hub.RepoID) bool {
	if p.repoType != "" && p.repoType != t {
		return false
	}
	if p.every {
		return true
	}
	return id.Namespace != "" && glob(p.namespace, strings.ToLower(id.Namespace)) && glob(p.name, strings.ToLower(id.Name))
}

// glob matches s against a pattern in which '*' stands for any run of characters (s holds no '/').
func glob(pattern, s string) bool {
	star, resume := -1, 0 // the last '*' seen, and where in s its run would end next
	for i, j := 0, 0; j < len(s) || i < len(pattern); {
		switch {
		case i < len(pattern) && pattern[i] == '*':
			star, resume = i, j
			i++
		case i < len(pattern) && j < len(s) && pattern[i] == s[j]:
			i++
			j++
		case star >= 0 && resume < len(s):
			resume++
			i, j = star+1, resume
		default:
			return false
		}
	}
	return true
}
