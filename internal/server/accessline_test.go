package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slogLine is the access line as slog's JSON handler writes it, at time t.
func slogLine(t *testing.T, l accessLine, at time.Time) []byte {
	t.Helper()
	var buf bytes.Buffer
	r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
	r.AddAttrs(l.attrs()...)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// oddStrings are what a path, caller or id could hold that JSON must escape or slog replaces.
var oddStrings = []string{
	"", "plain", `quote " and backslash \`, "tab\tnewline\nreturn\r", "nul\x00 bell\x07 esc\x1b del\x7f",
	"invalid \xff\xfe utf-8 \xc3", "cut rune \xe2\x82", "line sep \u2028 para sep \u2029", "html <b>&amp;</b>",
	"unicode é 日本 🤗", "/api/models/a%2Fb", "\u00ff\u0100",
}

// TestAccessLineIsSlogsJSON holds the access line encoder to the bytes slog's JSON handler writes for the same
// fields, over odd strings and durations.
func TestAccessLineIsSlogsJSON(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 24, 25, 397183522, time.UTC)
	zones := []time.Time{at, at.Truncate(time.Second), at.In(time.FixedZone("CET", 3600)), at.Add(1000)}
	durations := []time.Duration{0, time.Microsecond, 999 * time.Nanosecond, 1234567 * time.Nanosecond,
		3 * time.Second, 90 * time.Hour, math.MaxInt64}
	check := func(l accessLine, at time.Time) {
		t.Helper()
		got, want := l.appendJSON(nil, at), slogLine(t, l, at)
		if !bytes.Equal(got, want) {
			t.Errorf("line differs from slog's:\n got %s\nwant %s", got, want)
		}
	}
	for _, s := range oddStrings {
		check(accessLine{method: s, route: s, path: s, caller: s, requestID: s, traceID: s}, at)
	}
	for i, d := range durations {
		check(accessLine{method: "GET", route: "GET /api/account", path: "/api/account", status: 200 + i, bytes: int64(i) << 40,
			duration: d, upstreamStatus: -i, caller: "loopback", requestID: "ID", traceID: "0af7651916cd43dd8448eb211c80319c"}, zones[i%len(zones)])
	}
}

// TestDurationMS holds the integer writer of durations to the float one over every microsecond up to a
// second, around the powers of ten, and at the largest durations, where a float64 is coarser than a
// microsecond and the float writer takes over.
func TestDurationMS(t *testing.T) {
	var micros []int64
	for us := int64(0); us < 1e6; us++ {
		micros = append(micros, us)
	}
	for p := int64(1e6); p <= 1e16; p *= 10 {
		micros = append(micros, p-1001, p-1000, p-999, p-1, p, p+1, p+999, p+1000, p+123456)
	}
	micros = append(micros, -1, -1500, 9e15+1, 9e15+3, 9e15+7, math.MaxInt64/1000-1, math.MaxInt64/1000)
	for _, us := range micros {
		d := time.Duration(us) * time.Microsecond
		got, want := appendDurationMS(nil, d), appendJSONFloat(nil, (&accessLine{duration: d}).durationMS())
		if !bytes.Equal(got, want) {
			t.Fatalf("%dµs: wrote %s, want %s", us, got, want)
		}
	}
}

// FuzzAccessLine compares the encoder with slog's JSON handler on any strings and numbers.
func FuzzAccessLine(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s, s, int64(200), int64(1500))
	}
	f.Fuzz(func(t *testing.T, path, caller string, status, duration int64) {
		l := accessLine{method: "GET", route: caller, path: path, status: int(status), bytes: status * 7,
			duration: time.Duration(duration), upstreamStatus: int(-status), caller: caller, requestID: path, traceID: caller}
		at := time.Unix(0, duration).UTC()
		if got, want := l.appendJSON(nil, at), slogLine(t, l, at); !bytes.Equal(got, want) {
			t.Errorf("line differs from slog's:\n got %s\nwant %s", got, want)
		}
	})
}

// TestAccessLineFields reads the line as JSON: exactly these fields, with these types.
func TestAccessLineFields(t *testing.T) {
	l := accessLine{method: "GET", route: "GET /api/account", path: "/api/\"odd\"\x01\xff", status: 200, bytes: 812,
		duration: 1500 * time.Microsecond, upstreamStatus: 200, caller: "key:1a2b3c4d", requestID: "R", traceID: "T"}
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(l.appendJSON(nil, time.Now())))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for k, v := range fields {
		kinds[k] = reflect.TypeOf(v).String()
	}
	want := map[string]string{"time": "string", "level": "string", "msg": "string", "method": "string",
		"route": "string", "path": "string", "status": "json.Number", "bytes": "json.Number",
		"duration_ms": "json.Number", "upstream_status": "json.Number", "caller": "string", "request_id": "string",
		"trace_id": "string"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("fields %v, want %v", kinds, want)
	}
	if fields["path"] != "/api/\"odd\"\x01\ufffd" || fields["duration_ms"] != json.Number("1.5") || fields["msg"] != "request" ||
		fields["level"] != "INFO" {
		t.Errorf("fields %v", fields)
	}
	if _, err := time.Parse(time.RFC3339Nano, fields["time"].(string)); err != nil {
		t.Error(err)
	}
}

// TestAccessLogLevelAndFormat serves a request with the access line written straight to the JSON writer and
// through slog: at LOG_LEVEL=info both write it, the JSON one the same as slog's JSON handler bar the time and duration; at
// warn neither does; LOG_FORMAT=text still gets its text line.
func TestAccessLogLevelAndFormat(t *testing.T) {
	serve := func(level slog.Level, text, direct bool) string {
		var out syncBuffer
		var h slog.Handler = slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: level})
		if text {
			h = slog.NewTextHandler(&out, &slog.HandlerOptions{Level: level})
		}
		var jsonOut *syncBuffer
		if direct {
			jsonOut = &out
		}
		handler := withRequestID(withAccessLog(slog.New(h), writerOrNil(jsonOut), nil,
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })))
		req := httptest.NewRequest(http.MethodGet, "/api/x%2Fy", nil)
		req.Header.Set("X-Request-Id", "req-1")
		req.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		handler.ServeHTTP(httptest.NewRecorder(), req)
		return out.String()
	}
	dropTime := func(line string) string {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if _, ok := fields["duration_ms"].(float64); !ok {
			t.Errorf("duration_ms is not a number: %q", line)
		}
		delete(fields, "time")
		delete(fields, "duration_ms")
		b, _ := json.Marshal(fields)
		return string(b)
	}
	direct, viaSlog := serve(slog.LevelInfo, false, true), serve(slog.LevelInfo, false, false)
	if dropTime(direct) != dropTime(viaSlog) || !strings.Contains(direct, `"path":"/api/x%2Fy","status":200,"bytes":5,`) ||
		!strings.Contains(direct, `"request_id":"req-1","trace_id":"0af7651916cd43dd8448eb211c80319c"}`) {
		t.Errorf("direct line %q, slog's %q", direct, viaSlog)
	}
	if got := serve(slog.LevelWarn, false, true); got != "" {
		t.Errorf("LOG_LEVEL=warn wrote %q", got)
	}
	text := serve(slog.LevelInfo, true, false)
	if !strings.Contains(text, "level=INFO msg=request method=GET route=\"\" path=/api/x%2Fy status=200 bytes=5 duration_ms=") {
		t.Errorf("text line %q", text)
	}
}

// writerOrNil keeps a nil *syncBuffer a nil io.Writer.
func writerOrNil(b *syncBuffer) interface{ Write([]byte) (int, error) } {
	if b == nil {
		return nil
	}
	return b
}
