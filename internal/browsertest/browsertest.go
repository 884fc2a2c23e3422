// Package browsertest loads a page in headless Chromium and reports what it
// rendered and any console errors. It speaks the Chrome DevTools Protocol
// (CDP) over --remote-debugging-pipe, so it needs no websocket library:
// Chromium reads NUL-terminated JSON messages from fd 3 and writes replies
// and events, also NUL-terminated, to fd 4.
package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// settleTime is how long Load keeps listening after the load event, so that
// errors logged by late scripts or failed late loads are still seen.
const settleTime = 300 * time.Millisecond

// Chromium finds the browser: $CHROMIUM if set, else "chromium",
// "chromium-browser", "google-chrome" on PATH. "" if none.
func Chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Result is what Load saw.
type Result struct {
	Title         string   // document.title after load
	ConsoleErrors []string // console.error/assert calls, uncaught exceptions and "error" log entries, as readable text with URL if any
	Text          string   // document.body.innerText, for assertions on content
}

// Load opens url in a fresh headless Chromium (new empty temp
// --user-data-dir, removed after), waits for the load event plus a short
// settle time for late console messages, and returns what it saw. Bounded by
// ctx; the browser process is always killed and waited for.
//
// Note that Chromium requests /favicon.ico when a page declares no icon, and
// a 404 there is reported like any other failed load; pages under test can
// declare one (e.g. <link rel="icon" href="data:,">) or the server can serve it.
func Load(ctx context.Context, chromiumPath, url string) (Result, error) {
	tmp, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(tmp)
	profile := filepath.Join(tmp, "profile")
	if err := os.Mkdir(profile, 0o700); err != nil {
		return Result{}, err
	}
	// Stderr goes to a file rather than a Go buffer: Chromium's child
	// processes inherit it, and a pipe would make cmd.Wait wait for them too.
	stderrPath := filepath.Join(tmp, "stderr.log")
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return Result{}, err
	}
	defer stderr.Close()

	// toBrowser: we write, Chromium reads on fd 3.
	// fromBrowser: Chromium writes on fd 4, we read.
	toBrowserR, toBrowserW, err := os.Pipe()
	if err != nil {
		return Result{}, err
	}
	defer toBrowserW.Close()
	fromBrowserR, fromBrowserW, err := os.Pipe()
	if err != nil {
		toBrowserR.Close()
		return Result{}, err
	}
	defer fromBrowserR.Close()

	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-default-apps",
		"--remote-debugging-pipe", "--user-data-dir="+profile,
		"about:blank")
	cmd.ExtraFiles = []*os.File{toBrowserR, fromBrowserW}
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	// Own process group, so one kill also reaches the renderer, GPU and
	// zygote children and none outlive the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	// The child has its own copies now; closing ours lets reads see EOF
	// when the browser exits.
	toBrowserR.Close()
	fromBrowserW.Close()
	if err != nil {
		return Result{}, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	// If ctx ends while we are blocked writing or reading, unblock the pipes.
	stop := context.AfterFunc(ctx, func() {
		toBrowserW.SetDeadline(time.Now())
		fromBrowserR.SetDeadline(time.Now())
	})
	defer stop()

	c := &conn{w: toBrowserW, in: make(chan message, 64), done: make(chan struct{}), stderrPath: stderrPath}
	defer close(c.done) // lets readLoop stop even if nobody reads any more
	go c.readLoop(fromBrowserR)

	res, err := c.load(ctx, url)
	if err != nil {
		return Result{}, err
	}
	// Ask politely so Chromium shuts down cleanly; the deferred kill is the
	// backstop if it does not exit promptly.
	if _, err := c.send("", "Browser.close", nil); err == nil {
		select {
		case <-exited:
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
	}
	return res, nil
}

// message is any CDP message: a reply (ID set) or an event (Method set).
type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type conn struct {
	w          *os.File
	in         chan message
	done       chan struct{}
	readErr    error // set before in is closed
	nextID     int64
	stderrPath string

	session  string // flattened session of our page target
	loaded   bool   // Page.loadEventFired seen after our navigation
	watching bool   // our navigation has been sent
	errors   []string
}

func (c *conn) readLoop(r *os.File) {
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			c.readErr = err
			close(c.in)
			return
		}
		var m message
		if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
			c.readErr = fmt.Errorf("bad CDP message %q: %v", b, err)
			close(c.in)
			return
		}
		select {
		case c.in <- m:
		case <-c.done:
			return
		}
	}
}

