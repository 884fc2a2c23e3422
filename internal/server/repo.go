package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// problems collects what is wrong with a request, field by field, so one reply names all of it.
type problems map[string]string

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return invalid(p)
}

func (p problems) repoType(field, raw string) hub.RepoType {
	t, err := hub.ParseRepoType(raw)
	if err != nil {
		p[field] = err.Error()
	}
	return t
}

// repoID reads the repository from "name", or from "namespace", which the original hf-micro used for the full
// id; giving both is fine only when they agree. needNamespace refuses a bare name.
func (p problems) repoID(name, namespace string, needNamespace bool) hub.RepoID {
	field, raw := "name", name
	switch {
	case name == "" && namespace == "":
		p["name"] = "required: the repository id, namespace/name"
		return hub.RepoID{}
	case name == "":
		field, raw = "namespace", namespace
	case namespace != "" && namespace != name:
		p["namespace"] = fmt.Sprintf("%q differs from name %q; give the repository id once, in name", namespace, name)
		return hub.RepoID{}
	}
	id, err := hub.ParseRepoID(raw)
	switch {
	case err != nil:
		p[field] = err.Error()
	case needNamespace && id.Namespace == "":
		p[field] = fmt.Sprintf("%q has no namespace; give namespace/name", raw)
	}
	return id
}

func (p problems) visibility(raw string, t hub.RepoType, private *bool) {
	switch {
	case raw == "":
	case private != nil:
		p["visibility"] = "give either private or visibility, not both"
	case raw == "protected" && t != hub.Space:
		p["visibility"] = "protected is for spaces only; use private or public"
	case raw != "private" && raw != "public" && raw != "protected":
		p["visibility"] = fmt.Sprintf("want private, public or protected, got %q", raw)
	}
}

