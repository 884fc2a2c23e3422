package server

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/hf-micro/hf-micro/internal/auth"
	"github.com/hf-micro/hf-micro/internal/budget"
	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// budgetNote is what the gate decided about one request's budget, kept with the request so that the Hub's
// answer can be weighed against it. withCaller makes it; admit fills it; the Hub transport (shield.go) reads it.
type budgetNote struct {
	header   http.Header     // the reply's headers
	bucket   hubroute.Bucket // "" until admitted
	counted  bool
	decision budget.Decision
	// proxied is set for the drop-in, whose proxy copies the Hub's headers onto the reply itself.
	proxied bool
	// serverToken is set when the request goes to the Hub with the server's token, whose quota the metrics show.
	serverToken bool
}

// anonymousKey stands for Hub calls made with no token: the Hub counts those per address.
const anonymousKey = "anonymous"

// shieldKey names the credential a caller's request goes to the Hub with, as the shield knows it: a digest,
// never the token. It matches requestShieldKey for the same token.
func (d *deps) shieldKey(caller auth.Caller) string {
	if !caller.UsesServerToken() {
		digest := caller.TokenDigest()
		return hex.EncodeToString(digest[:])
	}
	return d.serverShieldKey
}

// admit is the budget step, after authentication and policy: it answers 429 when the Hub has stopped this
// credential in this bucket (the shield) or when the principal has spent its budget, and otherwise counts the
// request and puts the budget on the reply. Callers with their own Hub tokens have no budget here (the Hub
// counts theirs) but are shielded all the same.
func (d *deps) admit(r *http.Request, caller auth.Caller, bucket hubroute.Bucket) error {
	var limit *budget.Limit
	if caller.UsesServerToken() {
		limit = caller.Limits.For(bucket)
	}
	a := d.budgets.Admit(r.Context(), d.shieldKey(caller), caller.String(), bucket, limit)
	note := noteFrom(r.Context())
	note.bucket, note.serverToken = bucket, caller.UsesServerToken()
	if a.Counted {
		note.counted, note.decision = true, a.Decision
		a.Decision.SetHeaders(note.header, bucket)
	}
	switch {
	case a.Shielded:
		d.opts.Metrics.ShieldAnswer(string(bucket))
		note.header.Set(budget.RateLimitHeader, budget.RateLimit{Bucket: bucket, Remaining: 0, Reset: a.ShieldReset}.String())
		whose := "hf-micro's Hub token"
		if !caller.UsesServerToken() {
			whose = "your Hub token"
		}
		return &apiError{status: http.StatusTooManyRequests, retryAfter: a.ShieldReset, shielded: true,
			msg: fmt.Sprintf("the Hub is rate-limiting %s in the %q bucket; hf-micro holds these requests back until it resets in %d s",
				whose, bucket, seconds(a.ShieldReset))}
	case a.Counted && !a.Decision.Allowed:
		d.opts.Metrics.BudgetRefusal(string(bucket))
		return &apiError{status: http.StatusTooManyRequests, retryAfter: a.Decision.Reset,
			msg: fmt.Sprintf("%s has used its budget of %d requests per %s in the %q bucket; it resets in %d s",
				caller, limit.Count, limit.Window, bucket, seconds(a.Decision.Reset))}
	}
	return nil
}

// passRateLimit leaves exactly one RateLimit on the reply: the Hub's own when it is tighter (fewer requests
// remaining) or there is no budget, else the budget's.
func (n *budgetNote) passRateLimit(hubHeader http.Header) {
	hubLimit, hubPolicy := hubHeader.Get(budget.RateLimitHeader), hubHeader.Get(budget.RateLimitPolicyHeader)
	if hubLimit == "" {
		return
	}
	hubTighter := !n.counted
	if rl, ok := budget.ParseRateLimit(hubLimit); ok && n.counted {
		hubTighter = rl.Remaining < n.decision.Remaining
	}
	switch {
	case n.proxied && hubTighter:
		n.header.Del(budget.RateLimitHeader) // the proxy copies the Hub's
		n.header.Del(budget.RateLimitPolicyHeader)
	case n.proxied:
		hubHeader.Del(budget.RateLimitHeader)
		hubHeader.Del(budget.RateLimitPolicyHeader)
	case hubTighter:
		n.header.Set(budget.RateLimitHeader, hubLimit)
		n.header.Del(budget.RateLimitPolicyHeader)
		if hubPolicy != "" {
			n.header.Set(budget.RateLimitPolicyHeader, hubPolicy)
		}
	}
}

// seconds rounds a wait up to whole seconds, as Retry-After and RateLimit's t say it.
func seconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }
