package policy

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		policy    Policy
		action    Action
		namespace string
		refusal   string // "" when allowed
	}{
		{Policy{}, Delete, "", ""},
		{Policy{ReadOnly: true}, Read, "x", ""},
		{Policy{ReadOnly: true}, Create, "x", "HF_MICRO_READ_ONLY"},
		{Policy{ReadOnly: true}, Update, "x", "HF_MICRO_READ_ONLY"},
		{Policy{ReadOnly: true}, Delete, "x", "HF_MICRO_READ_ONLY"},
		{Policy{DenyDelete: true}, Delete, "x", "HF_MICRO_ALLOW_DELETE"},
		{Policy{DenyDelete: true}, Create, "x", ""},
		{Policy{AllowedNamespaces: []string{"acme", "Team"}}, Create, "team", ""},
		{Policy{AllowedNamespaces: []string{"acme"}}, Update, "alice", `namespace "alice" is not in HF_MICRO_ALLOWED_NAMESPACES (acme)`},
		{Policy{AllowedNamespaces: []string{"acme"}}, Delete, "", "namespace/name"},
		{Policy{AllowedNamespaces: []string{"acme"}}, Read, "alice", ""},
	}
	for _, tc := range cases {
		err := tc.policy.Check(tc.action, tc.namespace)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("%+v %s %q: refused: %v", tc.policy, tc.action, tc.namespace, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
			t.Errorf("%+v %s %q: %v, want a refusal naming %q", tc.policy, tc.action, tc.namespace, err, tc.refusal)
		}
	}
}

func TestMutates(t *testing.T) {
	for action, want := range map[Action]bool{Read: false, "": false, Create: true, Update: true, Delete: true} {
		if action.Mutates() != want {
			t.Errorf("%q.Mutates() = %v", action, !want)
		}
	}
}
