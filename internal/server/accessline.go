package server

import (
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// accessLine is what the access log says about one request.
type accessLine struct {
	method, route, path string
	status              int
	bytes               int64
	duration            time.Duration
	upstreamStatus      int
	caller, requestID   string
	traceID             string
}

// durationMS is the duration in milliseconds, to the microsecond.
func (l *accessLine) durationMS() float64 { return float64(l.duration.Microseconds()) / 1000 }

// attrs are the line's fields for a slog handler (LOG_FORMAT=text, and loggers without a JSON writer).
func (l *accessLine) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", l.method),
		slog.String("route", l.route),
		slog.String("path", l.path),
		slog.Int("status", l.status),
		slog.Int64("bytes", l.bytes),
		slog.Float64("duration_ms", l.durationMS()),
		slog.Int("upstream_status", l.upstreamStatus),
		slog.String("caller", l.caller),
		slog.String("request_id", l.requestID),
		slog.String("trace_id", l.traceID),
	}
}

// appendJSON appends the line exactly as slog's JSON handler (no options but the level) writes the record
// LogAttrs(ctx, slog.LevelInfo, "request", l.attrs()...) made at t, newline included; accessline_test.go holds
// it to that. It costs a fraction of slog's handler, which builds a record and a state to walk its attributes
// for every line: the access line is written for every request.
func (l *accessLine) appendJSON(b []byte, t time.Time) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendJSONString(b, l.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, l.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, l.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(l.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, l.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = appendDurationMS(b, l.duration)
	b = append(b, `,"upstream_status":`...)
	b = strconv.AppendInt(b, int64(l.upstreamStatus), 10)
	b = append(b, `,"caller":`...)
	b = appendJSONString(b, l.caller)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, l.requestID)
	b = append(b, `,"trace_id":`...)
	b = appendJSONString(b, l.traceID)
	return append(b, "}\n"...)
}

// appendDurationMS writes d in milliseconds to the microsecond, as appendJSONFloat(durationMS) does, without
// the float formatter (about 1% of a request's CPU at one connection in the profiles). Below 2^43 ms a float64
// is finer than a microsecond, so the shortest decimal that reads back as us/1000 is us/1000's own decimal,
// trailing zeros dropped; that is written with integers.
func appendDurationMS(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 || us >= 1e15 {
		return appendJSONFloat(b, float64(us)/1000)
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	if frac == 0 {
		return b
	}
	digits := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(b, digits[:n]...)
}

// appendJSONFloat writes f as encoding/json does, which is what slog uses for floats: 'f' format between 1e-6
// and 1e21, else 'e' format with a two-digit negative exponent shortened to one.
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString writes s quoted as slog's JSON handler does: '"', '\\' and control characters escaped
// (\n, \r, \t by name, the rest as \u00XX), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// lineBuffers are reused for the access lines; one that grew past a few kilobytes (a long path) is let go.
var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
