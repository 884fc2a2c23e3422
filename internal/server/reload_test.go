package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/hf-micro/hf-micro/internal/auth"
)

// TestReloadRefusesARemovedKeyWhileItsDownloadFinishes: a key removed from the access file is refused from the
// next request on, while the download it started before goes on to its last byte.
func TestReloadRefusesARemovedKeyWhileItsDownloadFinishes(t *testing.T) {
	const firstHalf, secondHalf = "first half of the file;", " and the second half."
	started, release := make(chan struct{}), make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/hub/acme/big/resolve/main/weights.bin" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", "44")
		io.WriteString(w, firstHalf)
		w.(http.Flusher).Flush()
		close(started)
		<-release // the download is in flight until the test lets it finish
		io.WriteString(w, secondHalf)
	}))
	t.Cleanup(upstream.Close)

	removed, kept := auth.GenerateKey(), auth.GenerateKey()
	path := filepath.Join(t.TempDir(), "access.toml")
	write := func(content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(accessKey("removed", removed, `read = ["*"]`) + accessKey("kept", kept, `read = ["*"]`))
	access, err := auth.OpenAccess(path)
	if err != nil {
		t.Fatal(err)
	}
	h := startServer(t, nil, upstream.URL+"/hub", "hf_servertoken", setup{
		opts: Options{Auth: auth.Options{Access: access}}, secrets: []string{removed, kept}})

	req, _ := http.NewRequest("GET", h.url+"/acme/big/resolve/main/weights.bin", nil)
	req.Header.Set("Authorization", "Bearer "+removed)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	first := make([]byte, len(firstHalf))
	if _, err := io.ReadFull(resp.Body, first); err != nil || string(first) != firstHalf {
		t.Fatalf("the download's start: %q, %v", first, err)
	}

	write(accessKey("kept", kept, `read = ["*"]`))
	if changed, err := access.Reload(); !changed || err != nil {
		t.Fatalf("reload: %v, %v", changed, err)
	}
	checkError(t, h.send(t, "GET", "/api/models/acme/big", "", "Bearer "+removed, ""), 401, "unknown client key")
	if r := h.send(t, "GET", "/api/models/acme/big", "", "Bearer "+kept, ""); r.status != 404 { // the upstream's answer
		t.Errorf("the kept key: %d %s", r.status, r.body)
	}

	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != secondHalf || resp.StatusCode != 200 {
		t.Errorf("the download in flight: %d, %q, %v", resp.StatusCode, rest, err)
	}
}
