package server

import (
	"net/http"

	"github.com/hf-micro/hf-micro/internal/hub"
	"github.com/hf-micro/hf-micro/internal/policy"
)

// handleAccount answers with the Hub's whoami-v2 for the token in use (the server's, or the caller's own),
// through the account cache, every field as the Hub sent it; while the Hub shield holds, from the cache alone.
func handleAccount(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		caller, _ := callerFrom(r.Context())
		hubClient, err := d.hubFor(r, policy.Read, "", hub.RepoID{})
		if ae, ok := err.(*apiError); ok && ae.shielded {
			// The Hub is not asked while it says no, but a fresh answer it gave is still true.
			if account, fresh := d.accounts.fresh(credentialKey(caller)); fresh {
				writeRawJSON(w, http.StatusOK, account)
				return nil
			}
		}
		if err != nil {
			return err
		}
		account, err := d.accounts.get(r.Context(), credentialKey(caller), hubClient)
		if err != nil {
			return err
		}
		writeRawJSON(w, http.StatusOK, account)
		return nil
	}
}
