package hub

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A 307 or 308 repeats the call, body and all; a 303 goes on as a GET without the body or its type; a 3xx
// without a Location is the Hub's answer.
func TestRedirectsKeepOrDropTheBodyAsNetHTTPDoes(t *testing.T) {
	for _, tc := range []struct {
		status             int
		wantMethod         string
		wantBody, wantType bool
	}{
		{http.StatusTemporaryRedirect, "PUT", true, true},
		{http.StatusPermanentRedirect, "PUT", true, true},
		{http.StatusSeeOther, "GET", false, false},
		{http.StatusFound, "GET", false, false},
	} {
		th, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/old/") {
				w.Header().Set("Location", strings.Replace(r.URL.Path, "/old/", "/new/", 1))
				w.WriteHeader(tc.status)
				return
			}
			replyJSON(200, `{"private":true}`)(w, r)
		})
		private := true
		if _, err := c.UpdateSettings(context.Background(), Model, RepoID{"a", "old"}, Settings{Private: &private}); err != nil {
			t.Fatalf("%d: %v", tc.status, err)
		}
		got := th.last(t)
		if got.Method != tc.wantMethod || !strings.HasSuffix(got.Path, "/new/settings") {
			t.Errorf("%d: followed as %s %s", tc.status, got.Method, got.Path)
		}
		if (got.Body == `{"private":true}`) != tc.wantBody || (got.Header.Get("Content-Type") != "") != tc.wantType {
			t.Errorf("%d: body %q, Content-Type %q", tc.status, got.Body, got.Header.Get("Content-Type"))
		}
		if got.Header.Get("Authorization") != "Bearer "+testToken {
			t.Errorf("%d: a redirect on the Hub's own host lost the token", tc.status)
		}
	}

	_, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMovedPermanently) })
	var he *Error
	if _, err := c.WhoAmI(context.Background()); !errors.As(err, &he) || he.Status != http.StatusMovedPermanently {
		t.Errorf("a 301 without a Location gave %v; want the Hub's 301", err)
	}
}

func TestRedirectLoopStops(t *testing.T) {
	th, c := newTestHub(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	})
	_, err := c.WhoAmI(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "10 redirects") {
		t.Errorf("error %v; want a network error naming the redirects", err)
	}
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.seen) != maxRedirects+1 {
		t.Errorf("the Hub was called %d times; want %d", len(th.seen), maxRedirects+1)
	}
}