// repoReply is what the repo routes answer on success.
type repoReply struct {
	Name     string          `json:"name"`
	Type     hub.RepoType    `json:"type"`
	URL      string          `json:"url,omitempty"`
	ID       string          `json:"id,omitempty"`
	Created  *bool           `json:"created,omitempty"`
	Deleted  *bool           `json:"deleted,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

// handleRepoInfo answers GET /api/repo?type=&name=[&revision=] with the Hub's info, as the Hub sent it.
func handleRepoInfo(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		p := problems{}
		for key := range q {
			if key != "type" && key != "name" && key != "namespace" && key != "revision" {
				p[key] = "unknown query parameter; accepted: type, name, revision"
			}
		}
		t := p.repoType("type", q.Get("type"))
		id := p.repoID(q.Get("name"), q.Get("namespace"), false)
		revision := q.Get("revision")
		if q.Has("revision") && !validRevision(revision) {
			p["revision"] = "want a branch, tag, commit or refs/pr/N of printable characters, at most 256"
		}
		if err := p.err(); err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Read, t, id)
		if err != nil {
			return err
		}
		info, err := hubClient.RepoInfo(r.Context(), t, id, revision)
		if err != nil {
			return err
		}
		writeRawJSON(w, http.StatusOK, info)
		return nil
	}
}

func validRevision(rev string) bool {
	if rev == "" || len(rev) > 256 {
		return false
	}
	for _, c := range rev {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

type createRequest struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Organization string `json:"organization"`
	Private      *bool  `json:"private"`
	Visibility   string `json:"visibility"`
	SDK          string `json:"sdk"`
	ExistOK      bool   `json:"exist_ok"`
}

// spaceSDKs are the SDKs the Hub creates Spaces with.
var spaceSDKs = []string{"gradio", "docker", "static"}

// defaultSDK is what the official JS client sends for a Space created without one.
const defaultSDK = "static"

func (req createRequest) validate() (hub.CreateRepoRequest, bool, error) {
	p := problems{}
	t := p.repoType("type", req.Type)
	id := p.repoID(req.Name, "", false)
	if req.Organization != "" {
		switch {
		case id.Namespace == "":
			if org, err := hub.ParseRepoID(req.Organization + "/" + id.Name); err != nil {
				p["organization"] = err.Error()
			} else {
				id = org
			}
		case !strings.EqualFold(id.Namespace, req.Organization):
			p["organization"] = fmt.Sprintf("%q differs from the namespace in name %q; give it once", req.Organization, req.Name)
		}
	}
	p.visibility(req.Visibility, t, req.Private)

	sdk := req.SDK
	switch {
	case t != hub.Space && sdk != "":
		p["sdk"] = "only spaces have an sdk"
	case t != hub.Space:
	case sdk == "":
		sdk = defaultSDK
	case sdk == "streamlit":
		p["sdk"] = "the Hub no longer creates streamlit Spaces; use docker (the Streamlit template)"
	case !slices.Contains(spaceSDKs, sdk):
		p["sdk"] = fmt.Sprintf("want gradio, docker or static, got %q", sdk)
	}
	return hub.CreateRepoRequest{Type: t, ID: id, Private: req.Private, Visibility: req.Visibility, SDK: sdk}, req.ExistOK, p.err()
}

// handleRepoCreate answers POST /api/repo: 201 with the new repository, or with exist_ok and an existing one,
// 200 with its url.
func handleRepoCreate(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := decode[createRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		req, existOK, err := body.validate()
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Create, req.Type, req.ID)
		if err != nil {
			return err
		}
		created, err := hubClient.CreateRepo(r.Context(), req)
		var he *hub.Error
		if existOK && errors.As(err, &he) && he.Status == http.StatusConflict && he.URL != "" {
			writeJSON(w, http.StatusOK, repoReply{Name: nameFromURL(he.URL, req.ID), Type: req.Type, URL: he.URL, Created: ptr(false)})
			return nil
		}
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/repo?"+url.Values{"type": {string(req.Type)}, "name": {created.Name}}.Encode())
		writeJSON(w, http.StatusCreated, repoReply{Name: created.Name, Type: req.Type, URL: created.URL, ID: created.ID, Created: ptr(true)})
		return nil
	}
}

// nameFromURL reads ns/name from the end of a repository's web URL, for a repository created earlier; the
// request's own id is the fallback (it lacks the namespace when the caller gave a bare name).
func nameFromURL(raw string, fallback hub.RepoID) string {
	u, err := url.Parse(raw)
	if err != nil {
		return fallback.String()
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 {
		return fallback.String()
	}
	return parts[len(parts)-2] + "/" + parts[len(parts)-1]
}

type updateRequest struct {
	Type                string          `json:"type"`
	Namespace           string          `json:"namespace"`
	Name                string          `json:"name"`
	Private             *bool           `json:"private"`
	Visibility          string          `json:"visibility"`
	Gated               json.RawMessage `json:"gated"`
	DiscussionsDisabled *bool           `json:"discussionsDisabled"`
}

func (req updateRequest) validate() (hub.RepoType, hub.RepoID, hub.Settings, error) {
	p := problems{}
	t := p.repoType("type", req.Type)
	id := p.repoID(req.Name, req.Namespace, true)
	p.visibility(req.Visibility, t, req.Private)
	settings := hub.Settings{Private: req.Private, Visibility: req.Visibility, DiscussionsDisabled: req.DiscussionsDisabled}
	switch gated := strings.TrimSpace(string(req.Gated)); gated {
	case "", "null":
	case "false":
		settings.Gated = false
	case `"auto"`, `"manual"`:
		settings.Gated = strings.Trim(gated, `"`)
	default:
		p["gated"] = fmt.Sprintf(`want false, "auto" or "manual", got %s`, gated)
	}
	if settings == (hub.Settings{}) && len(p) == 0 {
		p["private"] = "nothing to change: give private, visibility, gated or discussionsDisabled"
	}
	return t, id, settings, p.err()
}

// handleRepoUpdate answers PUT /api/repo with the settings as the Hub now has them.
func handleRepoUpdate(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := decode[updateRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		t, id, settings, err := body.validate()
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Update, t, id)
		if err != nil {
			return err
		}
		now, err := hubClient.UpdateSettings(r.Context(), t, id, settings)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, repoReply{Name: id.String(), Type: t, Settings: now})
		return nil
	}
}

type deleteRequest struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	MissingOK bool   `json:"missing_ok"`
}

// handleRepoDelete answers DELETE /api/repo with what was deleted; with missing_ok, a repository that does not
// exist is a 200 with "deleted": false.
func handleRepoDelete(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := decode[deleteRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		p := problems{}
		t := p.repoType("type", body.Type)
		id := p.repoID(body.Name, body.Namespace, false)
		if err := p.err(); err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Delete, t, id)
		if err != nil {
			return err
		}
		err = hubClient.DeleteRepo(r.Context(), t, id)
		if err != nil && !(body.MissingOK && hub.IsRepoNotFound(err)) {
			return err
		}
		writeJSON(w, http.StatusOK, repoReply{Name: id.String(), Type: t, Deleted: ptr(err == nil)})
		return nil
	}
}

func ptr[T any](v T) *T { return &v }
