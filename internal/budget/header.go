package budget

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// RateLimit is what the Hub's RateLimit header says (IETF draft v9, as the Hub writes it):
// `"api";r=489;t=189` is 489 requests left in the api bucket, and the window resets in 189 seconds.
type RateLimit struct {
	Bucket    hubroute.Bucket
	Remaining int
	Reset     time.Duration
}

// String writes the header value in the Hub's syntax. The reset is rounded up to whole seconds, so a client
// that waits t seconds, as huggingface_hub does when r=0, never comes back before the window has turned.
func (r RateLimit) String() string {
	return fmt.Sprintf(`"%s";r=%d;t=%d`, r.Bucket, max(r.Remaining, 0), ceilSeconds(r.Reset))
}

// Policy writes the RateLimit-Policy header value in the Hub's syntax:
// `"fixed window";"api";q=600;w=300`.
func Policy(bucket hubroute.Bucket, limit Limit) string {
	return fmt.Sprintf(`"fixed window";"%s";q=%d;w=%d`, bucket, limit.Count, ceilSeconds(limit.Window))
}

// ParseRateLimit reads a RateLimit header value as the Hub writes it. Spaces around the separators and
// unknown parameters are allowed; the bucket, r and t are required.
func ParseRateLimit(v string) (RateLimit, bool) {
	quoted, params, _ := strings.Cut(v, ";")
	quoted = strings.TrimSpace(quoted)
	if len(quoted) < 3 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return RateLimit{}, false
	}
	bucket := quoted[1 : len(quoted)-1]
	rl := RateLimit{Bucket: hubroute.Bucket(bucket)}
	var haveR, haveT bool
	for param := range strings.SplitSeq(params, ";") {
		key, value, _ := strings.Cut(param, "=")
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			continue
		}
		switch strings.TrimSpace(key) {
		case "r":
			rl.Remaining, haveR = n, true
		case "t":
			rl.Reset, haveT = time.Duration(n)*time.Second, true
		}
	}
	return rl, haveR && haveT
}

// The Hub's rate-limit headers, spelled as net/http keys them (textproto.CanonicalMIMEHeaderKey), so that
// reading or setting one on every request costs no respelling.
const (
	RateLimitHeader       = "Ratelimit"
	RateLimitPolicyHeader = "Ratelimit-Policy"
)

// Bounds on a shield: a Hub that says t=0 still gets a second's rest, and a broken header cannot stop a bucket
// for longer than an hour (the Hub's windows are five minutes).
const (
	minShield     = time.Second
	maxShield     = time.Hour
	defaultShield = 60 * time.Second
)

// ShieldReset reads how long to stop asking the Hub after it answered 429 with these headers: RateLimit's t,
// else Retry-After (seconds or an HTTP date), else 60 seconds.
func ShieldReset(h http.Header, now time.Time) time.Duration {
	reset := defaultShield
	if rl, ok := ParseRateLimit(h.Get(RateLimitHeader)); ok {
		reset = rl.Reset
	} else if v := h.Get("Retry-After"); v != "" {
		if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
			reset = time.Duration(secs) * time.Second
		} else if when, err := http.ParseTime(v); err == nil {
			reset = when.Sub(now)
		}
	}
	return min(max(reset, minShield), maxShield)
}

// SetHeaders writes the decision on a reply in the Hub's syntax: RateLimit and RateLimit-Policy always, and
// Retry-After when the request is refused.
func (d Decision) SetHeaders(h http.Header, bucket hubroute.Bucket) {
	h.Set(RateLimitHeader, RateLimit{Bucket: bucket, Remaining: d.Remaining, Reset: d.Reset}.String())
	h.Set(RateLimitPolicyHeader, Policy(bucket, d.Limit))
	if !d.Allowed {
		h.Set("Retry-After", strconv.FormatInt(ceilSeconds(d.Reset), 10))
	}
}

func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}
