package hub

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
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

func TestRetryStaysInsideTheDeadline(t *testing.T) {
	handler, n := flaky(503, 503, 503)
	_, c := newTestHub(t, handler)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.WhoAmI(ctx)
	var he *Error
	if !errors.As(err, &he) || he.Status != 503 {
		t.Errorf("err = %v, want the Hub's 503", err)
	}
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Errorf("took %v with a 20ms deadline", elapsed)
	}
	if n.Load() > 2 {
		t.Errorf("%d attempts in 20ms", n.Load())
	}
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
