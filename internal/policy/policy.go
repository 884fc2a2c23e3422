// Package policy limits what the server's Hub token may be used for. Every request that acts with that token
// asks Check first, whatever route it came in by; requests made with a caller's own token are the Hub's to judge.
package policy

import (
	"fmt"
	"strings"
)

// Action is what a request does to the Hub.
type Action string

const (
	Read   Action = "read"
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// Mutates reports whether the action changes something on the Hub (and so is audited).
func (a Action) Mutates() bool { return a == Create || a == Update || a == Delete }

// Policy is the operator's limits; the zero Policy allows everything.
type Policy struct {
	ReadOnly          bool     // HF_MICRO_READ_ONLY: nothing but reads
	AllowedNamespaces []string // HF_MICRO_ALLOWED_NAMESPACES: where changes may happen; empty means anywhere
	DenyDelete        bool     // HF_MICRO_ALLOW_DELETE=false
}

// Refusal is a request the policy does not allow. The message names the rule.
type Refusal struct{ Msg string }

func (r *Refusal) Error() string { return r.Msg }

// Check decides an action on a repository in namespace ("" when the caller gave a bare name, which the Hub
// resolves to the token's owner).
func (p Policy) Check(action Action, namespace string) error {
	if !action.Mutates() {
		return nil
	}
	switch {
	case p.ReadOnly:
		return &Refusal{fmt.Sprintf("refused by policy: hf-micro is read-only (HF_MICRO_READ_ONLY), so it does not %s repositories with its token", action)}
	case action == Delete && p.DenyDelete:
		return &Refusal{"refused by policy: deleting repositories with hf-micro's token is off (HF_MICRO_ALLOW_DELETE=false)"}
	case len(p.AllowedNamespaces) == 0:
		return nil
	case namespace == "":
		return &Refusal{"refused by policy: give the repository as namespace/name, so it can be checked against HF_MICRO_ALLOWED_NAMESPACES"}
	}
	for _, allowed := range p.AllowedNamespaces {
		if strings.EqualFold(allowed, namespace) {
			return nil
		}
	}
	return &Refusal{fmt.Sprintf("refused by policy: namespace %q is not in HF_MICRO_ALLOWED_NAMESPACES (%s)", namespace, strings.Join(p.AllowedNamespaces, ", "))}
}
