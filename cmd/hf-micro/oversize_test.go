package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOversizedBodyAlwaysGets413 sends bodies far over HF_MICRO_MAX_BODY_BYTES the way curl does, sending the
// whole body before it reads the reply. The server answers before the body is in; unless it goes on reading what
// is still coming, closing the connection makes the kernel reset it, and the reset destroys the 413 in the
// client's receive buffer (curl: "Connection reset by peer"). Every one of the 20 must get its 413.
func TestOversizedBodyAlwaysGets413(t *testing.T) {
	p := startBinary(t, nil, "HF_MICRO_MAX_BODY_BYTES=65536")
	const MB = 1 << 20
	sizes := []int{3 * MB, 5 * MB, 20 * MB}
	failed := 0
	for i := range 20 {
		size := sizes[i%len(sizes)]
		expectContinue := i%2 == 1 // curl asks for 100 Continue before a large body; most libraries do not
		status, body, err := postOversized(hostPort(p.base), size, expectContinue)
		if err != nil || status != http.StatusRequestEntityTooLarge || !strings.Contains(body["error"], "larger than 65536 bytes") {
			failed++
			t.Errorf("try %d (%d MB, Expect: 100-continue %v): status %d, body %v, error %v", i+1, size/MB, expectContinue, status, body, err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of 20 oversized bodies did not get their 413", failed)
	}
}

// postOversized sends a POST /api/repo with size bytes of body over its own connection, then reads the reply.
func postOversized(addr string, size int, expectContinue bool) (status int, body map[string]string, err error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	// Wide: this bounds a hung test, not the server's speed.
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))

	header := fmt.Sprintf("POST /api/repo HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", addr, size)
	if expectContinue {
		header += "Expect: 100-continue\r\n"
	}
	if _, err := io.WriteString(conn, header+"\r\n"); err != nil {
		return 0, nil, err
	}
	replies := bufio.NewReader(conn)
	if expectContinue {
		resp, err := http.ReadResponse(replies, nil)
		if err != nil {
			return 0, nil, fmt.Errorf("waiting for 100 Continue: %w", err)
		}
		if resp.StatusCode != http.StatusContinue {
			return resp.StatusCode, nil, fmt.Errorf("answered before the body was sent: %s", resp.Status)
		}
	}
	// The whole body first, then the reply. curl gives up at the first failed write ("Send failure: Connection
	// reset by peer"), whatever the reply, so a write error is a failure too; the reply is still read, for the
	// message.
	chunk := []byte(strings.Repeat("x", 64<<10))
	var writeErr error
	for sent := 0; sent < size && writeErr == nil; sent += len(chunk) {
		_, writeErr = conn.Write(chunk[:min(len(chunk), size-sent)])
	}
	resp, err := http.ReadResponse(replies, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("reading the reply: %w (sending the body: %v)", err, writeErr)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the reply body: %w", err)
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reply is not JSON: %q", raw)
	}
	if writeErr != nil {
		return resp.StatusCode, body, fmt.Errorf("the connection broke while the body was being sent: %w", writeErr)
	}
	return resp.StatusCode, body, nil
}
