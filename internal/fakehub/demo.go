package fakehub

import "fmt"

// Demo returns a seeded world for the demo mode and a write token for its user "demo".
func Demo() (h *Hub, demoToken string) {
	h = New()
	h.addUser("demo", "Demo User")
	h.addUser("community", "Community")
	h.addOrg("demo-org", "Demo Org", map[string]string{"demo": "admin"})
	demoToken = h.IssueToken("demo", RoleWrite)

	h.AddRepo("model", "demo/hello-model", false)
	h.AddRepo("model", "demo/secret-model", true)
	h.AddRepo("model", "demo-org/shared-model", false)
	h.AddRepo("dataset", "demo/notes-dataset", false)
	h.AddRepo("dataset", "demo-org/shared-dataset", false)
	h.AddRepo("space", "demo/hello-space", false)
	h.AddRepo("kernel", "demo/hello-kernel", false)
	// Enough public models that listing with a small limit paginates.
	for i := 1; i <= 30; i++ {
		h.AddRepo("model", fmt.Sprintf("community/model-%02d", i), false)
	}
	return h, demoToken
}
