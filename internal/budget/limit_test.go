package budget

import (
	"strings"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]Limit{
		"600/5m":        {600, 5 * time.Minute},
		"3000/5m":       {3000, 5 * time.Minute},
		"5/10s":         {5, 10 * time.Second},
		"10/1m":         {10, time.Minute},
		"1/24h":         {1, 24 * time.Hour},
		"1000000000/1s": {1_000_000_000, time.Second},
	} {
		got, err := ParseLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
		if s := got.String(); s != in {
			t.Errorf("%q written back as %q", in, s)
		}
	}
}

func TestParseLimitRejects(t *testing.T) {
	for in, wantErr := range map[string]string{
		"":                          "want N/window",
		"600":                       "want N/window",
		"0/5m":                      "count must be a whole number from 1",
		"-1/5m":                     "count must be a whole number from 1",
		"1000000001/1s":             "count must be a whole number from 1",
		"x/5m":                      "count must be a whole number from 1",
		" 600/5m":                   "count must be a whole number from 1",
		"600/":                      "window is missing",
		"600/0m":                    "must be from 1s to 24h0m0s",
		"600/-5m":                   "must be from 1s to 24h0m0s",
		"600/25h":                   "must be from 1s to 24h0m0s",
		"600/1441m":                 "must be from 1s to 24h0m0s",
		"600/99999999999999999999h": "must be from 1s to 24h0m0s",
		"600/m":                     "must be from 1s",
		"600/5":                     "want a number and s, m or h",
		"600/5d":                    "want a number and s, m or h",
		"600/5M":                    "want a number and s, m or h",
		"600/1.5m":                  "must be from 1s",
	} {
		_, err := ParseLimit(in)
		if err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseLimit(%q) error = %v; want it to name the input and say %q", in, err, wantErr)
		}
	}
}

func TestWindowIsAlignedToTheClock(t *testing.T) {
	limit := Limit{600, 5 * time.Minute}
	for _, tc := range []struct {
		now       time.Time
		wantStart time.Time
		wantReset time.Duration
	}{
		{epoch, epoch, 5 * time.Minute},                                           // on the boundary: a whole window
		{epoch.Add(time.Nanosecond), epoch, 5*time.Minute - time.Nanosecond},      // just after it
		{epoch.Add(111 * time.Second), epoch, 189 * time.Second},                  // the Hub's t=189
		{epoch.Add(5*time.Minute - time.Millisecond), epoch, time.Millisecond},    // the last instant
		{epoch.Add(5 * time.Minute), epoch.Add(5 * time.Minute), 5 * time.Minute}, // the next window
	} {
		start, reset := limit.window(tc.now)
		if !start.Equal(tc.wantStart) || reset != tc.wantReset {
			t.Errorf("window(%v) = %v, %v; want %v, %v", tc.now, start, reset, tc.wantStart, tc.wantReset)
		}
	}
	// Any moment of a window, on any replica, gives the same start: the store keys agree.
	a, _ := Limit{5, 10 * time.Second}.window(time.Unix(1_000_000_003, 0))
	b, _ := Limit{5, 10 * time.Second}.window(time.Unix(1_000_000_009, 999_999_999))
	if !a.Equal(b) || a.Unix() != 1_000_000_000 {
		t.Errorf("starts %v and %v; want both 1000000000", a.Unix(), b.Unix())
	}
}
