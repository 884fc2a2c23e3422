package budget

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hf-micro/hf-micro/internal/hubroute"
)

// Limits a quota may take: a window under a second cannot be written in the s/m/h syntax, and one over a day
// or a count over a billion is a typing mistake rather than a budget.
const (
	maxWindow = 24 * time.Hour
	maxCount  = 1_000_000_000
)

// Limit is a quota: Count requests per fixed Window.
type Limit struct {
	Count  int
	Window time.Duration
}

// ParseLimit reads a quota written "N/window", the window a whole number of seconds, minutes or hours:
// "600/5m", "5/10s", "1000/1h".
func ParseLimit(s string) (Limit, error) {
	count, window, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, fmt.Errorf("limit %q: want N/window, such as 600/5m", s)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxCount {
		return Limit{}, fmt.Errorf("limit %q: the count must be a whole number from 1 to %d", s, maxCount)
	}
	w, err := parseWindow(window)
	if err != nil {
		return Limit{}, fmt.Errorf("limit %q: %w", s, err)
	}
	return Limit{Count: n, Window: w}, nil
}

func parseWindow(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("the window is missing: want a number and s, m or h, such as 5m")
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	default:
		return 0, fmt.Errorf("window %q: want a number and s, m or h, such as 5m", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 1 || time.Duration(n) > maxWindow/unit {
		return 0, fmt.Errorf("window %q: must be from 1s to %s", s, maxWindow)
	}
	return time.Duration(n) * unit, nil
}

// String writes the limit back in the syntax ParseLimit reads, in the largest unit that divides the window.
func (l Limit) String() string {
	switch {
	case l.Window%time.Hour == 0:
		return fmt.Sprintf("%d/%dh", l.Count, l.Window/time.Hour)
	case l.Window%time.Minute == 0:
		return fmt.Sprintf("%d/%dm", l.Count, l.Window/time.Minute)
	default:
		return fmt.Sprintf("%d/%ds", l.Count, l.Window/time.Second)
	}
}

// window returns the start of the fixed window that holds now, and the time left until it ends. Windows are
// aligned to the clock (start = floor(now / window) * window, counted from the Unix epoch), so every replica
// computes the same window from its own clock, without asking anyone.
func (l Limit) window(now time.Time) (start time.Time, reset time.Duration) {
	w := int64(l.Window)
	ns := now.UnixNano()
	start = time.Unix(0, ns-ns%w)
	return start, start.Add(l.Window).Sub(now)
}

// Limits are one principal's quotas, per bucket; a bucket without one is not counted.
type Limits map[hubroute.Bucket]*Limit

// Buckets are the Hub's rate-limit buckets a quota may be set for.
var Buckets = []hubroute.Bucket{hubroute.API, hubroute.Resolvers, hubroute.Pages}

// ParseLimits reads the limits of an access file: bucket name to quota, such as api = "600/5m". The error
// names the first bucket or quota that is wrong.
func ParseLimits(raw map[string]string) (Limits, error) {
	limits := Limits{}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		bucket := hubroute.Bucket(name)
		if !slices.Contains(Buckets, bucket) {
			return nil, fmt.Errorf("unknown bucket %q: the buckets are api, resolvers and pages", name)
		}
		limit, err := ParseLimit(raw[name])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		limits[bucket] = &limit
	}
	return limits, nil
}

// For returns the limit of bucket, or nil when the bucket is not counted. The limit is shared: a request's
// budget step reads it and never writes it.
func (l Limits) For(bucket hubroute.Bucket) *Limit { return l[bucket] }

// String lists the limits in bucket order: "api 600/5m, resolvers 3000/5m", or "none".
func (l Limits) String() string {
	var parts []string
	for _, b := range Buckets {
		if limit, ok := l[b]; ok {
			parts = append(parts, string(b)+" "+limit.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
