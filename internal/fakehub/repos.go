package fakehub

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// nameRule is the Hub's message for a name it refuses.
const nameRule = "Only regular characters and '-', '_', '.' accepted, '--' and '..' are forbidden, '-' and '.' cannot start or end the name, max length is 96."

type createRequest struct {
	Name         string  `json:"name"`
	Organization *string `json:"organization"`
	Type         *string `json:"type"`
	Private      *bool   `json:"private"`
	Visibility   *string `json:"visibility"`
	SDK          *string `json:"sdk"`

	// Accepted and ignored: the Hub's other create options change nothing a client can see here.
	License          json.RawMessage `json:"license"`
	LicenseName      json.RawMessage `json:"license_name"`
	LicenseLink      json.RawMessage `json:"license_link"`
	Files            json.RawMessage `json:"files"`
	Hardware         json.RawMessage `json:"hardware"`
	SDKVersion       json.RawMessage `json:"sdkVersion"`
	Template         json.RawMessage `json:"template"`
	ShortDescription json.RawMessage `json:"short_description"`
	Secrets          json.RawMessage `json:"secrets"`
	Variables        json.RawMessage `json:"variables"`
	SleepTimeSeconds json.RawMessage `json:"sleepTimeSeconds"`
	Volumes          json.RawMessage `json:"volumes"`
	DevModeEnabled   json.RawMessage `json:"devModeEnabled"`
	ResourceGroupID  json.RawMessage `json:"resourceGroupId"`
	Region           json.RawMessage `json:"region"`
	StorageTier      json.RawMessage `json:"storageTier"`
}

