package hubroute

import (
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// segments splits an escaped path into its segments, as sent and decoded. It refuses every spelling that one
// hop could read differently from another: empty segments (// or a trailing /), dot segments, percent-encoded
// letters, digits and dots (%2e%2e), backslashes and control characters, and encoded slashes that would make
// empty or dot segments once decoded. Encoded slashes otherwise stay one segment (refs%2Fpr%2F1), as the Hub
// reads them.
func segments(escaped string) (raw, decoded []string, err error) {
	if !strings.HasPrefix(escaped, "/") {
		return nil, nil, badRequest("the path must start with /")
	}
	if escaped == "/" {
		return nil, nil, nil
	}
	n := strings.Count(escaped, "/")
	raw, decoded = make([]string, 0, n), make([]string, 0, n)
	for seg := range strings.SplitSeq(escaped[1:], "/") {
		d, err := decodeSegment(seg)
		if err != nil {
			return nil, nil, err
		}
		raw, decoded = append(raw, seg), append(decoded, d)
	}
	return raw, decoded, nil
}

func decodeSegment(seg string) (string, error) {
	if seg == "" {
		return "", badRequest("the path has an empty segment (// or a trailing /); send the Hub's path exactly")
	}
	if !strings.ContainsAny(seg, "%\\") && !strings.ContainsFunc(seg, isControl) {
		if seg == "." || seg == ".." {
			return "", badRequest("the path has a dot segment; a hop could resolve it to another path")
		}
		return seg, nil // nothing to decode: most segments
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' {
			if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
				return "", badRequest("the path has a malformed percent-escape in " + seg)
			}
			c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
			if isUnreserved(c) {
				return "", badRequest("the path percent-encodes a letter, digit or dot (" + seg[i:i+3] +
					"); a hop could decode it to another path, so send it as it is")
			}
			i += 2
		}
		if isControl(rune(c)) || c == '\\' {
			return "", badRequest("the path contains a backslash or a control character")
		}
		b.WriteByte(c)
	}
	d := b.String()
	for part := range strings.SplitSeq(d, "/") {
		if part == "" || part == "." || part == ".." {
			return "", badRequest("the path has a dot segment or an encoded empty segment (" + seg +
				"); a hop could resolve it to another path")
		}
	}
	return d, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// isUnreserved is RFC 3986's unreserved set, which never needs encoding: an encoded one is a disguise.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// captures is what a pattern's placeholders matched.
type captures struct {
	repoType hub.RepoType
	repo     hub.RepoID
}

// typePrefixes are the {p} prefixes of file paths; models have none.
var typePrefixes = []string{"datasets", "spaces", "kernels"}

// match fits a pattern's tokens (see table.go) to a path's segments. With fold, literals and types match in any letter
// case, to find requests that spell a listed route differently.
func match(tokens []string, raw, decoded []string, fold bool) (captures, bool) {
	c := captures{repoType: hub.Model}
	if strings.HasPrefix(tokens[0], "{p}") {
		// Try the type prefix first: /datasets/ns/name/... is a dataset's path, not the model "datasets/ns".
		rest := append([]string{strings.TrimPrefix(tokens[0], "{p}")}, tokens[1:]...)
		for _, prefix := range typePrefixes {
			if len(raw) > 0 && same(raw[0], prefix, fold) {
				if got, ok := matchTokens(rest, raw[1:], decoded[1:], fold, c); ok {
					got.repoType, _ = hub.ParseRepoType(prefix)
					return got, true
				}
			}
		}
		tokens = rest
	}
	return matchTokens(tokens, raw, decoded, fold, c)
}

func matchTokens(tokens, raw, decoded []string, fold bool, c captures) (captures, bool) {
	i := 0
	for _, tok := range tokens {
		switch tok {
		case "{path...}":
			return c, i < len(raw)
		case "{rev}", "{any}":
			if i >= len(raw) {
				return c, false
			}
			i++
		case "{t}":
			if i >= len(raw) || !isPluralType(raw[i], fold) {
				return c, false
			}
			c.repoType, _ = hub.ParseRepoType(strings.ToLower(raw[i]))
			i++
		case "{repo}", "{repo.git}":
			if i+1 >= len(raw) {
				return c, false
			}
			name := decoded[i+1]
			if tok == "{repo.git}" {
				if !strings.HasSuffix(name, ".git") {
					return c, false
				}
				name = strings.TrimSuffix(name, ".git")
			}
			id, err := hub.ParseRepoID(decoded[i] + "/" + name)
			if err != nil {
				return c, false
			}
			c.repo = id
			i += 2
		default:
			if i >= len(raw) || !same(raw[i], tok, fold) {
				return c, false
			}
			i++
		}
	}
	return c, i == len(raw)
}

func isPluralType(s string, fold bool) bool {
	for _, t := range hub.RepoTypes {
		if same(s, t.Plural(), fold) {
			return true
		}
	}
	return false
}

func same(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}
