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

// idForm is which repository ids a route takes, and how it asks for one that is missing.
type idForm struct {
	needNamespace bool   // a bare name is refused
	required      string // the problem when no id is given
}

var (
	// ownerOrFull: create and delete take a bare name as the token owner's.
	ownerOrFull = idForm{required: `required: give "name": "my-model" (in the token owner's namespace) or "namespace/my-model"`}
	fullOnly    = idForm{needNamespace: true, required: `required: give "name": "namespace/my-model"`}
	// inQuery: info takes a bare name too, as the Hub does for canonical repositories such as gpt2.
	inQuery = idForm{required: "required: give name=namespace/my-model in the query"}
)

// repoID reads the repository from "name", or from "namespace", which the original hf-micro used for the full
// id; giving both is fine only when they agree.
func (p problems) repoID(name, namespace string, form idForm) hub.RepoID {
	field, raw := "name", name
	switch {
	case name == "" && namespace == "":
		p["name"] = form.required
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
	case form.needNamespace && id.Namespace == "":
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

// repoRef is a repository, checked: a known type and an id the Hub accepts.
type repoRef struct {
	Type hub.RepoType
	ID   hub.RepoID
}

// infoRequest is GET /api/repo's query.
type infoRequest struct {
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Namespace string  `json:"namespace"`
	Revision  *string `json:"revision"`
}

type repoInfo struct {
	repoRef
	revision string
}

func (req infoRequest) validate() (repoInfo, problems) {
	p := problems{}
	info := repoInfo{repoRef: repoRef{Type: p.repoType("type", req.Type), ID: p.repoID(req.Name, req.Namespace, inQuery)}}
	if req.Revision != nil {
		info.revision = *req.Revision
		if !validRevision(info.revision) {
			p["revision"] = "want a branch, tag, commit or refs/pr/N of printable characters, at most 256"
		}
	}
	return info, p
}

// handleRepoInfo answers GET /api/repo?type=&name=[&revision=] with the Hub's info, as the Hub sent it.
func handleRepoInfo(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decodeValid[infoRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Read, req.Type, req.ID)
		if err != nil {
			return err
		}
		info, err := hubClient.RepoInfo(r.Context(), req.Type, req.ID, req.revision)
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

// createRequest is POST /api/repo's body. "namespace" is the original hf-micro's name for the repository id,
// as on the other routes; with "name" as well, the two must agree.
type createRequest struct {
	Type         string `json:"type"`
	Name         string `json:"name"`
	Namespace    string `json:"namespace"`
	Organization string `json:"organization"`
	Private      *bool  `json:"private"`
	Visibility   string `json:"visibility"`
	SDK          string `json:"sdk"`
	ExistOK      bool   `json:"exist_ok"`
}

type repoCreate struct {
	hub.CreateRepoRequest
	existOK bool
}

// spaceSDKs are the SDKs the Hub creates Spaces with.
var spaceSDKs = []string{"gradio", "docker", "static"}

// defaultSDK is what the official JS client sends for a Space created without one.
const defaultSDK = "static"

func (req createRequest) validate() (repoCreate, problems) {
	p := problems{}
	t := p.repoType("type", req.Type)
	id := p.repoID(req.Name, req.Namespace, ownerOrFull)
	if req.Organization != "" && id.Name != "" {
		switch {
		case id.Namespace == "":
			if org, err := hub.ParseRepoID(req.Organization + "/" + id.Name); err != nil {
				p["organization"] = err.Error()
			} else {
				id = org
			}
		case !strings.EqualFold(id.Namespace, req.Organization):
			p["organization"] = fmt.Sprintf("%q differs from the namespace in %q; give it once", req.Organization, id)
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
	create := hub.CreateRepoRequest{Type: t, ID: id, Private: req.Private, Visibility: req.Visibility, SDK: sdk}
	return repoCreate{CreateRepoRequest: create, existOK: req.ExistOK}, p
}

// handleRepoCreate answers POST /api/repo: 201 with the new repository, or with exist_ok and an existing one,
// 200 with its url.
func handleRepoCreate(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decodeValid[createRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Create, req.Type, req.ID)
		if err != nil {
			return err
		}
		created, err := hubClient.CreateRepo(r.Context(), req.CreateRepoRequest)
		var he *hub.Error
		if req.existOK && errors.As(err, &he) && he.Status == http.StatusConflict && he.URL != "" {
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

type repoUpdate struct {
	repoRef
	settings hub.Settings
}

func (req updateRequest) validate() (repoUpdate, problems) {
	p := problems{}
	t := p.repoType("type", req.Type)
	id := p.repoID(req.Name, req.Namespace, fullOnly)
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
	return repoUpdate{repoRef: repoRef{Type: t, ID: id}, settings: settings}, p
}

// handleRepoUpdate answers PUT /api/repo with the settings as the Hub now has them.
func handleRepoUpdate(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decodeValid[updateRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Update, req.Type, req.ID)
		if err != nil {
			return err
		}
		now, err := hubClient.UpdateSettings(r.Context(), req.Type, req.ID, req.settings)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, repoReply{Name: req.ID.String(), Type: req.Type, Settings: now})
		return nil
	}
}

type deleteRequest struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	MissingOK bool   `json:"missing_ok"`
}

type repoDelete struct {
	repoRef
	missingOK bool
}

func (req deleteRequest) validate() (repoDelete, problems) {
	p := problems{}
	ref := repoRef{Type: p.repoType("type", req.Type), ID: p.repoID(req.Name, req.Namespace, ownerOrFull)}
	return repoDelete{repoRef: ref, missingOK: req.MissingOK}, p
}

// handleRepoDelete answers DELETE /api/repo with what was deleted; with missing_ok, a repository that does not
// exist is a 200 with "deleted": false.
func handleRepoDelete(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		req, err := decodeValid[deleteRequest](w, r, d.opts.MaxBodyBytes)
		if err != nil {
			return err
		}
		hubClient, err := d.hubFor(r, policy.Delete, req.Type, req.ID)
		if err != nil {
			return err
		}
		err = hubClient.DeleteRepo(r.Context(), req.Type, req.ID)
		if err != nil && !(req.missingOK && hub.IsRepoNotFound(err)) {
			return err
		}
		writeJSON(w, http.StatusOK, repoReply{Name: req.ID.String(), Type: req.Type, Deleted: ptr(err == nil)})
		return nil
	}
}

func ptr[T any](v T) *T { return &v }
