package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// flaky answers each request with the next of statuses (0: cut the connection), then 200.
func flaky(statuses ...int) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			if statuses[i] == 0 {
				panic(http.ErrAbortHandler)
			}
			w.WriteHeader(statuses[i])
			return
		}
		replyJSON(200, `{"_id":"1","id":"a/b","name":"alice"}`)(w, r)
	}, &n
}

func TestReadsAreRetried(t *testing.T) {
	for _, statuses := range [][]int{{503}, {502, 504}, {0}, {0, 503}} {
		handler, n := flaky(statuses...)
		_, c := newTestHub(t, handler)
		if _, err := c.WhoAmI(context.Background()); err != nil {
			t.Errorf("%v: %v", statuses, err)
		}
		if int(n.Load()) != len(statuses)+1 {
			t.Errorf("%v: %d attempts", statuses, n.Load())
		}
	}
}

func TestRetriesAreReportedWithTheirReason(t *testing.T) {
	// A cut connection comes first: on a fresh connection net/http does not retry it by itself.
	for statuses, want := range map[[2]int]string{{0, 503}: "[network 503]", {503, 502}: "[503 502]"} {
		handler, _ := flaky(statuses[:]...)
		_, c := newTestHub(t, handler)
		var reasons []string
		c.onRetry = func(reason string) { reasons = append(reasons, reason) }
		if _, err := c.WhoAmI(context.Background()); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(reasons) != want {
			t.Errorf("%v: retries reported: %q; want %s", statuses, reasons, want)
		}
	}
}

func TestRetriesStop(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int
		call     func(*Client) error
		attempts int32
	}{
		{"three attempts at most", []int{503, 503, 503, 503}, func(c *Client) error { _, err := c.WhoAmI(context.Background()); return err }, 3},
		{"429 is not retried", []int{429}, func(c *Client) error { _, err := c.WhoAmI(context.Background()); return err }, 1},
		{"500 is not retried", []int{500}, func(c *Client) error { _, err := c.WhoAmI(context.Background()); return err }, 1},
		{"404 is not retried", []int{404}, func(c *Client) error {
			_, err := c.RepoInfo(context.Background(), Model, RepoID{"a", "b"}, "")
			return err
		}, 1},
		{"a create is never retried", []int{503}, func(c *Client) error {
			_, err := c.CreateRepo(context.Background(), CreateRepoRequest{Type: Model, ID: RepoID{"a", "b"}})
			return err
		}, 1},
		{"a cut create is never retried", []int{0}, func(c *Client) error {
			_, err := c.CreateRepo(context.Background(), CreateRepoRequest{Type: Model, ID: RepoID{"a", "b"}})
			return err
		}, 1},
		{"a delete is never retried", []int{502}, func(c *Client) error { return c.DeleteRepo(context.Background(), Model, RepoID{"a", "b"}) }, 1},
		{"settings are never retried", []int{504}, func(c *Client) error {
			_, err := c.UpdateSettings(context.Background(), Model, RepoID{"a", "b"}, Settings{Gated: "auto"})
			return err
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			handler, n := flaky(tc.statuses...)
			_, c := newTestHub(t, handler)
			if err := tc.call(c); err == nil {
				t.Error("no error")
			}
			if n.Load() != tc.attempts {
				t.Errorf("%d attempts, want %d", n.Load(), tc.attempts)
			}
		})
	}
}

// TestRetryStaysInsideTheDeadline runs in a synctest bubble with a Hub in memory that answers 503 at once:
// the only time that passes on the fake clock is the backoff's, so the test sees exactly whether a retry waited
// past the caller's 20 ms, whatever the machine's speed. The backoff is random (a 0-100 ms wait first): many
// calls make sure some draw a wait longer than the deadline.
func TestRetryStaysInsideTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const deadline = 20 * time.Millisecond
		for range 50 {
			var n atomic.Int32
			c := newMemoryClient(t, func(r *http.Request) (*http.Response, error) {
				n.Add(1)
				return &http.Response{StatusCode: 503, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
			})
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			start := time.Now()
			_, err := c.WhoAmI(ctx)
			elapsed := time.Since(start)
			cancel()
			var he *Error
			if !errors.As(err, &he) || he.Status != 503 {
				t.Fatalf("err = %v, want the Hub's 503", err)
			}
			if elapsed >= deadline {
				t.Fatalf("the call took %v after %d attempts: a backoff waited past the %v deadline", elapsed, n.Load(), deadline)
			}
		}
	})
}

func TestRetryBudget(t *testing.T) {
	statuses := make([]int, 1000) // every request fails
	for i := range statuses {
		statuses[i] = 503
	}
	handler, n := flaky(statuses...)
	_, c := newTestHub(t, handler)
	const calls = 50
	for range calls {
		_, _ = c.WhoAmI(context.Background())
	}
	// A full budget of 10, plus a tenth of a retry per call: far fewer than the 2 retries each call could take.
	if retries := n.Load() - calls; retries > budgetMax+calls/10+1 {
		t.Errorf("%d calls made %d retries", calls, retries)
	} else {
		t.Logf("%d failing calls made %d retries", calls, retries)
	}
}
