package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/reqctx"
)

// A file served through the access log's recorder takes net/http's ReadFrom path (sendfile), and its bytes
// are still counted for the log.
func TestFileAnswersKeepReadFrom(t *testing.T) {
	content := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	usedReadFrom := false
	handler := withRequestID(withAccessLog(logger, nil, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqctx.From(r.Context()).Route = "GET /blob"
		_, usedReadFrom = w.(io.ReaderFrom)
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "blob", time.Time{}, f)
	})))
	srv := httptest.NewServer(handler)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/blob")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, content) || !usedReadFrom {
		t.Fatalf("got %d bytes (want %d); the recorder offers ReadFrom: %v", len(got), len(content), usedReadFrom)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), `"bytes":1048576`) {
		if time.Now().After(deadline) {
			t.Fatalf("the access line does not count the file's bytes:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
