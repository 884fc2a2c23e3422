package hub

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestAwaitHeadersBoundsTheWaitForHeaders: a Hub that never sends its headers fails the call as a timeout,
// in net/http's words, and the Hub sees the call end.
func TestAwaitHeadersBoundsTheWaitForHeaders(t *testing.T) {
	ended := make(chan struct{})
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(ended)
	}))
	defer hub.Close()
	client := &http.Client{Transport: AwaitHeaders(http.DefaultTransport, 50*time.Millisecond)}

	resp, err := client.Get(hub.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the call succeeded; want a timeout")
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, errHeaderTimeout) {
		t.Fatalf("err = %v; want the header timeout, a net.Error timeout", err)
	}
	<-ended // the Hub's handler saw the call go away
}

// TestAwaitHeadersLeavesTheBodyAlone: once the headers came in time, the body may take longer than the limit,
// and the call ends when the body is closed.
func TestAwaitHeadersLeavesTheBodyAlone(t *testing.T) {
	const limit = 20 * time.Millisecond
	release, ended := make(chan struct{}), make(chan struct{})
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first,")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(ended)
	}))
	defer hub.Close()
	client := &http.Client{Transport: AwaitHeaders(http.DefaultTransport, limit)}

	resp, err := client.Get(hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Request.Context().Err() != nil {
		t.Error("the answer's request is not the caller's: its context has ended")
	}
	first := make([]byte, len("first,"))
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * limit) // well past the limit: the body must still flow
	close(release)
	second := make([]byte, len("second"))
	if _, err := io.ReadFull(resp.Body, second); err != nil || string(second) != "second" {
		t.Fatalf("the body after the limit: %q, %v; want %q", second, err, "second")
	}
	resp.Body.Close()
	<-ended // closing the body ended the call
}
