// Command testsummary runs `go test -json` with the arguments it is given and shows go test's usual output,
// then a summary: each skipped test with its reason, each failure, and a last line "N passed, N failed,
// N skipped". It exits 1 when a test or a build failed, when go test itself failed, and, with CI=true, when a
// test was skipped: the one place where that rule lives (`make test` runs it). $GO names the go command.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"os/exec"
)

func main() {
	goCommand := cmp.Or(os.Getenv("GO"), "go")
	cmd := exec.Command(goCommand, append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	events, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	s := newSummary(out)
	lines := bufio.NewScanner(events)
	lines.Buffer(make([]byte, 0, 64<<10), 16<<20) // a test may print a long line
	for lines.Scan() {
		s.line(lines.Bytes())
		out.Flush()
	}
	scanErr := lines.Err()
	waitErr := cmd.Wait()
	if scanErr != nil {
		waitErr = fmt.Errorf("reading its output: %v (%v)", scanErr, waitErr)
	}
	ok := s.finish(waitErr, os.Getenv("CI") == "true")
	out.Flush()
	if !ok {
		os.Exit(1)
	}
}
