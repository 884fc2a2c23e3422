package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// WhoAmI returns the Hub's whoami-v2 answer for the client's token, every field as the Hub sent it.
func (c *Client) WhoAmI(ctx context.Context) (json.RawMessage, error) {
	return c.doJSON(ctx, http.MethodGet, c.apiURL("whoami-v2"), nil)
}

// RepoInfo returns a repository's info as the Hub sent it; revision is optional (a branch, tag, commit or
// refs/pr/N, sent as one escaped path segment).
func (c *Client) RepoInfo(ctx context.Context, t RepoType, id RepoID, revision string) (json.RawMessage, error) {
	segments := []string{t.Plural(), id.Namespace, id.Name}
	if id.Namespace == "" {
		segments = []string{t.Plural(), id.Name}
	}
	if revision != "" {
		segments = append(segments, "revision", revision)
	}
	return c.doJSON(ctx, http.MethodGet, c.apiURL(segments...), nil)
}

// CreateRepoRequest is what POST /api/repos/create needs. At most one of Private and Visibility may be set.
type CreateRepoRequest struct {
	Type       RepoType
	ID         RepoID // an empty Namespace creates in the token owner's namespace
	Private    *bool
	Visibility string
	SDK        string // required for spaces
}

// CreatedRepo is the Hub's answer to a create.
type CreatedRepo struct {
	URL  string `json:"url"`
	Name string `json:"name"`
	ID   string `json:"id"`
}

// repoRef is the body shape shared by create and delete: a name, its namespace (null for the token owner's)
// and the singular type.
type repoRef struct {
	Name         string   `json:"name"`
	Organization *string  `json:"organization"`
	Type         RepoType `json:"type"`
}

func newRepoRef(t RepoType, id RepoID) repoRef {
	ref := repoRef{Name: id.Name, Type: t}
	if id.Namespace != "" {
		ref.Organization = &id.Namespace
	}
	return ref
}

// CreateRepo creates a repository. An existing one gives an *Error with Status 409 and URL set.
func (c *Client) CreateRepo(ctx context.Context, req CreateRepoRequest) (CreatedRepo, error) {
	if req.Private != nil && req.Visibility != "" {
		return CreatedRepo{}, fmt.Errorf("hub: create %s: private and visibility both set; the Hub accepts only one", req.ID)
	}
	body := struct {
		repoRef
		Private    *bool  `json:"private,omitempty"`
		Visibility string `json:"visibility,omitempty"`
		SDK        string `json:"sdk,omitempty"`
	}{newRepoRef(req.Type, req.ID), req.Private, req.Visibility, req.SDK}

	raw, err := c.doJSON(ctx, http.MethodPost, c.apiURL("repos", "create"), body)
	if err != nil {
		return CreatedRepo{}, err
	}
	var created CreatedRepo
	if err := json.Unmarshal(raw, &created); err != nil || created.URL == "" || created.Name == "" {
		return CreatedRepo{}, fmt.Errorf("hub: create %s: answer lacks url or name: %w", req.ID, ErrBadResponse)
	}
	return created, nil
}

// Settings are the repository settings hf-micro changes. Nil and empty fields are not sent.
type Settings struct {
	Private             *bool  `json:"private,omitempty"`
	Visibility          string `json:"visibility,omitempty"`
	Gated               any    `json:"gated,omitempty"` // false, "auto" or "manual"
	DiscussionsDisabled *bool  `json:"discussionsDisabled,omitempty"`
}

// UpdateSettings changes settings and returns the Hub's answer: the settings as they now are.
func (c *Client) UpdateSettings(ctx context.Context, t RepoType, id RepoID, s Settings) (json.RawMessage, error) {
	if id.Namespace == "" {
		return nil, fmt.Errorf("hub: settings of %q: the repository id needs a namespace", id.Name)
	}
	return c.doJSON(ctx, http.MethodPut, c.apiURL(t.Plural(), id.Namespace, id.Name, "settings"), s)
}

// DeleteRepo deletes a repository. A missing one gives an error for which IsRepoNotFound is true.
func (c *Client) DeleteRepo(ctx context.Context, t RepoType, id RepoID) error {
	resp, err := c.do(ctx, http.MethodDelete, c.apiURL("repos", "delete"), newRepoRef(t, id))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The Hub answers a plain "OK"; drain it so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	return nil
}
