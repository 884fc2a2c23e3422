package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// xetListingRoutes are the route table's rows of listings whose file entries carry xetHash.
var xetListingRoutes = map[string]bool{
	"GET /api/{t}/{repo}/tree/{rev}":           true,
	"GET /api/{t}/{repo}/tree/{rev}/{path...}": true,
	"POST /api/{t}/{repo}/paths-info/{rev}":    true,
}

// maxHTTPDownload is huggingface_hub's limit for a plain HTTP download (MAX_HTTP_DOWNLOAD_SIZE): larger files
// keep their Xet hint, as only Xet can fetch them.
const maxHTTPDownload = 50 * 1000 * 1000 * 1000

// maxListingBody bounds the listing read to rewrite it; a page holds at most 1000 entries, far below it. A
// longer body passes unchanged.
const maxListingBody = 32 << 20

// stripXetHashes removes xetHash from the file entries of a tree or paths-info answer, for files up to
// maxHTTPDownload, so that huggingface_hub (1.22 and later with hf_xet, which skips the download HEAD for such
// entries) downloads them through hf-micro's /resolve/ and its cache instead of from Xet storage directly. The
// entries are otherwise kept (their keys re-ordered); an answer hf-micro cannot read passes as it came.
func stripXetHashes(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Body == nil {
		return nil
	}
	body := io.Reader(resp.Body)
	switch strings.ToLower(resp.Header.Get("Content-Encoding")) {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			return err
		}
		body = gz
	default:
		return nil // an encoding hf-micro does not read: the hints stay
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxListingBody+1))
	if err != nil {
		return err
	}
	out := raw
	if len(raw) <= maxListingBody {
		if stripped, ok := withoutXetHashes(raw); ok {
			out = stripped
		}
	}
	rest := resp.Body
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(out), body), rest}
	resp.Header.Del("Content-Encoding")
	if len(raw) <= maxListingBody {
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	} else {
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
	}
	return nil
}

// withoutXetHashes rewrites a JSON array of entries without the xetHash of files up to maxHTTPDownload; ok is
// false when nothing changed or the body is not such an array.
func withoutXetHashes(raw []byte) (out []byte, ok bool) {
	var entries []map[string]json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		return nil, false
	}
	changed := false
	for _, e := range entries {
		if _, has := e["xetHash"]; !has {
			continue
		}
		var size int64
		if json.Unmarshal(e["size"], &size) != nil || size > maxHTTPDownload {
			continue
		}
		delete(e, "xetHash")
		changed = true
	}
	if !changed {
		return nil, false
	}
	out, err := json.Marshal(entries)
	return out, err == nil
}
