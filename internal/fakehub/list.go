package fakehub

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const (
	defaultListLimit = 50
	maxListLimit     = 1000
)

// listRepos serves GET /api/{models,datasets,spaces}: public repos plus the caller's visible
// private ones, oldest first (the Hub's default, trending, means nothing here), paginated by an
// opaque cursor announced in an absolute Link header (Python and JS refuse a relative one).
func (h *Hub) listRepos(typ string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, c call) error {
		q := r.URL.Query()
		limit, err := parseLimit(q.Get("limit"))
		if err != nil {
			return err
		}
		expand, err := parseExpand(q, typ)
		if err != nil {
			return err
		}
		after, err := parseCursor(q.Get("cursor"))
		if err != nil {
			return err
		}
		items, cursor := h.listPage(c, typ, q.Get("author"), strings.ToLower(q.Get("search")), after, limit, expand)
		if cursor != "" {
			w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next"`, nextPageURL(r, c.base, cursor)))
		}
		writeJSON(w, http.StatusOK, items)
		return nil
	}
}

// listPage returns the items of one page, and the cursor of the next when more follow.
func (h *Hub) listPage(c call, typ, author, search string, after uint32, limit int, expand []string) ([]object, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var found []*repo
	for _, rp := range h.repos {
		if rp.Type == typ && rp.seq > after && h.canSee(c, rp) &&
			(author == "" || strings.EqualFold(author, rp.namespace())) &&
			strings.Contains(strings.ToLower(rp.ID), search) {
			found = append(found, rp)
		}
	}
	slices.SortFunc(found, func(a, b *repo) int { return cmp.Compare(a.seq, b.seq) })
	page := found[:min(limit, len(found))]
	items := make([]object, len(page))
	for i, rp := range page {
		items[i] = pick(rp.props(), inList, expand)
	}
	if len(found) == len(page) {
		return items, ""
	}
	return items, cursorAfter(page[len(page)-1])
}

// parseLimit: absent means the default; larger than the maximum is clamped, as clients such as
// Python pass their own limit through and stop reading on their side.
func parseLimit(s string) (int, error) {
	if s == "" {
		return defaultListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badRequest(`Invalid "limit" %q: must be a positive integer`, s)
	}
	return min(n, maxListLimit), nil
}

// A cursor is the creation number of the last item of a page, so the next page stays right when
// repos come and go in between.
func cursorAfter(rp *repo) string {
	return base64.RawURLEncoding.EncodeToString(strconv.AppendUint(nil, uint64(rp.seq), 10))
}

// parseCursor returns the creation number after which the page starts (0 for the first page).
func parseCursor(s string) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	n, convErr := strconv.ParseUint(string(raw), 10, 32)
	if err != nil || convErr != nil {
		return 0, badRequest("Invalid cursor")
	}
	return uint32(n), nil
}

// nextPageURL is the request's own URL with the cursor replaced, keeping the query as sent
// (including JS's literal expand[] keys).
func nextPageURL(r *http.Request, base, cursor string) string {
	var params []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if k, _, _ := strings.Cut(p, "="); p != "" && k != "cursor" {
			params = append(params, p)
		}
	}
	params = append(params, "cursor="+url.QueryEscape(cursor))
	return base + r.URL.EscapedPath() + "?" + strings.Join(params, "&")
}