// createRepo answers 200 {url,name,id} (not 201), or 409 {error,url} for an existing repo.
func (h *Hub) createRepo(w http.ResponseWriter, r *http.Request, c call) error {
	if c.tok == nil {
		return errInvalidCredentials()
	}
	var req createRequest
	if err := decodeBody(r, c.body, &req); err != nil {
		return err
	}
	typ, err := parseType(req.Type)
	if err != nil {
		return err
	}
	if req.Name == "" {
		return badRequest(`"name" is required`)
	}
	if !validName(req.Name) {
		return badRequest(nameRule)
	}
	visibility, err := parseVisibility(req.Private, req.Visibility, typ)
	if err != nil {
		return err
	}
	sdk, err := parseSDK(req.SDK, typ)
	if err != nil {
		return err
	}
	ns := c.user()
	if req.Organization != nil && *req.Organization != "" {
		ns = *req.Organization
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.canCreateIn(c, ns) {
		return errForbidden("You don't have the rights to create a %s under this namespace", typ)
	}
	id := h.namespace(ns) + "/" + req.Name
	if existing := h.repos[repoKey(typ, id)]; existing != nil {
		e := errorf(http.StatusConflict, "You already created this %s repo", typ)
		e.url = c.base + "/" + webPrefix(typ) + existing.ID
		return e
	}
	rp := h.newRepo(typ, id, c.user())
	rp.setVisibility(visibility)
	rp.SDK = sdk
	writeJSON(w, http.StatusOK, object{
		{"url", c.base + "/" + webPrefix(typ) + id}, {"name", id}, {"id", rp.ObjectID}})
	return nil
}

// deleteRepo answers 200 plain-text OK, or 404 RepoNotFound: Python's missing_ok needs that code.
func (h *Hub) deleteRepo(w http.ResponseWriter, r *http.Request, c call) error {
	if c.tok == nil {
		return errInvalidCredentials()
	}
	var req struct {
		Name         string  `json:"name"`
		Organization *string `json:"organization"`
		Type         *string `json:"type"`
	}
	if err := decodeBody(r, c.body, &req); err != nil {
		return err
	}
	typ, err := parseType(req.Type)
	if err != nil {
		return err
	}
	if req.Name == "" {
		return badRequest(`"name" is required`)
	}
	ns := c.user()
	if req.Organization != nil && *req.Organization != "" {
		ns = *req.Organization
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoKey(typ, ns+"/"+req.Name)]
	if rp == nil || !h.canSee(c, rp) {
		return errRepoNotFound()
	}
	if !h.canManage(c, rp) {
		return errForbidden("You don't have the rights to delete this %s", typ)
	}
	delete(h.repos, repoKey(typ, rp.ID))
	writeOK(w)
	return nil
}

// moveRepo renames a repo, possibly into another namespace; it keeps its ObjectId.
func (h *Hub) moveRepo(w http.ResponseWriter, r *http.Request, c call) error {
	if c.tok == nil {
		return errInvalidCredentials()
	}
	var req struct {
		FromRepo string  `json:"fromRepo"`
		ToRepo   string  `json:"toRepo"`
		Type     *string `json:"type"`
	}
	if err := decodeBody(r, c.body, &req); err != nil {
		return err
	}
	typ, err := parseType(req.Type)
	if err != nil {
		return err
	}
	if !strings.Contains(req.FromRepo, "/") {
		return badRequest(`"fromRepo" must be "namespace/name", got %q`, req.FromRepo)
	}
	toNS, toName, ok := strings.Cut(req.ToRepo, "/")
	if !ok {
		return badRequest(`"toRepo" must be "namespace/name", got %q`, req.ToRepo)
	}
	if !validName(toName) {
		return badRequest(nameRule)
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.repos[repoKey(typ, req.FromRepo)]
	if rp == nil || !h.canSee(c, rp) {
		return errRepoNotFound()
	}
	if !h.canManage(c, rp) {
		return errForbidden("You don't have the rights to move this %s", typ)
	}
	if !h.canCreateIn(c, toNS) {
		return errForbidden("You don't have the rights to create a %s under this namespace", typ)
	}
	toID := h.namespace(toNS) + "/" + toName
	// The target may be the source itself when only the case of the name changes.
	if other := h.repos[repoKey(typ, toID)]; other != nil && other != rp {
		return errorf(http.StatusConflict, "A %s repository called %s already exists", typ, other.ID)
	}
	delete(h.repos, repoKey(typ, rp.ID))
	rp.ID = toID
	h.repos[repoKey(typ, toID)] = rp
	writeOK(w)
	return nil
}

type settingsRequest struct {
	Private                 *bool           `json:"private"`
	Visibility              *string         `json:"visibility"`
	Gated                   json.RawMessage `json:"gated"`
	DiscussionsDisabled     *bool           `json:"discussionsDisabled"`
	DiscussionsSorting      *string         `json:"discussionsSorting"`
	GatedNotificationsEmail *string         `json:"gatedNotificationsEmail"`
	GatedNotificationsMode  *string         `json:"gatedNotificationsMode"`
	OrgMembersGated         *bool           `json:"orgMembersGated"`
}

// updateSettings answers with the repo's resulting settings, as the Hub's OpenAPI describes.
func (h *Hub) updateSettings(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) error {
		if c.tok == nil {
			return errInvalidCredentials()
		}
		var req settingsRequest
		if err := decodeBody(r, c.body, &req); err != nil {
			return err
		}
		visibility, err := parseVisibility(req.Private, req.Visibility, typ)
		if err != nil {
			return err
		}
		gated, err := parseGated(req.Gated)
		if err != nil {
			return err
		}
		if err := checkSettingsEnums(req); err != nil {
			return err
		}
		if visibility == "" && gated == nil && req.DiscussionsDisabled == nil && req.DiscussionsSorting == nil &&
			req.GatedNotificationsEmail == nil && req.GatedNotificationsMode == nil && req.OrgMembersGated == nil {
			return badRequest("No settings to update")
		}

		h.mu.Lock()
		defer h.mu.Unlock()
		rp := h.repos[repoKey(typ, r.PathValue("ns")+"/"+r.PathValue("name"))]
		if rp == nil || !h.canSee(c, rp) {
			return errRepoNotFound()
		}
		if !h.canManage(c, rp) {
			return errForbidden("You don't have the rights to update the settings of this %s", typ)
		}
		if visibility != "" {
			rp.setVisibility(visibility)
		}
		if gated != nil {
			rp.Gated = gated
		}
		if req.DiscussionsDisabled != nil {
			rp.DiscussionsDisabled = *req.DiscussionsDisabled
		}
		writeJSON(w, http.StatusOK, object{{"private", rp.Private}, {"visibility", rp.visibility()},
			{"gated", rp.Gated}, {"discussionsDisabled", rp.DiscussionsDisabled}})
		return nil
	}
}

// decodeBody parses a JSON request body into v, refusing unknown fields and wrong types with a
// message that says which field is wrong.
func decodeBody(r *http.Request, body []byte, v any) error {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json") {
		return badRequest("Content-Type must be application/json")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return badRequest("Invalid JSON body: unexpected data after the object")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return badRequest("Request body must be a JSON object")
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return badRequest("Request body must be a JSON object")
	case errors.As(err, &typeErr):
		return badRequest("%q must be of type %s, not %s", typeErr.Field, jsonKind(typeErr.Type.String()), typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("Unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("Invalid JSON body: %v", err)
}

func jsonKind(goType string) string {
	switch goType {
	case "bool":
		return "boolean"
	case "string":
		return "string"
	}
	return goType
}

// parseType reads the singular repo type of a request body; absent or null means model.
func parseType(t *string) (string, error) {
	if t == nil {
		return "model", nil
	}
	if !validType(*t) {
		return "", badRequest(`Invalid repo type %q: must be one of model, dataset, space, kernel`, *t)
	}
	return *t, nil
}

// parseVisibility merges the two ways clients ask for visibility (old Python sends private, newer
// clients visibility). It returns "" when neither is given.
func parseVisibility(private *bool, visibility *string, typ string) (string, error) {
	switch {
	case private != nil && visibility != nil:
		return "", badRequest("Cannot specify both private and visibility")
	case private != nil && *private:
		return "private", nil
	case private != nil:
		return "public", nil
	case visibility == nil:
		return "", nil
	}
	switch *visibility {
	case "private", "public":
		return *visibility, nil
	case "protected":
		if typ != "space" {
			return "", badRequest(`Visibility "protected" is only available for spaces`)
		}
		return *visibility, nil
	}
	return "", badRequest(`Invalid visibility %q: must be one of private, public, protected`, *visibility)
}

// parseSDK checks a Space's sdk: required, and only what the server takes today.
func parseSDK(sdk *string, typ string) (string, error) {
	given := sdk != nil && *sdk != ""
	if typ != "space" {
		if given {
			return "", badRequest(`"sdk" is only valid for spaces`)
		}
		return "", nil
	}
	if !given {
		return "", badRequest(`"sdk" is required for spaces: one of gradio, docker, static`)
	}
	switch *sdk {
	case "gradio", "docker", "static":
		return *sdk, nil
	case "streamlit":
		return "", badRequest(`The "streamlit" sdk is deprecated: create a "docker" Space instead (Streamlit apps now use the Docker template)`)
	}
	return "", badRequest(`Invalid sdk %q: must be one of gradio, docker, static`, *sdk)
}

// parseGated reads false, "auto" or "manual"; nil means not given.
func parseGated(raw json.RawMessage) (any, error) {
	switch string(bytes.TrimSpace(raw)) {
	case "", "null":
		return nil, nil
	case "false":
		return false, nil
	case `"auto"`:
		return "auto", nil
	case `"manual"`:
		return "manual", nil
	}
	return nil, badRequest(`"gated" must be false, "auto" or "manual"`)
}

func checkSettingsEnums(req settingsRequest) error {
	if s := req.DiscussionsSorting; s != nil && *s != "recently-created" && *s != "trending" && *s != "reactions" {
		return badRequest(`"discussionsSorting" must be one of recently-created, trending, reactions`)
	}
	if m := req.GatedNotificationsMode; m != nil && *m != "bulk" && *m != "real-time" {
		return badRequest(`"gatedNotificationsMode" must be one of bulk, real-time`)
	}
	if e := req.GatedNotificationsEmail; e != nil && !strings.Contains(*e, "@") {
		return badRequest(`"gatedNotificationsEmail" must be an email address`)
	}
	return nil
}
