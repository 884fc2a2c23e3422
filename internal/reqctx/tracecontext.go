package reqctx

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"strings"
)

// TraceContext is a request's W3C trace context (https://www.w3.org/TR/trace-context/): the caller's when it
// sent a valid one, else a fresh one, so that every request has a trace id for the logs and the Hub. hf-micro
// records no spans of its own, so it passes the caller's parent id on as it came.
type TraceContext struct {
	Parent string // the traceparent header value, version 00
	State  string // the tracestate header value, "" for none
}

// TraceID is the trace's 32 hex digits.
func (t TraceContext) TraceID() string {
	if len(t.Parent) != traceParentLen {
		return ""
	}
	return t.Parent[3:35]
}

// traceParentLen is the length of a version 00 traceparent: "00-" trace-id "-" parent-id "-" flags.
const traceParentLen = 55

// maxTraceState bounds tracestate as the specification does (32 members of up to 256 characters would be
// more; 512 is what it asks every participant to pass on).
const maxTraceState = 512

// TraceFrom reads the caller's trace context from h, or starts a new one when it is missing or malformed (a
// tracestate without a valid traceparent is dropped, as the specification says).
func TraceFrom(h http.Header) TraceContext {
	if parent, ok := parseTraceParent(h.Get("Traceparent")); ok {
		return TraceContext{Parent: parent, State: validTraceState(h.Values("Tracestate"))}
	}
	return NewTrace()
}

// NewTrace starts a trace: random trace and parent ids, not sampled. The ids must be unique, not secret, so
// they come from math/rand/v2 (ChaCha8, seeded by the runtime from the system's entropy): a crypto/rand read
// for them and one for the request id were about 2% of a proxied request's CPU.
func NewTrace() TraceContext {
	var ids [24]byte
	for i := 0; i < len(ids); i += 8 {
		binary.LittleEndian.PutUint64(ids[i:], rand.Uint64())
	}
	b := make([]byte, 0, traceParentLen)
	b = append(b, "00-"...)
	b = hex.AppendEncode(b, ids[:16])
	b = append(b, '-')
	b = hex.AppendEncode(b, ids[16:])
	b = append(b, "-00"...)
	return TraceContext{Parent: string(b)}
}

// parseTraceParent checks a traceparent and returns it as version 00. A later version is read for its version
// 00 fields, as the specification asks; version ff, upper-case hex and all-zero ids are invalid.
func parseTraceParent(v string) (string, bool) {
	if len(v) < traceParentLen || (len(v) > traceParentLen && (v[:2] == "00" || v[traceParentLen] != '-')) {
		return "", false
	}
	if !lowerHex(v[0:2]) || v[:2] == "ff" || v[2] != '-' || !lowerHex(v[3:35]) || v[35] != '-' ||
		!lowerHex(v[36:52]) || v[52] != '-' || !lowerHex(v[53:55]) {
		return "", false
	}
	if v[3:35] == strings.Repeat("0", 32) || v[36:52] == strings.Repeat("0", 16) {
		return "", false
	}
	return "00" + v[2:traceParentLen], true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validTraceState joins the tracestate headers into one value, or "" when it is too long or holds anything
// but printable ASCII: it is passed on to the Hub, so nothing that could break a header line gets through.
func validTraceState(values []string) string {
	state := strings.Join(values, ",")
	if len(state) > maxTraceState {
		return ""
	}
	for i := 0; i < len(state); i++ {
		if c := state[i]; c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return state
}
