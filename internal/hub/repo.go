package hub

import (
	"errors"
	"fmt"
	"strings"
)

// RepoType is a repository type as the Hub names it in request bodies: always singular.
type RepoType string

const (
	Model   RepoType = "model"
	Dataset RepoType = "dataset"
	Space   RepoType = "space"
	Kernel  RepoType = "kernel"
)

// RepoTypes lists the types hf-micro accepts, in the order they are documented.
var RepoTypes = []RepoType{Model, Dataset, Space, Kernel}

// ParseRepoType accepts a type in singular or plural form ("spaces", as the original hf-micro sent it) and
// returns the singular form the Hub expects. An empty string means a model, as on the Hub.
func ParseRepoType(s string) (RepoType, error) {
	if s == "" {
		return Model, nil
	}
	for _, t := range RepoTypes {
		if s == string(t) || s == t.Plural() {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown repository type %q: use one of model, dataset, space, kernel", s)
}

// Plural is the form used in API paths: /api/models/...
func (t RepoType) Plural() string { return string(t) + "s" }

// WebPrefix is what comes before ns/name in a web URL: nothing for models, "datasets/" and so on otherwise.
func (t RepoType) WebPrefix() string {
	if t == Model {
		return ""
	}
	return t.Plural() + "/"
}

// RepoID is a repository id. Namespace is empty for a bare name, which the Hub reads as the token owner's.
type RepoID struct {
	Namespace string
	Name      string
}

func (id RepoID) String() string {
	if id.Namespace == "" {
		return id.Name
	}
	return id.Namespace + "/" + id.Name
}

// maxNamePart is the Hub's limit for a repository name; hf-micro holds namespaces to it as well, which every
// real user and organisation name fits.
const maxNamePart = 96

// ParseRepoID checks "name" or "namespace/name" against the Hub's rules (docs/hub-contract.md §9), in their ASCII
// form: letters, digits, '-', '_' and '.'; each part starts and ends with a letter, digit or '_'; no "--" or
// ".."; at most 96 characters a part; not ending in ".git". The checks happen here so that nothing outside these
// rules ever reaches a Hub URL.
func ParseRepoID(s string) (RepoID, error) {
	if s == "" {
		return RepoID{}, errors.New("repository id is empty")
	}
	ns, name, hasNS := strings.Cut(s, "/")
	if !hasNS {
		ns, name = "", s
	}
	if strings.Contains(name, "/") {
		return RepoID{}, fmt.Errorf("repository id %q has more than one '/': use namespace/name and give the type separately", s)
	}
	if hasNS {
		if err := checkPart("namespace", ns); err != nil {
			return RepoID{}, err
		}
	}
	if err := checkPart("name", name); err != nil {
		return RepoID{}, err
	}
	if strings.HasSuffix(name, ".git") {
		return RepoID{}, fmt.Errorf("repository name %q must not end with .git", name)
	}
	return RepoID{Namespace: ns, Name: name}, nil
}

func checkPart(what, s string) error {
	switch {
	case s == "":
		return fmt.Errorf("repository %s is empty", what)
	case len(s) > maxNamePart:
		return fmt.Errorf("repository %s is %d characters long; the Hub allows at most %d", what, len(s), maxNamePart)
	case strings.Contains(s, "--") || strings.Contains(s, ".."):
		return fmt.Errorf("repository %s %q contains '--' or '..', which the Hub forbids", what, s)
	case !IsWordByte(s[0]) || !IsWordByte(s[len(s)-1]):
		return fmt.Errorf("repository %s %q must start and end with a letter, digit or '_'", what, s)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !IsWordByte(c) && c != '-' && c != '.' {
			return fmt.Errorf("repository %s %q has a character the Hub does not accept: only letters, digits, '-', '_' and '.' are allowed", what, s)
		}
	}
	return nil
}

// IsWordByte is a regexp \w byte: an ASCII letter or digit, or '_'.
func IsWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
