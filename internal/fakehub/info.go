package fakehub

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Where a property appears without expand.
const (
	inInfo = 1 << iota // the repo info payload
	inList             // listing items
)

type prop struct {
	key   string
	value any
	in    int // inInfo|inList, or 0 for expand only
}

// props lists everything the fake can say about a repo, in the order the Hub writes it. The
// default info payload, listing items and `expand` all pick from this one list, so every field a
// client may expand (Python validates expand against such lists) has an answer.
func (rp *repo) props() []prop {
	created := iso(rp.CreatedAt)
	p := []prop{{"_id", rp.ObjectID, inInfo | inList}, {"id", rp.ID, inInfo | inList}}
	if rp.Type == "model" {
		p = append(p, prop{"modelId", rp.ID, inInfo | inList})
	}
	p = append(p,
		prop{"author", rp.namespace(), inInfo},
		prop{"sha", rp.sha, inInfo},
		prop{"lastModified", created, inInfo}, // no commits ever land, so it stays at creation
		prop{"createdAt", created, inInfo | inList},
		prop{"private", rp.Private, inInfo | inList},
		prop{"gated", rp.Gated, inInfo},
		prop{"disabled", false, inInfo},
	)
	if rp.Type != "space" { // Spaces count likes, not downloads
		p = append(p, prop{"downloads", 0, inInfo | inList}, prop{"downloadsAllTime", 0, 0})
	}
	p = append(p,
		prop{"likes", 0, inInfo | inList},
		prop{"trendingScore", 0, inList},
		prop{"tags", []string{}, inInfo | inList},
		prop{"cardData", nil, 0},
	)
	switch rp.Type {
	case "model":
		p = append(p,
			prop{"pipeline_tag", nil, inList},
			prop{"library_name", nil, inList},
			prop{"config", nil, 0},
			prop{"transformersInfo", nil, 0},
			prop{"safetensors", nil, 0},
			prop{"gguf", nil, 0},
			prop{"inference", nil, 0},
			prop{"inferenceProviderMapping", nil, 0},
			prop{"widgetData", nil, 0},
			prop{"mask_token", nil, 0},
			prop{"model-index", nil, 0},
			prop{"baseModels", nil, 0},
			prop{"childrenModelCount", 0, 0},
			prop{"spaces", []string{}, 0},
		)
	case "dataset":
		p = append(p,
			prop{"paperswithcode_id", nil, 0},
			prop{"citation", nil, 0},
			prop{"description", nil, 0},
		)
	case "space":
		subdomain := spaceSubdomain(rp.ID)
		p = append(p,
			prop{"sdk", rp.SDK, inInfo | inList},
			prop{"subdomain", subdomain, inInfo},
			prop{"host", "https://" + subdomain + ".hf.space", inInfo},
			prop{"runtime", spaceRuntime(rp.SDK), inInfo},
			prop{"models", []string{}, 0},
			prop{"datasets", []string{}, 0},
		)
	}
	return append(p,
		prop{"siblings", []object{{{"rfilename", ".gitattributes"}}, {{"rfilename", "README.md"}}}, inInfo},
		prop{"usedStorage", 0, 0},
		prop{"resourceGroup", nil, 0},
		prop{"xetEnabled", false, 0},
	)
}

// spaceRuntime follows the recordings: a new gradio/docker Space is BUILDING on cpu-basic, a
// static one RUNNING on no hardware.
func spaceRuntime(sdk string) object {
	if sdk == "static" {
		return object{{"stage", "RUNNING"}, {"hardware", object{{"current", nil}, {"requested", nil}}},
			{"storage", nil}, {"replicas", object{{"requested", 1}, {"current", 1}}}}
	}
	return object{{"stage", "BUILDING"}, {"hardware", object{{"current", nil}, {"requested", "cpu-basic"}}},
		{"storage", nil}, {"replicas", object{{"requested", 1}}}}
}

// spaceSubdomain is how the Hub names a Space's host: user/tmp_test_space -> user-tmp-test-space.
func spaceSubdomain(id string) string {
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-", ".", "-").Replace(id))
}

// pick builds a reply object: the properties marked with where, or with expand _id and id plus
// the expanded ones.
func pick(props []prop, where int, expand []string) object {
	var o object
	for _, p := range props {
		if p.key == "_id" || p.key == "id" || (expand == nil && p.in&where != 0) || slices.Contains(expand, p.key) {
			o = append(o, field{p.key, p.value})
		}
	}
	return o
}

// parseExpand reads `expand` (repeated) and the literal `expand[]` key JS uses, and refuses
// values the repo type does not know. It returns nil when nothing is expanded.
func parseExpand(q url.Values, typ string) ([]string, error) {
	var valid []string
	for _, p := range (&repo{Repo: Repo{Type: typ}}).props() {
		if p.key != "_id" && p.key != "id" && p.key != "modelId" {
			valid = append(valid, p.key)
		}
	}
	var expand []string
	for _, v := range append(q["expand"], q["expand[]"]...) {
		if !slices.Contains(valid, v) {
			slices.Sort(valid)
			return nil, badRequest(`Invalid expand value %q: must be one of %s`, v, strings.Join(valid, ", "))
		}
		expand = append(expand, v)
	}
	return expand, nil
}

// acceptedRevision: the fake has one branch and one open PR per repo.
func acceptedRevision(rev string, rp *repo) bool {
	switch rev {
	case "", "main", "HEAD", "refs/pr/1", rp.sha:
		return true
	}
	return false
}

func (h *Hub) repoInfo(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) error {
		expand, err := parseExpand(r.URL.Query(), typ)
		if err != nil {
			return err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		rp := h.repos[repoKey(typ, r.PathValue("ns")+"/"+r.PathValue("name"))]
		if rp == nil || !h.canSee(c, rp) {
			return errRepoHidden(c)
		}
		if rev := r.PathValue("rev"); !acceptedRevision(rev, rp) {
			return &hubError{status: http.StatusNotFound, code: "RevisionNotFound", msg: "Invalid rev id: " + rev}
		}
		writeJSON(w, http.StatusOK, pick(rp.props(), inInfo, expand))
		return nil
	}
}
