package server

import (
	"net/http"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// exchangeReply is what POST /api/identity/exchange answers: a short-lived key any Hub client can use as its
// token, for the identity the ID token proved.
type exchangeReply struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Principal string    `json:"principal"`
}

// handleIdentityExchange trades a workload's OIDC ID token for a short-lived key: a CI job then holds no
// secret, and clients that only take hf_ tokens (@huggingface/hub) work with the key.
func handleIdentityExchange(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !d.auth.CanExchange() {
			return &apiError{status: http.StatusNotFound,
				msg: "identity exchange is off on this hf-micro: the server sets HF_MICRO_SIGNING_KEY and an access file with [[identity]] entries"}
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		token = strings.TrimSpace(token)
		if !strings.EqualFold(scheme, "Bearer") || !auth.LooksLikeJWT(token) {
			d.opts.Metrics.Auth("refused", "")
			w.Header().Set("WWW-Authenticate", `Bearer realm="hf-micro"`)
			return &apiError{status: http.StatusUnauthorized,
				msg: "send the workload's OIDC ID token as Authorization: Bearer <token> (a key cannot be exchanged)"}
		}
		caller, err := d.auth.VerifyIdentity(r.Context(), token)
		if err != nil {
			d.opts.Metrics.Auth(authFailure(err), "")
			return authError(w, err)
		}
		d.opts.Metrics.Auth("ok", caller.String())
		info := reqctx.From(r.Context())
		info.Caller, info.Subject = caller.String(), caller.Subject
		key, expires, err := d.auth.Exchange(caller, time.Now())
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, exchangeReply{Token: key, ExpiresAt: expires.UTC(), Principal: caller.Name})
		return nil
	}
}
