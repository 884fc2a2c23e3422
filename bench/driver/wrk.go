package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/bench/upstream/stats"
)

// wrkResult is what bench/report.lua prints after a run.
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	P50        float64 `json:"p50_us"`
	P90        float64 `json:"p90_us"`
	P99        float64 `json:"p99_us"`
	Max        float64 `json:"max_us"`
	Mean       float64 `json:"mean_us"`
	ErrConnect int64   `json:"err_connect"`
	ErrRead    int64   `json:"err_read"`
	ErrWrite   int64   `json:"err_write"`
	ErrStatus  int64   `json:"err_status"`
	ErrTimeout int64   `json:"err_timeout"`
}

func (w wrkResult) socketErrors() int64 { return w.ErrConnect + w.ErrRead + w.ErrWrite + w.ErrTimeout }

// target is one thing wrk loads.
type target struct {
	name   string // short id
	label  string // for the report
	url    string
	header string // extra request header, e.g. Authorization for the direct case
	proc   *proc  // the proxy whose CPU and memory are measured; nil for direct
}

// run is one measured wrk run and what the processes did meanwhile.
type run struct {
	Phase    string    `json:"phase"`
	Target   string    `json:"target"`
	Conns    int       `json:"conns"`
	Round    int       `json:"round"`
	Wrk      wrkResult `json:"wrk"`
	RPS      float64   `json:"rps"`
	ProxyCPU float64   `json:"proxy_cpu_us_per_req"` // 0 for direct
	UpCPU    float64   `json:"upstream_cpu_us_per_req"`
	// New upstream TLS handshakes, and upstream requests, in the steady part of the run (steadyWindow).
	Handshakes     int64 `json:"upstream_handshakes"`
	WindowRequests int64 `json:"window_requests"`
	// The load generator's CPU use, CPU used by processes other than the measured ones (other developers'
	// builds and tests on a shared machine), and steal, each as a share of one core.
	WrkCPU   float64 `json:"wrk_cpu"`
	OtherCPU float64 `json:"other_cpu"`
	Steal    float64 `json:"steal"`
	// Seconds waited before the run for the machine to fall quiet.
	QuietWait float64 `json:"quiet_wait_s"`
	Command   string  `json:"command"`
}

func (r run) errors() int64 { return r.Wrk.ErrStatus + r.Wrk.socketErrors() }

// wrkCommand is the wrk command line for a target; the token is shown as $TOKEN in the report.
func (d *driver) wrkCommand(t target, conns int, dur time.Duration) []string {
	argv := []string{"wrk", "-t1", "-c" + strconv.Itoa(conns), "-d" + durationArg(dur), "--latency", "-s", d.luaScript}
	if t.header != "" {
		argv = append(argv, "-H", t.header)
	}
	argv = append(argv, t.url)
	if d.loadCPU != "" {
		argv = append([]string{"taskset", "-c", d.loadCPU}, argv...)
	}
	return argv
}

// durationArg is wrk's -d: whole seconds, at least one (wrk takes no smaller unit).
func durationArg(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second))) + "s"
}

// runWrk runs wrk once and returns its result and its own CPU time. during, when set, runs alongside wrk and
// runWrk waits for it.
func (d *driver) runWrk(ctx context.Context, argv []string, dur time.Duration, during func()) (wrkResult, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, dur+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return wrkResult{}, 0, err
	}
	var sampled sync.WaitGroup
	if during != nil {
		sampled.Go(during)
	}
	err := cmd.Wait()
	sampled.Wait()
	text := stdout.String()
	d.appendLog("wrk.log", d.redact(strings.Join(argv, " "))+"\n"+text+stderr.String()+"\n")
	if err != nil {
		return wrkResult{}, 0, fmt.Errorf("%s: %v: %s", d.redact(strings.Join(argv, " ")), err, stderr.String())
	}
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if js, ok := strings.CutPrefix(sc.Text(), "BENCHJSON "); ok {
			var res wrkResult
			if err := json.Unmarshal([]byte(js), &res); err != nil {
				return wrkResult{}, 0, err
			}
			return res, cpu, nil
		}
	}
	return wrkResult{}, 0, fmt.Errorf("no BENCHJSON line in wrk's output:\n%s", text)
}

// steadyWindow is the part of a measured run whose upstream counters are read: it leaves out the first second
// (a proxy may still be re-opening upstream connections that the end of the previous run broke, as nginx does
// when wrk hangs up with requests in flight) and the last half second.
func steadyWindow(dur time.Duration) (from, to time.Duration) {
	return min(time.Second, dur/4), dur - min(500*time.Millisecond, dur/8)
}

