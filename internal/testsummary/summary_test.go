package main

import (
	"errors"
	"strings"
	"testing"
)

// The events below are go test -json's own, cut from real runs (times dropped).

const passing = `{"Action":"start","Package":"ex/a"}
{"Action":"run","Package":"ex/a","Test":"TestPass"}
{"Action":"output","Package":"ex/a","Test":"TestPass","Output":"=== RUN   TestPass\n"}
{"Action":"output","Package":"ex/a","Test":"TestPass","Output":"--- PASS: TestPass (0.00s)\n"}
{"Action":"pass","Package":"ex/a","Test":"TestPass","Elapsed":0}
{"Action":"output","Package":"ex/a","Output":"PASS\n"}
{"Action":"output","Package":"ex/a","Output":"ok  \tex/a\t0.008s\n"}
{"Action":"pass","Package":"ex/a","Elapsed":0.008}
`

const noTests = `{"Action":"start","Package":"ex/none"}
{"Action":"output","Package":"ex/none","Output":"?   \tex/none\t[no test files]\n"}
{"Action":"skip","Package":"ex/none","Elapsed":0}
`

const skipping = `{"Action":"start","Package":"ex/s"}
{"Action":"run","Package":"ex/s","Test":"TestSkip"}
{"Action":"output","Package":"ex/s","Test":"TestSkip","Output":"=== RUN   TestSkip\n"}
{"Action":"output","Package":"ex/s","Test":"TestSkip","Output":"    s_test.go:7: looking\n"}
{"Action":"output","Package":"ex/s","Test":"TestSkip","Output":"    s_test.go:7: no chromium\n"}
{"Action":"output","Package":"ex/s","Test":"TestSkip","Output":"--- SKIP: TestSkip (0.00s)\n"}
{"Action":"skip","Package":"ex/s","Test":"TestSkip","Elapsed":0}
{"Action":"output","Package":"ex/s","Output":"ok  \tex/s\t0.004s\n"}
{"Action":"pass","Package":"ex/s","Elapsed":0.004}
`

const failing = `{"Action":"start","Package":"ex/f"}
{"Action":"run","Package":"ex/f","Test":"TestQuiet"}
{"Action":"output","Package":"ex/f","Test":"TestQuiet","Output":"=== RUN   TestQuiet\n"}
{"Action":"output","Package":"ex/f","Test":"TestQuiet","Output":"--- PASS: TestQuiet (0.00s)\n"}
{"Action":"pass","Package":"ex/f","Test":"TestQuiet","Elapsed":0}
{"Action":"run","Package":"ex/f","Test":"TestFail"}
{"Action":"output","Package":"ex/f","Test":"TestFail","Output":"=== RUN   TestFail\n"}
{"Action":"run","Package":"ex/f","Test":"TestFail/sub"}
{"Action":"output","Package":"ex/f","Test":"TestFail/sub","Output":"=== RUN   TestFail/sub\n"}
{"Action":"output","Package":"ex/f","Test":"TestFail/sub","Output":"    f_test.go:6: boom\n"}
{"Action":"output","Package":"ex/f","Test":"TestFail/sub","Output":"--- FAIL: TestFail/sub (0.00s)\n"}
{"Action":"fail","Package":"ex/f","Test":"TestFail/sub","Elapsed":0}
{"Action":"output","Package":"ex/f","Test":"TestFail","Output":"--- FAIL: TestFail (0.00s)\n"}
{"Action":"fail","Package":"ex/f","Test":"TestFail","Elapsed":0}
{"Action":"output","Package":"ex/f","Output":"FAIL\n"}
{"Action":"output","Package":"ex/f","Output":"FAIL\tex/f\t0.005s\n"}
{"Action":"fail","Package":"ex/f","Elapsed":0.005}
`

const panicking = `{"Action":"start","Package":"ex/p"}
{"Action":"run","Package":"ex/p","Test":"TestPanic"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"=== RUN   TestPanic\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"--- FAIL: TestPanic (0.00s)\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"panic: oh no [recovered, repanicked]\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"goroutine 7 [running]:\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"ex/p.TestPanic(0x8a925422d88?)\n"}
{"Action":"output","Package":"ex/p","Test":"TestPanic","Output":"\t/tmp/ex/p/p_test.go:8 +0x25\n"}
{"Action":"fail","Package":"ex/p","Test":"TestPanic","Elapsed":0}
{"Action":"output","Package":"ex/p","Output":"FAIL\tex/p\t0.008s\n"}
{"Action":"fail","Package":"ex/p","Elapsed":0.008}
`

// A test binary stopped by -timeout: the running test never ends, the package fails.
const timedOut = `{"Action":"start","Package":"ex/t"}
{"Action":"run","Package":"ex/t","Test":"TestHang"}
{"Action":"output","Package":"ex/t","Test":"TestHang","Output":"=== RUN   TestHang\n"}
{"Action":"output","Package":"ex/t","Test":"TestHang","Output":"    t_test.go:9: waiting\n"}
{"Action":"output","Package":"ex/t","Output":"panic: test timed out after 1s\n"}
{"Action":"output","Package":"ex/t","Output":"\trunning tests:\n\t\tTestHang (1s)\n"}
{"Action":"output","Package":"ex/t","Output":"FAIL\tex/t\t1.010s\n"}
{"Action":"fail","Package":"ex/t","Elapsed":1.01}
`

