package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestStripXetHashes: xetHash goes from entries up to 50 GB and stays on larger ones; a gzip answer is read
// and sent plain; an answer that is not a JSON listing passes unchanged.
func TestStripXetHashes(t *testing.T) {
	listing := `[{"type":"file","path":"a.bin","size":10,"lfs":{"oid":"x","size":10},"xetHash":"h1"},` +
		`{"type":"file","path":"huge.bin","size":60000000000,"xetHash":"h2"},{"type":"directory","path":"d","size":0}]`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(listing))
	zw.Close()
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"},
		"Content-Encoding": {"gzip"}}, Body: io.NopCloser(&gz)}
	if err := stripXetHashes(resp); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(out), `"h1"`) || !strings.Contains(string(out), `"xetHash":"h2"`) || !strings.Contains(string(out), `"path":"a.bin"`) ||
		resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != int64(len(out)) {
		t.Fatalf("stripped: %s %v", out, resp.Header)
	}

	for _, body := range []string{`{"error":"x"}`, `not json`} {
		resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}
		if err := stripXetHashes(resp); err != nil {
			t.Fatal(err)
		}
		if out, _ := io.ReadAll(resp.Body); string(out) != body {
			t.Errorf("%q became %q", body, out)
		}
	}
}
