package hub

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBurstOpensFewConnections sends a burst of concurrent calls, ten times an HTTP/2 connection's stream
// limit, to a Hub over HTTPS. Unbounded, Go's transport dials a connection for nearly every call over the
// limit, some more than once; with MaxConns it dials that many at a time, and only while calls still find
// every connection full, so the Hub sees about the connections the burst needs (burst/streams).
func TestBurstOpensFewConnections(t *testing.T) {
	const streams, burst = 4, 40
	for _, tc := range []struct {
		maxConns, atMost, atLeast int
	}{
		{maxConns: 2, atMost: 2 * burst / streams},
		{maxConns: 0, atLeast: burst / 2}, // the behaviour the bound is there for; if Go changes it, so can we
	} {
		var conns atomic.Int64
		hubServer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(20 * time.Millisecond) // keep the streams busy while the burst arrives
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"type":"user","name":"alice"}`))
		}))
		hubServer.EnableHTTP2 = true
		hubServer.Config.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: streams}
		hubServer.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		hubServer.StartTLS()
		client, err := New(Options{Endpoint: hubServer.URL, Token: NewToken(testToken), MaxConns: tc.maxConns})
		if err != nil {
			t.Fatal(err)
		}
		transport := client.Transport().(*http.Transport)
		transport.TLSClientConfig = &tls.Config{RootCAs: hubServer.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}

		var wg sync.WaitGroup
		var failed atomic.Int64
		for range burst {
			wg.Go(func() {
				if _, err := client.WhoAmI(context.Background()); err != nil {
					failed.Add(1)
					t.Log(err)
				}
			})
		}
		wg.Wait()
		transport.CloseIdleConnections()
		hubServer.Close()
		n := conns.Load()
		t.Logf("MaxConns %d: %d connections for %d calls", tc.maxConns, n, burst)
		if failed.Load() > 0 {
			t.Errorf("MaxConns %d: %d of %d calls failed", tc.maxConns, failed.Load(), burst)
		}
		if tc.atMost > 0 && n > int64(tc.atMost) {
			t.Errorf("MaxConns %d: the burst opened %d connections, want at most %d", tc.maxConns, n, tc.atMost)
		}
		if n < int64(tc.atLeast) {
			t.Errorf("MaxConns %d: the burst opened only %d connections, want the unbounded transport's %d or more", tc.maxConns, n, tc.atLeast)
		}
	}
}

// countingConn counts the bytes a server connection reads.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: c, read: l.read}, nil
}

// TestCallsSendHeadersWhole checks that a call over HTTP/2 sends its headers as literals, not as references to
// the connection's HPACK table: every call's traceparent is new, and indexing it would churn the table on every
// call (NewTransport). So a second call on the same connection carries the whole token again.
func TestCallsSendHeadersWhole(t *testing.T) {
	token := "hf_" + strings.Repeat("abcdefghij", 20) // Huffman codes these letters in 5 or 6 bits: 150 bytes and more
	hubServer := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"type":"user","name":"alice"}`))
	}))
	var read atomic.Int64
	hubServer.Listener = countingListener{Listener: hubServer.Listener, read: &read}
	hubServer.EnableHTTP2 = true
	hubServer.StartTLS()
	defer hubServer.Close()
	client, err := New(Options{Endpoint: hubServer.URL, Token: NewToken(token)})
	if err != nil {
		t.Fatal(err)
	}
	transport := client.Transport().(*http.Transport)
	transport.TLSClientConfig = &tls.Config{RootCAs: hubServer.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	defer transport.CloseIdleConnections()
	for call := 1; call <= 2; call++ {
		before := read.Load()
		if _, err := client.WhoAmI(context.Background()); err != nil {
			t.Fatalf("call %d: %v", call, err)
		}
		// TLS records add their own bytes; an indexed Authorization would be one byte, not 150.
		if sent := read.Load() - before; sent < 150 {
			t.Errorf("call %d: the Hub read %d bytes; want the whole token again (150 and more)", call, sent)
		}
	}
}
