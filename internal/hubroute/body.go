package hubroute

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// bodyRule reads what a request does from its JSON body; path is what its path names, with the row's action.
type bodyRule func(body object, path Target) ([]Target, error)

// object is a JSON object as the Hub reads it: keys matched exactly (Go's encoding/json would match them in
// any letter case and keep the last of duplicates; the Hub matches exactly).
type object map[string]json.RawMessage

// maxDepth bounds how deeply a judged body may nest; the Hub's bodies nest two or three levels.
const maxDepth = 16

// parseObject reads one JSON object, refusing what the Hub could read differently from hf-micro: duplicate
// keys, or keys that differ only in letter case, at any depth.
func parseObject(body []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := checkKeys(dec, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("the body has more after its JSON object; send exactly one object")
	}
	var obj object
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, badRequest("the body must be a JSON object")
	}
	return obj, nil
}

// checkKeys walks one JSON value.
func checkKeys(dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return badRequest("the body is not valid JSON; this Hub route takes a JSON object")
	}
	delim, ok := tok.(json.Delim)
	if !ok || delim == '}' || delim == ']' {
		if depth == 0 {
			return badRequest("the body must be a JSON object")
		}
		return nil
	}
	if depth == 0 && delim != '{' {
		return badRequest("the body must be a JSON object")
	}
	if depth >= maxDepth {
		return badRequest(fmt.Sprintf("the body nests deeper than %d levels", maxDepth))
	}
	seen := map[string]string{}
	for dec.More() {
		if delim == '{' {
			keyTok, err := dec.Token()
			if err != nil {
				return badRequest("the body is not valid JSON")
			}
			key := keyTok.(string)
			if prev, dup := seen[strings.ToLower(key)]; dup {
				return badRequest(fmt.Sprintf("the body has the key %q twice (as %q and %q); the Hub and hf-micro could read different values, so send each key once, in the Hub's spelling", key, prev, key))
			}
			seen[strings.ToLower(key)] = key
		}
		if err := checkKeys(dec, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return badRequest("the body is not valid JSON")
	}
	return nil
}

// encode is the object as it is forwarded: exactly the keys and values that were judged.
func (o object) encode() ([]byte, error) {
	b, err := json.Marshal(map[string]json.RawMessage(o))
	if err != nil {
		return nil, badRequest("the body cannot be re-encoded: " + err.Error())
	}
	return b, nil
}

// str reads a string field; a missing field or null is "".
func (o object) str(key string) (string, error) {
	raw, ok := o[key]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", badRequest(fmt.Sprintf("%q must be a string", key))
	}
	return s, nil
}

// repoType reads the "type" field: singular (or plural) type, absent for a model.
func (o object) repoType(key string) (hub.RepoType, error) {
	s, err := o.str(key)
	if err != nil {
		return "", err
	}
	t, err := hub.ParseRepoType(s)
	if err != nil {
		return "", badRequest(err.Error())
	}
	return t, nil
}

func repoID(field, s string) (hub.RepoID, error) {
	id, err := hub.ParseRepoID(s)
	if err != nil {
		return hub.RepoID{}, badRequest(fmt.Sprintf("%s: %v", field, err))
	}
	return id, nil
}

// createOrDelete reads {"name", "organization", "type"}: an absent or null organization is the token owner's.
func createOrDelete(o object, path Target) ([]Target, error) {
	t, err := o.repoType("type")
	if err != nil {
		return nil, err
	}
	name, err := o.str("name")
	if err != nil {
		return nil, err
	}
	org, err := o.str("organization")
	if err != nil {
		return nil, err
	}
	if org != "" {
		name = org + "/" + name
	}
	id, err := repoID("name", name)
	if err != nil {
		return nil, err
	}
	return []Target{{Action: path.Action, Type: t, Repo: id}}, nil
}

// move reads {"fromRepo", "toRepo", "type"}: both repositories change.
func move(o object, path Target) ([]Target, error) {
	t, err := o.repoType("type")
	if err != nil {
		return nil, err
	}
	var targets []Target
	for _, field := range []string{"fromRepo", "toRepo"} {
		s, err := o.str(field)
		if err != nil {
			return nil, err
		}
		id, err := repoID(field, s)
		if err != nil {
			return nil, err
		}
		targets = append(targets, Target{Action: policy.Update, Type: t, Repo: id})
	}
	return targets, nil
}

// duplicateRepo reads the path's repository and creates the body's "repository", of the same type.
func duplicateRepo(o object, path Target) ([]Target, error) {
	s, err := o.str("repository")
	if err != nil {
		return nil, err
	}
	id, err := repoID("repository", s)
	if err != nil {
		return nil, err
	}
	return []Target{path, {Action: policy.Create, Type: path.Type, Repo: id}}, nil
}

// duplicateLFSFiles reads the path's repository (the source) and writes the body's target {type, name}.
func duplicateLFSFiles(o object, path Target) ([]Target, error) {
	raw, ok := o["target"]
	if !ok {
		return nil, badRequest(`"target" is required: {"type": ..., "name": "namespace/name"}`)
	}
	var target object
	if err := json.Unmarshal(raw, &target); err != nil || target == nil {
		return nil, badRequest(`"target" must be an object {"type": ..., "name": "namespace/name"}`)
	}
	t, err := target.repoType("type")
	if err != nil {
		return nil, err
	}
	name, err := target.str("name")
	if err != nil {
		return nil, err
	}
	id, err := repoID("target.name", name)
	if err != nil {
		return nil, err
	}
	return []Target{path, {Action: policy.Update, Type: t, Repo: id}}, nil
}

// lfsBatch: "download" only reads; "upload" stores objects in the repository.
func lfsBatch(o object, path Target) ([]Target, error) {
	op, err := o.str("operation")
	if err != nil {
		return nil, err
	}
	switch op {
	case "download":
		path.Action = policy.Read
	case "upload":
		path.Action = policy.Update
	default:
		return nil, badRequest(`"operation" must be "upload" or "download"`)
	}
	return []Target{path}, nil
}
