package server

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// A reply can go out before the request body is in: a 413 for a body over the limit, or a refusal that never
// reads it. net/http then closes the connection half a second later with the rest of the body unread, and the
// kernel answers what is still arriving with a reset; curl stops at the failed send ("Connection reset by
// peer") and some systems drop the reply from the client's buffer. So, as nginx does (lingering_close), the
// rest of the body is read and thrown away, the reply going out meanwhile, within bounds an abuser cannot
// stretch: lingerTime in all (nginx's lingering_time), lingerIdle without a byte (its lingering_timeout), and
// lingerMaxBytes, far above any body a client sends by mistake to this API (curl examples send a few MB).
const (
	lingerTime     = 30 * time.Second
	lingerIdle     = 5 * time.Second
	lingerMaxBytes = 64 << 20
)

// withLingeringClose reads and discards what is left of an HTTP/1.x request body after the handler has
// answered, so that the client, still sending, gets the answer rather than a reset.
func withLingeringClose(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		body := &watchedBody{ReadCloser: r.Body}
		r = r.WithContext(r.Context()) // a copy, so that net/http keeps the body it gave
		r.Body = body
		next.ServeHTTP(w, r)
		// A client that asked "Expect: 100-continue" and was answered before it was told to go on never sends
		// the body; anyone else sends it whatever the answer.
		expectsContinue := strings.EqualFold(r.Header.Get("Expect"), "100-continue")
		if !body.ended.Load() && (body.started.Load() || !expectsContinue) {
			discardRest(w, body.ReadCloser)
		}
	})
}

// watchedBody notes whether the handler began reading the body and whether it reached the end.
type watchedBody struct {
	io.ReadCloser
	started, ended atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.started.Store(true)
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.ended.Store(true) // EOF, or a body that cannot be read further
	}
	return n, err
}

// discardRest reads the rest of body within the linger bounds. A small rest is read before the reply goes out,
// as net/http itself would, so the reply keeps its Content-Length and the connection; past that, the reply is
// sent at once so that the client can stop sending.
func discardRest(w http.ResponseWriter, body io.Reader) {
	const replyAfter = 256 << 10 // net/http's own allowance (maxPostHandlerReadBytes)
	rc := http.NewResponseController(w)
	end := time.Now().Add(lingerTime)
	buf := make([]byte, 32<<10)
	replied := false
	for read := 0; read < lingerMaxBytes; {
		if read >= replyAfter && !replied {
			if rc.Flush() != nil {
				return
			}
			replied = true
		}
		deadline := time.Now().Add(lingerIdle)
		if deadline.After(end) {
			deadline = end
		}
		if rc.SetReadDeadline(deadline) != nil {
			return
		}
		n, err := body.Read(buf)
		read += n
		if err != nil {
			return
		}
	}
}
