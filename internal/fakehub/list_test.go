package fakehub

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var linkNext = regexp.MustCompile(`^<(https?://[^>]+)>; rel="next"$`)

// listAll follows Link rel="next" as the clients do and returns the ids of every page.
func listAll(t *testing.T, w *world, first, token string) (pages [][]string) {
	t.Helper()
	next := w.srv.URL + first
	for next != "" {
		r := send(t, next, "GET", token, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", next, r.status, r.body)
		}
		var items []map[string]any
		if err := jsonUnmarshal(r, &items); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it["id"].(string))
		}
		pages = append(pages, ids)
		next = ""
		if link := r.header.Get("Link"); link != "" {
			m := linkNext.FindStringSubmatch(link)
			if m == nil {
				t.Fatalf("Link %q is not <absolute-url>; rel=\"next\"", link)
			}
			next = m[1]
		}
		if len(pages) > 100 {
			t.Fatal("pagination does not end")
		}
	}
	return pages
}

func TestListPaginates(t *testing.T) {
	w := newWorld(t)
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("zed/m%02d", i)
		w.h.AddRepo("model", id, false)
		want = append(want, id)
	}
	pages := listAll(t, w, "/api/models?author=zed&limit=5&expand=likes&expand[]=private", "")
	if len(pages) != 3 || len(pages[0]) != 5 || len(pages[1]) != 5 || len(pages[2]) != 2 {
		t.Fatalf("pages = %v", pages)
	}
	if got := slices.Concat(pages...); !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}

	// The next link keeps the query as sent, adds the cursor and points at this server.
	r := w.do(t, "GET", "/api/models?author=zed&limit=5&expand=likes&expand[]=private", "", nil)
	link := linkNext.FindStringSubmatch(r.header.Get("Link"))
	if link == nil {
		t.Fatalf("Link = %q", r.header.Get("Link"))
	}
	u, err := url.Parse(link[1])
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host != w.srv.URL || u.Path != "/api/models" ||
		!strings.HasPrefix(u.RawQuery, "author=zed&limit=5&expand=likes&expand[]=private&cursor=") {
		t.Errorf("next = %s", link[1])
	}
	// Expanded items are _id, id and the requested fields.
	var items []map[string]any
	jsonUnmarshal(r, &items)
	if got := keys(items[0]); !slices.Equal(got, []string{"_id", "id", "likes", "private"}) {
		t.Errorf("expanded item keys = %v", got)
	}

	// A repo created between pages is not skipped nor repeated: the cursor marks a position.
	first := w.do(t, "GET", "/api/models?author=zed&limit=5", "", nil)
	w.h.AddRepo("model", "zed/late", false)
	rest := listAll(t, w, strings.TrimPrefix(linkNext.FindStringSubmatch(first.header.Get("Link"))[1], w.srv.URL), "")
	if got := slices.Concat(rest...); !slices.Equal(got, append(want[5:], "zed/late")) {
		t.Errorf("after an insert: %v", got)
	}
}

func TestListItemsAndFilters(t *testing.T) {
	w := newWorld(t)
	r := w.do(t, "GET", "/api/models?author=alice", "", nil)
	var items []map[string]any
	if err := jsonUnmarshal(r, &items); err != nil || r.header.Get("Link") != "" {
		t.Fatalf("%v, Link %q", err, r.header.Get("Link"))
	}
	if len(items) != 1 || items[0]["id"] != "alice/public-model" {
		t.Fatalf("anonymous sees %v", items)
	}
	want := []string{"_id", "createdAt", "downloads", "id", "library_name", "likes", "modelId", "pipeline_tag", "private", "tags", "trendingScore"}
	if got := keys(items[0]); !slices.Equal(got, want) {
		t.Errorf("model item keys = %v, want %v", got, want)
	}

	for _, c := range []struct {
		query, token string
		want         []string
	}{
		{"/api/models?author=ALICE", w.alice, []string{"alice/public-model", "alice/private-model"}}, // creation order
		{"/api/models?author=acme", w.bob, []string{"acme/team-model", "acme/team-secret"}},
		{"/api/models?author=acme", "", []string{"acme/team-model"}},
		{"/api/models?search=PRIVATE", w.alice, []string{"alice/private-model"}},
		{"/api/models?search=private", w.bob, nil},
		{"/api/models?search=team&author=acme", w.dave, []string{"acme/team-model", "acme/team-secret"}},
		{"/api/datasets", "", []string{"alice/data"}},
		{"/api/spaces?author=alice", "", []string{"alice/app"}},
		{"/api/models?author=nobody", "", nil},
	} {
		var got []string
		for _, page := range listAll(t, w, c.query, c.token) {
			got = append(got, page...)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	if r := w.do(t, "GET", "/api/models?author=nobody", "", nil); string(r.body) != "[]" {
		t.Errorf("empty listing = %s, want []", r.body)
	}
	r = w.do(t, "GET", "/api/spaces", "", nil)
	jsonUnmarshal(r, &items)
	if items[0]["sdk"] != "static" {
		t.Errorf("space item = %v", items[0])
	}
}

func TestListErrors(t *testing.T) {
	w := newWorld(t)
	for _, q := range []string{"limit=abc", "limit=0", "limit=-3", "cursor=%21%21", "cursor=bm90LWEtY3Vyc29y", "cursor=LTE", "expand=sdk"} {
		wantError(t, w.do(t, "GET", "/api/models?"+q, "", nil), http.StatusBadRequest, "", "")
	}
	// Over the maximum is clamped, not refused.
	if r := w.do(t, "GET", "/api/models?limit=5000", "", nil); r.status != http.StatusOK {
		t.Errorf("limit=5000: %d", r.status)
	}
}
