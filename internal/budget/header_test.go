package budget

import (
	"net/http"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// The Hub's documented examples: hub-api.md §8 and §11.5, and huggingface_hub 1.2's message
// "Retry after 55 seconds (0/2500 requests remaining in current 300s window)".
func TestHeadersInTheHubsSyntax(t *testing.T) {
	for _, tc := range []struct {
		rl   RateLimit
		want string
	}{
		{RateLimit{hubroute.API, 489, 189 * time.Second}, `"api";r=489;t=189`},
		{RateLimit{hubroute.API, 0, 55 * time.Second}, `"api";r=0;t=55`},
		{RateLimit{hubroute.Resolvers, 3, 188*time.Second + time.Millisecond}, `"resolvers";r=3;t=189`}, // rounded up
		{RateLimit{hubroute.Pages, -1, time.Nanosecond}, `"pages";r=0;t=1`},
	} {
		if got := tc.rl.String(); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.rl, got, tc.want)
		}
	}
	if got, want := Policy(hubroute.API, Limit{2500, 5 * time.Minute}), `"fixed window";"api";q=2500;w=300`; got != want {
		t.Errorf("Policy = %s, want %s", got, want)
	}
	if got, want := Policy(hubroute.Resolvers, Limit{5, 10 * time.Second}), `"fixed window";"resolvers";q=5;w=10`; got != want {
		t.Errorf("Policy = %s, want %s", got, want)
	}
}

func TestParseRateLimit(t *testing.T) {
	for in, want := range map[string]RateLimit{
		`"api";r=489;t=189`:        {hubroute.API, 489, 189 * time.Second},
		`"api";r=0;t=55`:           {hubroute.API, 0, 55 * time.Second},
		`"resolvers" ; r=12 ; t=3`: {hubroute.Resolvers, 12, 3 * time.Second},
		`"pages";t=9;r=1;x=7`:      {hubroute.Pages, 1, 9 * time.Second},
	} {
		got, ok := ParseRateLimit(in)
		if !ok || got != want {
			t.Errorf("ParseRateLimit(%s) = %+v, %v; want %+v", in, got, ok, want)
		}
		if again, _ := ParseRateLimit(got.String()); again != got {
			t.Errorf("%+v does not survive String and ParseRateLimit: %+v", got, again)
		}
	}
	for _, in := range []string{``, `api;r=1;t=2`, `"api";r=1`, `"api";t=1`, `"";r=1;t=1`, `"api";r=x;t=1`, `"api";r=-1;t=1`} {
		if got, ok := ParseRateLimit(in); ok {
			t.Errorf("ParseRateLimit(%s) = %+v, accepted", in, got)
		}
	}
}

func TestShieldReset(t *testing.T) {
	now := epoch
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"RateLimit t", http.Header{"Ratelimit": {`"api";r=0;t=30`}, "Retry-After": {"90"}}, 30 * time.Second},
		{"Retry-After seconds", http.Header{"Retry-After": {"12"}}, 12 * time.Second},
		{"Retry-After date", http.Header{"Retry-After": {now.Add(45 * time.Second).UTC().Format(http.TimeFormat)}}, 45 * time.Second},
		{"nothing", http.Header{}, 60 * time.Second},
		{"unreadable", http.Header{"Ratelimit": {"soon"}, "Retry-After": {"later"}}, 60 * time.Second},
		{"t=0 still rests a second", http.Header{"Ratelimit": {`"api";r=0;t=0`}}, time.Second},
		{"a date in the past", http.Header{"Retry-After": {now.Add(-time.Hour).UTC().Format(http.TimeFormat)}}, time.Second},
		{"absurd t is capped", http.Header{"Ratelimit": {`"api";r=0;t=999999`}}, time.Hour},
	} {
		if got := ShieldReset(tc.header, now); got != tc.want {
			t.Errorf("%s: ShieldReset = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDecisionSetHeaders(t *testing.T) {
	limit := Limit{5, time.Minute}
	h := http.Header{}
	Decision{Allowed: true, Remaining: 4, Reset: 59500 * time.Millisecond, Limit: limit}.SetHeaders(h, hubroute.API)
	if got := h.Get("RateLimit"); got != `"api";r=4;t=60` {
		t.Errorf("RateLimit = %s", got)
	}
	if got := h.Get("RateLimit-Policy"); got != `"fixed window";"api";q=5;w=60` {
		t.Errorf("RateLimit-Policy = %s", got)
	}
	if got := h.Get("Retry-After"); got != "" {
		t.Errorf("an allowed request got Retry-After %s", got)
	}

	h = http.Header{}
	Decision{Allowed: false, Remaining: 0, Reset: 12 * time.Second, Limit: limit}.SetHeaders(h, hubroute.Resolvers)
	if got := h.Get("RateLimit"); got != `"resolvers";r=0;t=12` {
		t.Errorf("RateLimit = %s", got)
	}
	if got := h.Get("Retry-After"); got != "12" {
		t.Errorf("Retry-After = %q, want 12", got)
	}
}
