package hub

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
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