// measure runs a warm-up, then one measured run of target at conns, and reads the counters around it.
func (d *driver) measure(ctx context.Context, phase string, t target, conns, round int, warmup, dur time.Duration) (run, error) {
	waited := d.waitQuiet(ctx)
	if err := d.placeUpstream(t); err != nil {
		return run{}, err
	}
	if warmup > 0 {
		if _, _, err := d.runWrk(ctx, d.wrkCommand(t, conns, warmup), warmup, nil); err != nil {
			return run{}, err
		}
	}
	var pids []int
	if t.proc != nil {
		pids = t.proc.pids()
	}
	upPids := []int{d.upstream.pid()}
	proxy0, err := cpuTicks(pids)
	if err != nil {
		return run{}, err
	}
	up0, err := cpuTicks(upPids)
	if err != nil {
		return run{}, err
	}
	sys0, t0 := systemTicks(), time.Now()

	var s1, s2 stats.Stats
	var sampleErr error
	from, to := steadyWindow(dur)
	argv := d.wrkCommand(t, conns, dur)
	res, wrkCPU, err := d.runWrk(ctx, argv, dur, func() {
		time.Sleep(from)
		s1, sampleErr = d.upstreamStats()
		time.Sleep(to - from)
		if sampleErr == nil {
			s2, sampleErr = d.upstreamStats()
		}
	})
	if err = errors.Join(err, sampleErr); err != nil {
		return run{}, err
	}

	sys1, wall := systemTicks(), time.Since(t0)
	proxy1, err := cpuTicks(pids)
	if err != nil {
		return run{}, err
	}
	up1, err := cpuTicks(upPids)
	if err != nil {
		return run{}, err
	}
	r := run{Phase: phase, Target: t.name, Conns: conns, Round: round, Wrk: res, QuietWait: waited.Seconds(),
		Handshakes: s2.Handshakes - s1.Handshakes, WindowRequests: s2.Requests - s1.Requests,
		Command: d.redact(shellLine(argv))}
	secs := float64(res.DurationUS) / 1e6
	if secs > 0 {
		r.RPS = float64(res.Requests) / secs
		r.WrkCPU = wrkCPU.Seconds() / secs
	}
	tick := 1e6 / float64(d.clkTck) // µs
	if res.Requests > 0 {
		if t.proc != nil {
			r.ProxyCPU = float64(proxy1-proxy0) * tick / float64(res.Requests)
		}
		r.UpCPU = float64(up1-up0) * tick / float64(res.Requests)
	}
	// CPU that none of the measured processes used, and steal, as shares of one core over the run.
	ours := float64(proxy1-proxy0+up1-up0) + wrkCPU.Seconds()*float64(d.clkTck)
	wallTicks := wall.Seconds() * float64(d.clkTck)
	r.OtherCPU = max(0, (float64(sys1.busy-sys0.busy)-ours)/wallTicks)
	r.Steal = float64(sys1.steal-sys0.steal) / wallTicks
	fmt.Fprintf(os.Stderr, "  %-7s %-8s c=%-3d round %d: %8.0f req/s  p50 %6.0f µs  p99 %7.0f µs  proxy %5.1f µs/req  up %5.1f µs/req  hs %d/%d  err %d  other %3.0f%%\n",
		phase, t.name, conns, round, r.RPS, res.P50, res.P99, r.ProxyCPU, r.UpCPU, r.Handshakes, r.WindowRequests, r.errors(), 100*r.OtherCPU)
	return r, nil
}

// waitQuiet waits, within the run's share of the quiet budget (20 s at most), until the machine has a second in
// which under 10% of one core is busy: the servers are idle between runs, so what is busy then is someone else.
func (d *driver) waitQuiet(ctx context.Context) time.Duration {
	start := time.Now()
	for d.quietLeft > 0 && time.Since(start) < 20*time.Second && ctx.Err() == nil {
		a := systemTicks()
		time.Sleep(time.Second)
		b := systemTicks()
		if float64(b.busy-a.busy) < 0.10*float64(d.clkTck) {
			break
		}
		d.quietLeft -= time.Second
	}
	waited := time.Since(start)
	if waited > 2*time.Second {
		fmt.Fprintf(os.Stderr, "  (waited %s for the machine to fall quiet)\n", waited.Round(time.Second))
	}
	return waited
}

// placeUpstream pins the upstream where the layout wants it for t: in the split layout it shares CPU 0 with wrk
// while a proxy is measured, and has the proxies' CPU to itself for the direct runs, so that direct shows what
// the upstream can do with a core of its own.
func (d *driver) placeUpstream(t target) error {
	want := d.upstreamCPU
	if t.proc == nil && d.opts.layout == "split" {
		want = d.serverCPU
	}
	if want == "" || want == d.upstreamOn {
		return nil
	}
	out, err := exec.Command("taskset", "-a", "-p", "-c", want, strconv.Itoa(d.upstream.pid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset upstream: %v: %s", err, out)
	}
	d.upstreamOn = want
	return nil
}
