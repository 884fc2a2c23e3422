package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent, with the build events of go 1.24+).
type event struct {
	Action      string
	Package     string
	Test        string
	Output      string
	ImportPath  string // build-output and build-fail
	FailedBuild string
}

// summary reads go test's events and writes what go test alone would show: the ok and FAIL line of each
// package, and in full the output of every test that failed, package by package as each ends. It counts
// the tests and keeps every skip with its reason for the closing summary.
type summary struct {
	out      io.Writer
	packages map[string]*packageRun
	builds   map[string]*strings.Builder // build output by import path
	passed   int
	failed   []string // "package TestName", or the package when it failed outside any test
	skipped  []skip
}

type skip struct{ test, reason string }

// packageRun is one package's output so far, held until the package ends.
type packageRun struct {
	output strings.Builder // the package's own lines: ok, FAIL, a panic outside any test, a timeout
	tests  map[string]*testRun
	order  []string // tests in the order they started
}

type testRun struct {
	output strings.Builder
	result string // pass, fail, skip; "" while it runs
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, packages: map[string]*packageRun{}, builds: map[string]*strings.Builder{}}
}

// line takes one line of go test's output. A line that is not an event is passed on as it is.
func (s *summary) line(raw []byte) {
	var e event
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &e) != nil {
		fmt.Fprintf(s.out, "%s\n", raw)
		return
	}
	switch e.Action {
	case "build-output":
		b := s.builds[e.ImportPath]
		if b == nil {
			b = &strings.Builder{}
			s.builds[e.ImportPath] = b
		}
		b.WriteString(e.Output)
	case "build-fail":
		if b := s.builds[e.ImportPath]; b != nil {
			io.WriteString(s.out, b.String())
		}
	default:
		s.testEvent(e)
	}
}

func (s *summary) testEvent(e event) {
	p := s.packages[e.Package]
	if p == nil {
		p = &packageRun{tests: map[string]*testRun{}}
		s.packages[e.Package] = p
	}
	if e.Test == "" {
		switch e.Action {
		case "output":
			p.output.WriteString(e.Output)
		case "pass", "skip": // a package with no tests is skipped: nothing was left out
			s.print(packageLines(p.output.String()))
			delete(s.packages, e.Package)
		case "fail":
			s.packageFailed(e, p)
			delete(s.packages, e.Package)
		}
		return
	}
	t := p.tests[e.Test]
	if t == nil {
		t = &testRun{}
		p.tests[e.Test] = t
		p.order = append(p.order, e.Test)
	}
	switch e.Action {
	case "output":
		t.output.WriteString(e.Output)
	case "pass":
		t.result = e.Action
		s.passed++
	case "fail":
		t.result = e.Action
		s.failed = append(s.failed, e.Package+" "+e.Test)
	case "skip":
		t.result = e.Action
		s.skipped = append(s.skipped, skip{e.Package + " " + e.Test, skipReason(t.output.String())})
	}
}

// packageFailed shows the output of the tests that failed or never ended (a panic or a timeout stops the
// test binary), then the package's own lines, as go test does.
func (s *summary) packageFailed(e event, p *packageRun) {
	failedTests := false
	for _, name := range p.order {
		t := p.tests[name]
		if t.result == "fail" || t.result == "" {
			s.print(withoutProgress(t.output.String()))
			failedTests = failedTests || t.result == "fail"
		}
	}
	s.print(p.output.String())
	if !failedTests {
		what := e.Package
		if e.FailedBuild != "" {
			what += " (build failed)"
		}
		s.failed = append(s.failed, what)
	}
}

func (s *summary) print(text string) {
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	io.WriteString(s.out, text)
}

// packageLines keeps, of a passing package's own output, the line go test prints without -v: "ok ..." or
// "? ... [no test files]".
func packageLines(output string) string {
	var kept strings.Builder
	for line := range strings.Lines(output) {
		if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "?") {
			kept.WriteString(line)
		}
	}
	return kept.String()
}

// withoutProgress drops the === RUN/PAUSE/CONT/NAME lines that -json adds to a test's output.
func withoutProgress(output string) string {
	var kept strings.Builder
	for line := range strings.Lines(output) {
		if !strings.HasPrefix(line, "=== ") {
			kept.WriteString(line)
		}
	}
	return kept.String()
}

// skipReason is the last line a skipped test logged: t.Skip's message.
func skipReason(output string) string {
	reason := "(no reason given)"
	for line := range strings.Lines(output) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "=== ") && !strings.HasPrefix(line, "--- SKIP") {
			reason = line
		}
	}
	return reason
}

// finish writes the closing summary and reports whether the run passed. Under strict (CI=true) a skip is a
// failure: a prerequisite missing there would otherwise hide a gap. The last line is always
// "N passed, N failed, N skipped", alone, which is what CI reads.
func (s *summary) finish(goTestErr error, strict bool) bool {
	// Packages that never ended: go test was cut short.
	for name, p := range s.packages {
		s.packageFailed(event{Package: name}, p)
	}
	s.packages = map[string]*packageRun{}
	failed := len(s.failed)
	fmt.Fprintln(s.out)
	if len(s.skipped) > 0 {
		note := ""
		if strict {
			note = ", each a failure under CI=true"
			failed += len(s.skipped)
		}
		fmt.Fprintf(s.out, "skipped (%d)%s:\n", len(s.skipped), note)
		for _, sk := range s.skipped {
			fmt.Fprintf(s.out, "  %s: %s\n", sk.test, sk.reason)
		}
	}
	if len(s.failed) > 0 {
		fmt.Fprintf(s.out, "failed (%d):\n", len(s.failed))
		for _, f := range s.failed {
			fmt.Fprintf(s.out, "  %s\n", f)
		}
	}
	ok := failed == 0
	if goTestErr != nil && ok {
		// go test failed without a failing test to show for it: say so, and count it.
		fmt.Fprintf(s.out, "go test: %v\n", goTestErr)
		failed++
		ok = false
	}
	skipped := len(s.skipped)
	if strict {
		skipped = 0 // counted as failed above
	}
	fmt.Fprintf(s.out, "%d passed, %d failed, %d skipped\n", s.passed, failed, skipped)
	return ok
}
