package fakehub

import (
	"net/http"
	"slices"
	"strings"
)

// roleIn is what user may be in namespace ns: "owner" of their own, their roleInOrg in an org,
// or "" for nothing. Callers hold h.mu.
func (h *Hub) roleIn(user, ns string) string {
	switch {
	case user == "":
		return ""
	case strings.EqualFold(user, ns):
		return "owner"
	}
	if o := h.orgs[strings.ToLower(ns)]; o != nil {
		return o.members[strings.ToLower(user)]
	}
	return ""
}

// canSee: a private repo is visible to its owner and to every member of its org.
func (h *Hub) canSee(c call, rp *repo) bool {
	return !rp.Private || h.roleIn(c.user(), rp.namespace()) != ""
}

// canCreateIn: a write token of the owner, or of an org admin, writer or contributor.
func (h *Hub) canCreateIn(c call, ns string) bool {
	if !c.canWrite() {
		return false
	}
	switch h.roleIn(c.user(), ns) {
	case "owner", "admin", "write", "contributor":
		return true
	}
	return false
}

// canManage (delete, move, settings): like canCreateIn, but contributors only manage the repos
// they created, as on the Hub.
func (h *Hub) canManage(c call, rp *repo) bool {
	if !c.canWrite() {
		return false
	}
	switch h.roleIn(c.user(), rp.namespace()) {
	case "owner", "admin", "write":
		return true
	case "contributor":
		return strings.EqualFold(rp.creator, c.user())
	}
	return false
}

type whoamiReply struct {
	Type          string      `json:"type"`
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Fullname      string      `json:"fullname"`
	Email         string      `json:"email"`
	EmailVerified bool        `json:"emailVerified"`
	CanPay        bool        `json:"canPay"`
	IsPro         bool        `json:"isPro"`
	PeriodEnd     *int64      `json:"periodEnd"`
	AvatarURL     string      `json:"avatarUrl"`
	BillingMode   string      `json:"billingMode"`
	Orgs          []whoamiOrg `json:"orgs"`
	Auth          whoamiAuth  `json:"auth"`
}

type whoamiOrg struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Fullname  string `json:"fullname"`
	AvatarURL string `json:"avatarUrl"`
	RoleInOrg string `json:"roleInOrg"`
}

// whoamiAuth is required: the JS client reads auth.accessToken.createdAt and throws without it.
type whoamiAuth struct {
	Type        string `json:"type"`
	AccessToken struct {
		DisplayName string `json:"displayName"`
		Role        Role   `json:"role"`
		CreatedAt   string `json:"createdAt"`
	} `json:"accessToken"`
}

func (h *Hub) whoami(w http.ResponseWriter, r *http.Request, c call) error {
	if c.tok == nil {
		return errInvalidCredentials()
	}
	t := c.tok
	h.mu.Lock()
	u := h.users[strings.ToLower(t.user)]
	reply := whoamiReply{Type: "user", ID: u.objectID, Name: u.name, Fullname: u.fullname,
		Email: u.email, EmailVerified: true, AvatarURL: u.avatarURL, BillingMode: "postpaid",
		Orgs: []whoamiOrg{}}
	for _, o := range h.orgs {
		if role := o.members[strings.ToLower(u.name)]; role != "" {
			reply.Orgs = append(reply.Orgs, whoamiOrg{Type: "org", ID: o.objectID, Name: o.name,
				Fullname: o.fullname, AvatarURL: o.avatarURL, RoleInOrg: role})
		}
	}
	h.mu.Unlock()
	slices.SortFunc(reply.Orgs, func(a, b whoamiOrg) int { return strings.Compare(a.Name, b.Name) })
	reply.Auth.Type = "access_token"
	reply.Auth.AccessToken.DisplayName = t.displayName
	reply.Auth.AccessToken.Role = t.role
	reply.Auth.AccessToken.CreatedAt = iso(t.createdAt)
	writeJSON(w, http.StatusOK, reply)
	return nil
}
