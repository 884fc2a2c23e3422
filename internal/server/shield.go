package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hubroute"
	"github.com/hf-micro/hf-micro/internal/metrics"
)

// shieldTransport is the one place that sees every Hub answer, the simple API's and the drop-in's: a 429
// raises the shield for that credential and bucket until the reset the Hub gave (budget.ShieldReset), and
// the Hub's RateLimit is weighed against the request's budget for the reply.
// It also gives the metrics each call's bucket, status (0 when the Hub was not reached) and duration, and
// what is left of the server token's quota.
type shieldTransport struct {
	base    http.RoundTripper
	store   budget.Store
	metrics *metrics.Registry
}

func (t shieldTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	note := noteFrom(req.Context())
	bucket := hubroute.API // a Hub call made apart from a request: the account cache's whoami-v2
	if note != nil && note.bucket != "" {
		bucket = note.bucket
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.metrics.HubCall(string(bucket), 0, time.Since(start))
		return resp, err
	}
	t.metrics.HubCall(string(bucket), resp.StatusCode, time.Since(start))
	if resp.StatusCode == http.StatusTooManyRequests {
		// Raised even if the caller has gone away: the Hub's no holds for everyone.
		t.store.Shield(context.WithoutCancel(req.Context()), requestShieldKey(req), bucket, budget.ShieldReset(resp.Header, time.Now()))
		t.metrics.ShieldRaise(string(bucket))
	}
	if note != nil {
		if note.serverToken && t.metrics != nil {
			if rl, ok := budget.ParseRateLimit(resp.Header.Get(budget.RateLimitHeader)); ok {
				t.metrics.HubRateLimitRemaining(string(rl.Bucket), rl.Remaining)
			}
		}
		note.passRateLimit(resp.Header)
	}
	return resp, nil
}

// requestShieldKey names the credential a Hub request carries, as shieldKey does: the digest of its token.
func requestShieldKey(req *http.Request) string {
	token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return anonymousKey
	}
	return budget.CredentialKey(token)
}
