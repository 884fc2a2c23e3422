package policy

import (
	"fmt"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// Scopes are what one principal may do with the server's token, within the Policy (the ceiling over every
// principal). Write implies read on the same patterns; only Delete grants deletion.
type Scopes struct {
	Read, Write, Delete []Pattern
}

// FullScopes is read, write and delete on every repository: the power of HF_MICRO_API_KEYS keys and of
// loopback callers.
func FullScopes() Scopes {
	return Scopes{Read: everything, Write: everything, Delete: everything}
}

// everything is the pattern list of full scopes, shared by all of them (scopes are only read).
var everything = []Pattern{Everything}

// Allows decides an action of principal (a name for the refusal, such as "key:release-ci") on the repository
// id of type t; id is zero when the request names none. Whoami (the caller's own account) is every
// principal's. Other requests that name no repository need the bare "*" in the scope of their action: a
// listing needs read on "*", a write that names no repository (collections, webhooks) write on "*".
func (s Scopes) Allows(principal string, action Action, t hub.RepoType, id hub.RepoID, isWhoami bool) error {
	if isWhoami && action == Read {
		return nil
	}
	scope, patterns := s.scope(action)
	if id.Name == "" {
		for _, p := range patterns {
			if p.IsEverything() {
				return nil
			}
		}
		return &Refusal{fmt.Sprintf("refused: %s may not %s without naming a repository: that needs %q containing \"*\" (it has %s)",
			principal, action, scope, list(patterns))}
	}
	for _, p := range patterns {
		if p.Matches(t, id) {
			return nil
		}
	}
	what := string(t) + " " + id.String()
	if t == "" {
		what = id.String()
	}
	return &Refusal{fmt.Sprintf("refused: %s may not %s %s: no pattern of its %q scope matches (it has %s)",
		principal, action, what, scope, list(patterns))}
}

// scope is the name and the patterns that grant an action.
func (s Scopes) scope(action Action) (string, []Pattern) {
	switch action {
	case Read:
		return "read", append(append([]Pattern(nil), s.Read...), s.Write...)
	case Delete:
		return "delete", s.Delete
	default:
		return "write", s.Write
	}
}

// Describe says in one line what the scopes grant, for `hf-micro access check`.
func (s Scopes) Describe() string {
	return fmt.Sprintf("read %s; write %s; delete %s", list(s.Read), list(s.Write), list(s.Delete))
}

func list(patterns []Pattern) string {
	if len(patterns) == 0 {
		return "(none)"
	}
	texts := make([]string, len(patterns))
	for i, p := range patterns {
		texts[i] = p.String()
	}
	return "[" + strings.Join(texts, ", ") + "]"
}