const buildFailure = `{"ImportPath":"ex/b [ex/b.test]","Action":"build-output","Output":"# ex/b [ex/b.test]\n"}
{"ImportPath":"ex/b [ex/b.test]","Action":"build-output","Output":"b/b.go:2:23: cannot use \"a\" (untyped string constant) as int value in return statement\n"}
{"ImportPath":"ex/b [ex/b.test]","Action":"build-fail"}
{"Action":"start","Package":"ex/b"}
{"Action":"output","Package":"ex/b","Output":"FAIL\tex/b [build failed]\n"}
{"Action":"fail","Package":"ex/b","Elapsed":0,"FailedBuild":"ex/b [ex/b.test]"}
`

func run(t *testing.T, events string, goTestErr error, strict bool) (string, bool) {
	t.Helper()
	var out strings.Builder
	s := newSummary(&out)
	for line := range strings.Lines(events) {
		s.line([]byte(strings.TrimSuffix(line, "\n")))
	}
	ok := s.finish(goTestErr, strict)
	return out.String(), ok
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestPassingPackagesShowTheirOkLine(t *testing.T) {
	out, ok := run(t, passing+noTests, nil, true)
	want := "ok  \tex/a\t0.008s\n?   \tex/none\t[no test files]\n\n1 passed, 0 failed, 0 skipped\n"
	if !ok || out != want {
		t.Errorf("ok = %v, output:\n%s\nwant:\n%s", ok, out, want)
	}
}

func TestFailuresAreShownInFull(t *testing.T) {
	out, ok := run(t, passing+failing, errors.New("exit status 1"), false)
	if ok {
		t.Error("a failed test passed the run")
	}
	for _, want := range []string{
		"--- FAIL: TestFail (0.00s)\n", "    f_test.go:6: boom\n--- FAIL: TestFail/sub (0.00s)\n", "FAIL\tex/f\t0.005s\n",
		"failed (2):\n  ex/f TestFail/sub\n  ex/f TestFail\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"=== RUN", "TestQuiet", "go test: exit status 1"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("output has %q:\n%s", unwanted, out)
		}
	}
	if got := lastLine(out); got != "2 passed, 2 failed, 0 skipped" {
		t.Errorf("last line %q", got)
	}
}

func TestAPanicIsShownWithItsStack(t *testing.T) {
	out, ok := run(t, panicking, errors.New("exit status 1"), false)
	if ok || !strings.Contains(out, "panic: oh no [recovered, repanicked]\n\ngoroutine 7 [running]:\nex/p.TestPanic(") ||
		!strings.Contains(out, "p_test.go:8") || lastLine(out) != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

func TestATimeoutShowsTheTestThatNeverEnded(t *testing.T) {
	out, ok := run(t, timedOut, errors.New("exit status 1"), false)
	if ok || !strings.Contains(out, "t_test.go:9: waiting\npanic: test timed out after 1s\n") ||
		!strings.Contains(out, "failed (1):\n  ex/t\n") || lastLine(out) != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

func TestABuildFailureFails(t *testing.T) {
	out, ok := run(t, buildFailure+passing, errors.New("exit status 1"), false)
	if ok || !strings.Contains(out, "# ex/b [ex/b.test]\nb/b.go:2:23: cannot use") || !strings.Contains(out, "FAIL\tex/b [build failed]\n") ||
		!strings.Contains(out, "  ex/b (build failed)\n") || lastLine(out) != "1 passed, 1 failed, 0 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

func TestSkipsAreListedWithTheirReason(t *testing.T) {
	out, ok := run(t, passing+skipping, nil, false)
	if !ok || !strings.Contains(out, "skipped (1):\n  ex/s TestSkip: s_test.go:7: no chromium\n") || lastLine(out) != "1 passed, 0 failed, 1 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

func TestUnderCIASkipIsAFailure(t *testing.T) {
	out, ok := run(t, passing+skipping, nil, true)
	if ok || !strings.Contains(out, "skipped (1), each a failure under CI=true:\n  ex/s TestSkip: s_test.go:7: no chromium\n") ||
		lastLine(out) != "1 passed, 1 failed, 0 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

// TestGoTestFailingAloneFails: go test can fail with no test to show for it (a bad flag, a vet error printed on
// stderr); its exit status decides then.
func TestGoTestFailingAloneFails(t *testing.T) {
	out, ok := run(t, "flag provided but not defined: -bogus\n", errors.New("exit status 2"), false)
	if ok || !strings.Contains(out, "flag provided but not defined: -bogus\n") || !strings.Contains(out, "go test: exit status 2\n") ||
		lastLine(out) != "0 passed, 1 failed, 0 skipped" {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}

// TestCutShortFails: go test's output ends inside a package (killed, or its output lost): that package fails.
func TestCutShortFails(t *testing.T) {
	cut := strings.Join(strings.SplitAfter(failing, "\n")[:5], "")
	out, ok := run(t, cut, nil, false)
	if ok || !strings.Contains(out, "failed (1):\n  ex/f\n") {
		t.Errorf("ok = %v, output:\n%s", ok, out)
	}
}
