package dropin

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/hf-micro/hf-micro/internal/hub"
)

// TestPiecesFlowAsTheyCome checks that each piece of an answer of known length reaches the caller before the
// Hub sends the next: a download through the proxy moves as the Hub's does, and is not held until the end.
func TestPiecesFlowAsTheyCome(t *testing.T) {
	first, second := "first piece\n", "second piece\n"
	callerGotFirst := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(first)+len(second)))
		io.WriteString(w, first)
		w.(http.Flusher).Flush()
		select {
		case <-callerGotFirst:
		case <-time.After(time.Minute): // at once, in fact; wide for a busy machine
			return // the caller never saw the first piece: the proxy is holding it
		}
		io.WriteString(w, second)
	}))
	defer upstream.Close()
	hubURL, _ := url.Parse(upstream.URL)
	p := New(Options{Hub: hubURL, Transport: http.DefaultTransport})
	client, _ := hub.New(hub.Options{Endpoint: upstream.URL})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(w, r, Forward{Client: client}) }))
	defer front.Close()

	resp, err := http.Get(front.URL + "/api/models/a/b")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(first)+len(second)) {
		t.Fatalf("status %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	body := bufio.NewReader(resp.Body)
	line, err := body.ReadString('\n')
	if err != nil || line != first {
		t.Fatalf("first piece: %q, %v", line, err)
	}
	close(callerGotFirst)
	rest, err := io.ReadAll(body)
	if err != nil || string(rest) != second {
		t.Fatalf("second piece: %q, %v (the first did not arrive before the Hub sent the second)", rest, err)
	}
}
