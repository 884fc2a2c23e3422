package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/bench/upstream/stats"
)

// proc is a server the benchmark started. It runs in its own process group, so stopping it stops its children
// (nginx's worker) too.
type proc struct {
	name string
	cmd  *exec.Cmd
	argv []string // as started, for the report
	env  []string // its environment, for the report
	done chan struct{}
}

// start runs argv pinned to cpu (when cpu is not ""), with env as its whole environment, in dir, its stdout and
// stderr appended to logPath.
func start(name, cpu string, env []string, dir, logPath string, argv ...string) (*proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own copy
	full := argv
	if cpu != "" {
		full = append([]string{"taskset", "-c", cpu}, argv...)
	}
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Env, cmd.Dir = env, dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, argv: full, env: env, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, and SIGKILL after 5 s.
func (p *proc) stop() {
	if p == nil || p.exited() {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
}

// pids is the process and its direct children (nginx's workers).
func (p *proc) pids() []int {
	return append([]int{p.pid()}, childrenOf(p.pid())...)
}

// procStatFields returns the fields of /proc/<pid>/stat after the command name; index 0 is field 3 (state).
func procStatFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strings.Fields(string(b[i+2:])), nil
}

// cpuTicks is utime+stime (fields 14 and 15, in clock ticks, all threads) summed over pids.
func cpuTicks(pids []int) (int64, error) {
	var total int64
	for _, pid := range pids {
		f, err := procStatFields(pid)
		if err != nil {
			return 0, err
		}
		if len(f) < 13 {
			return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
		}
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		total += utime + stime
	}
	return total, nil
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := procStatFields(child)
		if err == nil && len(f) > 1 && f[1] == strconv.Itoa(pid) {
			kids = append(kids, child)
		}
	}
	return kids
}

// statusKB reads a "Name:   123 kB" line of /proc/<pid>/status, summed over pids.
func statusKB(pids []int, field string) (int64, error) {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return 0, err
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, field+":"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err != nil {
					return 0, err
				}
				total += kb
			}
		}
	}
	return total, nil
}

// sysTicks are the machine's CPU times from the "cpu" line of /proc/stat, all CPUs together, in clock ticks:
// busy is user + nice + system + irq + softirq (interrupt time is partly charged to the interrupted process, partly
// not), steal is what the hypervisor took.
type sysTicks struct{ busy, steal int64 }

func systemTicks() sysTicks {
	var t sysTicks
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t
	}
	f := strings.Fields(firstLine(string(b))) // cpu user nice system idle iowait irq softirq steal ...
	v := func(i int) int64 {
		if i >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return n
	}
	t.busy, t.steal = v(1)+v(2)+v(3)+v(6)+v(7), v(8)
	return t
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitFor polls check until it succeeds, p exits, or 15 s are up.
func waitFor(ctx context.Context, p *proc, what string, check func() error) error {
	return waitWithin(ctx, p, what, 15*time.Second, check)
}

// waitWithin polls check until it succeeds, p exits, or limit is up.
func waitWithin(ctx context.Context, p *proc, what string, limit time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited before %s: see its log", p.name, what)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dialOK(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
}

// get fetches a URL and returns its status and body.
func get(client *http.Client, url string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

func (d *driver) upstreamStats() (stats.Stats, error) {
	var s stats.Stats
	status, body, err := get(http.DefaultClient, "http://"+d.upStatsAddr+"/stats", nil)
	if err != nil {
		return s, err
	}
	if status != http.StatusOK {
		return s, fmt.Errorf("upstream stats: status %d", status)
	}
	return s, json.Unmarshal(body, &s)
}

func (d *driver) setDelay(delay time.Duration) error {
	resp, err := http.Post("http://"+d.upStatsAddr+"/delay?d="+delay.String(), "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("upstream delay: status %d", resp.StatusCode)
	}
	return nil
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times.
func clockTick() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