func (c *conn) send(session, method string, params any) (int64, error) {
	c.nextID++
	b, err := json.Marshal(struct {
		ID        int64  `json:"id"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
		SessionID string `json:"sessionId,omitempty"`
	}{c.nextID, method, params, session})
	if err != nil {
		return 0, err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return 0, fmt.Errorf("sending %s: %w", method, err)
	}
	return c.nextID, nil
}

// next returns the next message, or ok=false once timeout fires. It fails if
// ctx ends or the browser goes away.
func (c *conn) next(ctx context.Context, timeout <-chan time.Time) (m message, ok bool, err error) {
	select {
	case m, ok := <-c.in:
		if !ok {
			return message{}, false, fmt.Errorf("chromium closed the pipe (%v)%s", c.readErr, c.stderrTail())
		}
		return m, true, nil
	case <-ctx.Done():
		return message{}, false, ctx.Err()
	case <-timeout:
		return message{}, false, nil
	}
}

// call sends a command and waits for its reply, handling events meanwhile.
func (c *conn) call(ctx context.Context, session, method string, params any, result any) error {
	id, err := c.send(session, method, params)
	if err != nil {
		return err
	}
	for {
		m, _, err := c.next(ctx, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != id {
			c.handle(m)
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (code %d)", method, m.Error.Message, m.Error.Code)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(m.Result, result)
	}
}

func (c *conn) load(ctx context.Context, url string) (Result, error) {
	// A new target, attached in flat mode, gives us a page session whose
	// commands and events travel over the same pipe tagged by sessionId.
	var target struct{ TargetID string }
	if err := c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return Result{}, err
	}
	var attach struct{ SessionID string }
	if err := c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attach); err != nil {
		return Result{}, err
	}
	c.session = attach.SessionID
	// Enable before navigating so nothing the page logs is missed.
	for _, domain := range []string{"Runtime", "Log", "Page"} {
		if err := c.call(ctx, c.session, domain+".enable", nil, nil); err != nil {
			return Result{}, err
		}
	}

	c.watching = true
	var nav struct{ ErrorText string }
	if err := c.call(ctx, c.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return Result{}, err
	}
	if nav.ErrorText != "" {
		return Result{}, fmt.Errorf("navigating to %s: %s", url, nav.ErrorText)
	}
	for !c.loaded {
		m, _, err := c.next(ctx, nil)
		if err != nil {
			return Result{}, fmt.Errorf("waiting for load of %s: %w", url, err)
		}
		c.handle(m)
	}
	settle := time.After(settleTime)
	for {
		m, ok, err := c.next(ctx, settle)
		if err != nil {
			return Result{}, err
		}
		if !ok {
			break
		}
		c.handle(m)
	}

	var eval struct {
		Result struct {
			Value struct{ Title, Text string }
		}
		ExceptionDetails *exceptionDetails
	}
	expr := `({title: document.title, text: document.body ? document.body.innerText : ""})`
	if err := c.call(ctx, c.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &eval); err != nil {
		return Result{}, err
	}
	if eval.ExceptionDetails != nil {
		return Result{}, fmt.Errorf("reading page: %s", eval.ExceptionDetails.String())
	}
	return Result{Title: eval.Result.Value.Title, Text: eval.Result.Value.Text, ConsoleErrors: c.errors}, nil
}

// handle records the events we care about; everything else is ignored.
func (c *conn) handle(m message) {
	if m.Method == "" || m.SessionID != c.session {
		return
	}
	switch m.Method {
	case "Page.loadEventFired":
		c.loaded = c.loaded || c.watching
	case "Runtime.consoleAPICalled":
		var p struct {
			Type       string
			Args       []remoteObject
			StackTrace *stackTrace
		}
		if json.Unmarshal(m.Params, &p) != nil || (p.Type != "error" && p.Type != "assert") {
			return
		}
		parts := make([]string, len(p.Args))
		for i, a := range p.Args {
			parts[i] = a.String()
		}
		msg := "console." + p.Type + ": " + strings.Join(parts, " ")
		if p.StackTrace != nil && len(p.StackTrace.CallFrames) > 0 {
			f := p.StackTrace.CallFrames[0]
			msg += location(f.URL, f.LineNumber, f.ColumnNumber)
		}
		c.errors = append(c.errors, msg)
	case "Runtime.exceptionThrown":
		var p struct{ ExceptionDetails exceptionDetails }
		if json.Unmarshal(m.Params, &p) == nil {
			c.errors = append(c.errors, p.ExceptionDetails.String())
		}
	case "Log.entryAdded":
		var p struct {
			Entry struct {
				Source, Level, Text, URL string
				LineNumber               *int
			}
		}
		if json.Unmarshal(m.Params, &p) != nil || p.Entry.Level != "error" {
			return
		}
		msg := p.Entry.Source + ": " + p.Entry.Text
		if p.Entry.URL != "" {
			line := -1
			if p.Entry.LineNumber != nil {
				line = *p.Entry.LineNumber
			}
			msg += location(p.Entry.URL, line, -1)
		}
		c.errors = append(c.errors, msg)
	}
}

type remoteObject struct {
	Type                string
	Value               json.RawMessage
	UnserializableValue string
	Description         string
}

func (o remoteObject) String() string {
	var s string
	switch {
	case json.Unmarshal(o.Value, &s) == nil:
		return s // strings print bare, as in the DevTools console
	case len(o.Value) > 0:
		return string(o.Value)
	case o.UnserializableValue != "":
		return o.UnserializableValue
	case o.Description != "":
		return o.Description
	}
	return o.Type
}

type stackTrace struct {
	CallFrames []struct {
		URL                      string
		LineNumber, ColumnNumber int
	}
}

type exceptionDetails struct {
	Text                     string
	URL                      string
	LineNumber, ColumnNumber int
	Exception                *remoteObject
	StackTrace               *stackTrace
}

// String gives e.g. "Uncaught Error: boom (http://host/page.html:3:9)".
func (e exceptionDetails) String() string {
	msg := e.Text
	if e.Exception != nil {
		// The description carries the stack after the first line; the
		// location suffix below is enough to find it.
		desc, _, _ := strings.Cut(e.Exception.String(), "\n")
		if desc != "" {
			msg += " " + desc
		}
	}
	url, line, col := e.URL, e.LineNumber, e.ColumnNumber
	if url == "" && e.StackTrace != nil && len(e.StackTrace.CallFrames) > 0 {
		f := e.StackTrace.CallFrames[0]
		url, line, col = f.URL, f.LineNumber, f.ColumnNumber
	}
	return msg + location(url, line, col)
}

// location formats " (url:line:col)" with CDP's 0-based numbers made
// 1-based; negative numbers mean unknown.
func location(url string, line, col int) string {
	if url == "" {
		return ""
	}
	s := url
	if line >= 0 {
		s += fmt.Sprintf(":%d", line+1)
		if col >= 0 {
			s += fmt.Sprintf(":%d", col+1)
		}
	}
	return " (" + s + ")"
}

// stderrTail returns the end of Chromium's stderr, to explain a failure.
func (c *conn) stderrTail() string {
	b, err := os.ReadFile(c.stderrPath)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "; chromium stderr: " + string(bytes.TrimSpace(b))
}
