package server

import "net/http"

// handleAccount answers with the Hub's whoami-v2 for the server's token, every field as the Hub sent it.
func handleAccount(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		account, err := d.hub.WhoAmI(r.Context())
		if err != nil {
			return err
		}
		writeRawJSON(w, http.StatusOK, account)
		return nil
	}
}
