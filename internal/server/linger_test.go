package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// refuseUnread answers 401 without reading the body, as a refusal before decoding does.
var refuseUnread = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "no", http.StatusUnauthorized)
})

// TestLingerLeavesSmallUnreadBodiesAlone: a small body the handler did not read is read before the reply goes
// out, so the reply keeps its Content-Length and the connection stays open, as without lingering.
func TestLingerLeavesSmallUnreadBodiesAlone(t *testing.T) {
	srv := httptest.NewServer(withLingeringClose(refuseUnread))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(strings.Repeat("x", 4096)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.ContentLength <= 0 || resp.Close {
		t.Errorf("status %d, Content-Length %d, Connection: close %v; want 401 with a length, kept open", resp.StatusCode, resp.ContentLength, resp.Close)
	}
}

// TestLingerDoesNotAskForAnUnreadBody: a client that sent "Expect: 100-continue" and was refused before the
// body was read must not be told to send it after all.
func TestLingerDoesNotAskForAnUnreadBody(t *testing.T) {
	conn := rawConnToRefusal(t)
	_, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	replies := bufio.NewReader(conn)
	resp, err := http.ReadResponse(replies, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("first answer %s, want the 401 and no 100 Continue", resp.Status)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if rest, _ := io.ReadAll(replies); len(rest) != 0 {
		t.Errorf("more after the refusal: %q", rest)
	}
}

// TestLingerDeliversTheReplyToAClientStillSending: a body far over what net/http discards by itself, refused
// unread, is drained so that a client that sends it all before reading gets the reply, not a reset.
func TestLingerDeliversTheReplyToAClientStillSending(t *testing.T) {
	conn := rawConnToRefusal(t)
	const size = 8 << 20
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("x", 64<<10))
	for sent := 0; sent < size; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("after %d bytes: %v", sent, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
}

// rawConnToRefusal is a TCP connection to a server that refuses every request without reading its body, behind
// the lingering close: the tests write the request by hand, as a client still sending does.
func rawConnToRefusal(t *testing.T) net.Conn {
	t.Helper()
	srv := httptest.NewServer(withLingeringClose(refuseUnread))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // bounds a hung test only
	return conn
}
