package budget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// Store counts requests against budgets and remembers shields. Its methods never fail: a store that cannot
// reach its backend answers from memory instead (see Redis), because a budget must never break a request.
type Store interface {
	// Take counts one request of principal in bucket against limit, and says whether it may go on.
	Take(ctx context.Context, principal string, bucket hubroute.Bucket, limit Limit) Decision
	// Shield stops requests made with credentialKey in bucket for reset: the Hub answered 429.
	Shield(ctx context.Context, credentialKey string, bucket hubroute.Bucket, reset time.Duration)
	// Shielded reports whether requests made with credentialKey in bucket are stopped, and for how long.
	Shielded(ctx context.Context, credentialKey string, bucket hubroute.Bucket) (reset time.Duration, shielded bool)
	// Admit is Shielded, then (unless shielded, and when limit is not nil) Take, in one step: one round trip
	// to a shared store per request. A shielded request is not counted.
	Admit(ctx context.Context, credentialKey, principal string, bucket hubroute.Bucket, limit *Limit) Admission
}

// Decision is the outcome of one counted request.
type Decision struct {
	Allowed   bool
	Remaining int           // requests left in the window after this one
	Reset     time.Duration // until the window ends
	Limit     Limit
}

// CredentialKey is the key under which a Hub credential is shielded: the hex SHA-256 digest of the token, so
// that no store, local or shared, ever holds a token in clear.
func CredentialKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// decide turns the count of requests in the window, this one included, into a Decision.
func decide(n int64, limit Limit, reset time.Duration) Decision {
	return Decision{
		Allowed:   n <= int64(limit.Count),
		Remaining: int(max(int64(limit.Count)-n, 0)),
		Reset:     reset,
		Limit:     limit,
	}
}

// Admission is the outcome of Admit: the shield first, then the budget.
type Admission struct {
	Shielded    bool          // the Hub said no to this credential in this bucket: answer 429, not counted
	ShieldReset time.Duration // until the shield lifts
	Counted     bool          // a budget applied: Decision holds it
	Decision    Decision
}

// Allowed reports whether the request may go on to the Hub.
func (a Admission) Allowed() bool { return !a.Shielded && (!a.Counted || a.Decision.Allowed) }
