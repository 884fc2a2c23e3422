package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

type machineInfo struct {
	NProc    int    `json:"nproc"`
	CPUModel string `json:"cpu_model"`
	MemTotal string `json:"mem_total"`
	Kernel   string `json:"kernel"`
	OS       string `json:"os"`
	Go       string `json:"go"`
	Nginx    string `json:"nginx"`
	Wrk      string `json:"wrk"`
	HFMicro  string `json:"hf_micro"`
	TLB      string `json:"tlb"` // what a system call does to the TLB
}

type startupResult struct {
	Runs    int       `json:"runs"`
	Median  float64   `json:"median_ms"`
	Min     float64   `json:"min_ms"`
	Max     float64   `json:"max_ms"`
	Samples []float64 `json:"samples_ms"`
	Poll    string    `json:"poll_step"`
}

type results struct {
	Date        string            `json:"date"`
	Elapsed     string            `json:"elapsed"`
	Machine     machineInfo       `json:"machine"`
	LoadCPU     string            `json:"load_cpu"`
	ServerCPU   string            `json:"server_cpu"`
	UpstreamCPU string            `json:"upstream_cpu"`
	Addrs       map[string]string `json:"addrs"`
	BodyBytes   int               `json:"body_bytes"`
	Runs        []run             `json:"runs"`
	RSSMain     []rss             `json:"rss_after_main"`
	RSSRemote   []rss             `json:"rss_after_remote"`
	Bursts      []burst           `json:"bursts"`
	Startup     startupResult     `json:"startup"`
	BinaryBytes int64             `json:"binary_bytes"`
	Image       string            `json:"image"`
	Processes   []string          `json:"processes"`
	Profiles    []string          `json:"profiles,omitempty"`
	Cache       cacheResults      `json:"cache"`
	Scenario    string            `json:"scenario"`
	// How the run was set up, for rendering the report again (-from).
	Layout    string `json:"layout"`
	Rounds    int    `json:"rounds"`
	ClockTick int64  `json:"clock_tick"`
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func commandOutput(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return firstLine(string(out))
}

func machine(o options) machineInfo {
	m := machineInfo{NProc: runtime.NumCPU()}
	var flags []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok && m.CPUModel == "" {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
			if v, ok := strings.CutPrefix(line, "flags"); ok && flags == nil {
				flags = strings.Fields(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	m.TLB = tlbOnSyscalls(flags)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(firstLine(string(b))); len(f) >= 2 {
			if kb, err := strconv.ParseFloat(f[1], 64); err == nil {
				m.MemTotal = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/etc/debian_version"); err == nil {
		m.OS += " (" + strings.TrimSpace(string(b)) + ")"
	}
	m.Go = commandOutput("go", "version")
	m.Nginx = strings.TrimPrefix(commandOutput("nginx", "-v"), "nginx version: ")
	m.Wrk = commandOutput("wrk", "-v")
	if i := strings.Index(m.Wrk, " Copyright"); i > 0 {
		m.Wrk = m.Wrk[:i]
	}
	m.HFMicro = commandOutput(o.hfMicro, "version")
	return m
}

// tlbOnSyscalls says whether a system call flushes the TLB: with the kernel's page-table isolation (PTI, the
// Meltdown mitigation) and no PCID it does, every time, and a request then pays for every code and data page
// it touches again after each of its system calls, so CPU per request moves with where the code lies.
func tlbOnSyscalls(cpuFlags []string) string {
	b, err := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown")
	if err != nil {
		return "unknown"
	}
	state := strings.TrimSpace(string(b))
	switch {
	case !strings.Contains(state, "PTI"):
		return state + ": no page-table isolation; system calls keep the TLB"
	case slices.Contains(cpuFlags, "pcid"):
		return state + ", with PCID: system calls keep most of the TLB"
	default:
		return state + ", without PCID: every system call flushes the TLB"
	}
}

// agg is the runs of one case put together: medians of rates, latencies and CPU (the mean, for two runs);
// sums of counts; the worst noise.
type agg struct {
	n                                 int
	rps, rpsMin, rpsMax               float64
	p50, p99, proxyCPU, upCPU, wrkCPU float64
	otherMax                          float64
	requests, windowRequests          int64
	handshakes, errs                  int64
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (d *driver) agg(phase, name string, conns int) agg {
	var a agg
	var rps, p50, p99, proxyCPU, upCPU, wrkCPU []float64
	for _, r := range d.results.Runs {
		if r.Phase != phase || r.Target != name || r.Conns != conns {
			continue
		}
		if a.n == 0 || r.RPS < a.rpsMin {
			a.rpsMin = r.RPS
		}
		a.rpsMax = max(a.rpsMax, r.RPS)
		a.otherMax = max(a.otherMax, r.OtherCPU)
		a.n++
		rps, p50, p99 = append(rps, r.RPS), append(p50, r.Wrk.P50), append(p99, r.Wrk.P99)
		proxyCPU, upCPU, wrkCPU = append(proxyCPU, r.ProxyCPU), append(upCPU, r.UpCPU), append(wrkCPU, r.WrkCPU)
		a.requests += r.Wrk.Requests
		a.windowRequests += r.WindowRequests
		a.handshakes += r.Handshakes
		a.errs += r.errors()
	}
	a.rps, a.p50, a.p99 = median(rps), median(p50), median(p99)
	a.proxyCPU, a.upCPU, a.wrkCPU = median(proxyCPU), median(upCPU), median(wrkCPU)
	return a
}

func (a agg) handshakesPerReq() float64 {
	if a.windowRequests == 0 {
		return 0
	}
	return float64(a.handshakes) / float64(a.windowRequests)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func (d *driver) totalQuietWait() float64 {
	var t float64
	for _, r := range d.results.Runs {
		t += r.QuietWait
	}
	return t
}

func (d *driver) hwm(list []rss, name string) int64 {
	for _, r := range list {
		if r.Name == name {
			return r.HWMKiB
		}
	}
	return 0
}

type verdict struct{ goal, measured, result string }

// renderFloor sets, from the paired phase, hf-micro's and the baseline's CPU per request beside the floor's:
// the part above the floor is each proxy's own work, and issue 16's target (0.9 × baseline) leaves hf-micro's
// whole request path the budget in the last column.
func (d *driver) renderFloor(p func(string, ...any)) {
	p("## Paired runs: account, baseline and floor back to back\n\n")
	p("%d short runs of each (%s measured after a %s warm-up) at 1 and 32 connections, the three back to back and each "+
		"first in turn, so each ratio compares runs seconds apart; this machine's speed drifts by tens of per cent within "+
		"a minute, which moves the medians of the main phase, whose runs of one target are minutes apart. Ratios are the "+
		"median over the pairs of one run's CPU per request over the other's (lowest–highest); µs are medians. `floor` is the "+
		"bare net/http proxy, the least any Go proxy of this shape costs; what a proxy costs above it is its own work.\n\n",
		d.opts.pairs, d.opts.pairDuration, d.opts.pairDuration/4)
	p("| conns | floor µs | baseline µs | account µs | account / baseline | baseline / floor | account / floor | baseline's own work µs | hf-micro's own work µs | left for hf-micro's own work by 0.9 × baseline µs |\n")
	p("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range []int{1, 32} {
		floor, base, acc := d.agg("paired", "floor", conns), d.agg("paired", "baseline", conns), d.agg("paired", "account", conns)
		p("| %d | %.1f | %.1f | %.1f | %s | %s | %s | %+.1f | %+.1f | %+.1f |\n", conns, floor.proxyCPU, base.proxyCPU, acc.proxyCPU,
			d.pairedRatio("account", "baseline", conns), d.pairedRatio("baseline", "floor", conns), d.pairedRatio("account", "floor", conns),
			base.proxyCPU-floor.proxyCPU, acc.proxyCPU-floor.proxyCPU, 0.9*base.proxyCPU-floor.proxyCPU)
	}
	p("\nPair by pair, account / baseline: %s at 1 connection; %s at 32.\n\n",
		listRatios(d.pairRatios("paired", "account", "baseline", 1)), listRatios(d.pairRatios("paired", "account", "baseline", 32)))
	p("**Layout control:** `relinked` is the baseline's own code linked with its functions in a random order "+
		"(`-ldflags=-randlayout=1`): the same work, other places in the binary. relinked / baseline: %s at 1 connection; %s at 32. "+
		"A CPU ratio between two binaries is only as exact as this: a difference of that size can come from layout alone "+
		"(TLB on a system call, in the machine table, says whether each system call makes a request touch its pages anew).\n\n",
		d.pairedRatio("relinked", "baseline", 1), d.pairedRatio("relinked", "baseline", 32))
}

// pairedRatio is the median of the paired phase's ratios of name over ref, with their range.
func (d *driver) pairedRatio(name, ref string, conns int) string {
	v := d.pairRatios("paired", name, ref, conns)
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", median(v), slices.Min(v), slices.Max(v))
}

func met(ok bool, margin string) string {
	if ok {
		return "**met** (" + margin + ")"
	}
	return "**missed** (" + margin + ")"
}

func (d *driver) verdicts() []verdict {
	var v []verdict
	for _, conns := range []int{32, 1} {
		acc, ngx, base := d.agg("main", "account", conns), d.agg("main", "nginx", conns), d.agg("main", "baseline", conns)
		v = append(v, verdict{
			fmt.Sprintf("proxy CPU per request, /api/account (cache off), %d conn: ≤ nginx's", conns),
			fmt.Sprintf("%.1f µs vs nginx %.1f µs = %s", acc.proxyCPU, ngx.proxyCPU, ratio(acc.proxyCPU, ngx.proxyCPU)),
			met(acc.proxyCPU <= ngx.proxyCPU, fmt.Sprintf("%+.1f µs", acc.proxyCPU-ngx.proxyCPU)),
		}, verdict{
			fmt.Sprintf("proxy CPU per request, /api/account (cache off), %d conn: ≤ 0.75 × ReverseProxy baseline", conns),
			fmt.Sprintf("%.1f µs vs baseline %.1f µs = %s", acc.proxyCPU, base.proxyCPU, ratio(acc.proxyCPU, base.proxyCPU)),
			met(acc.proxyCPU <= 0.75*base.proxyCPU, fmt.Sprintf("limit %.1f µs, %+.1f µs", 0.75*base.proxyCPU, acc.proxyCPU-0.75*base.proxyCPU)),
		})
		pairs := d.pairRatios("paired", "account", "baseline", conns)
		v = append(v, verdict{
			fmt.Sprintf("proxy CPU per request, /api/account (cache off, metrics on), %d conn: ≤ 0.9 × ReverseProxy baseline, median of the paired runs (issue 16)", conns),
			fmt.Sprintf("%s over %d pairs; the main phase's medians: %s", d.pairedRatio("account", "baseline", conns), len(pairs), ratio(acc.proxyCPU, base.proxyCPU)),
			met(len(pairs) > 0 && median(pairs) <= 0.9, fmt.Sprintf("%+.3f", median(pairs)-0.9)),
		})
	}
	direct1, ngx1 := d.agg("main", "direct", 1), d.agg("main", "nginx", 1)
	ngxAdded := ngx1.p50 - direct1.p50
	for _, name := range []string{"account", "dropin"} {
		a := d.agg("main", name, 1)
		added := a.p50 - direct1.p50
		v = append(v, verdict{
			fmt.Sprintf("p50 added at 1 connection (%s): ≤ nginx's added p50 + 10 µs", name),
			fmt.Sprintf("%.0f µs vs nginx %.0f µs", added, ngxAdded),
			met(added <= ngxAdded+10, fmt.Sprintf("limit %.0f µs, %+.0f µs", ngxAdded+10, added-ngxAdded-10)),
		})
	}
	hwm := d.hwm(d.results.RSSMain, "hf-micro")
	v = append(v, verdict{"peak RSS (VmHWM) after the 32-connection runs: ≤ 20 MiB",
		fmt.Sprintf("%.1f MiB", float64(hwm)/1024), met(hwm <= 20*1024, fmt.Sprintf("%+.1f MiB", float64(hwm-20*1024)/1024))})

	var hs, reqs, errs int64
	for _, r := range d.results.Runs {
		if r.Target == "account" || r.Target == "dropin" {
			errs += r.errors()
			if r.Phase == "main" {
				hs += r.Handshakes
				reqs += r.WindowRequests
			}
		}
	}
	v = append(v, verdict{"new upstream TLS handshakes per request in steady state (main phase, hf-micro): 0",
		fmt.Sprintf("%d handshakes over %d upstream requests", hs, reqs), met(hs == 0, fmt.Sprintf("%.2g per request", float64(hs)/float64(max(reqs, 1))))})
	v = append(v, verdict{"errors (non-2xx + socket errors, every hf-micro run): 0", fmt.Sprint(errs), met(errs == 0, fmt.Sprint(errs))})

	direct := d.agg("remote", "direct", d.opts.remoteConns)
	for _, name := range []string{"account", "dropin"} {
		a := d.agg("remote", name, d.opts.remoteConns)
		v = append(v, verdict{
			fmt.Sprintf("remote Hub (%s delay), %d connections, %s: ≥ 0.95 × direct", d.opts.remoteDelay, d.opts.remoteConns, name),
			fmt.Sprintf("%.0f vs %.0f req/s = %s", a.rps, direct.rps, ratio(a.rps, direct.rps)),
			met(a.rps >= 0.95*direct.rps, fmt.Sprintf("%+.1f%%", 100*(a.rps/max(direct.rps, 1)-1))),
		})
	}
	s := d.results.Startup
	v = append(v, verdict{"start-up, exec to first 200 on /healthz: median ≤ 15 ms", fmt.Sprintf("%.2f ms", s.Median),
		met(s.Median <= 15, fmt.Sprintf("%+.2f ms", s.Median-15))})
	b := d.results.BinaryBytes
	v = append(v, verdict{"binary (make build): ≤ 10 MB (10,000,000 bytes; 10 MiB is 10,485,760)",
		fmt.Sprintf("%.2f MB = %.2f MiB (%d bytes)", float64(b)/1e6, float64(b)/(1<<20), b),
		met(b <= 10_000_000, fmt.Sprintf("%+.2f MB; %+.2f MiB against 10 MiB", float64(b-10_000_000)/1e6, float64(b-10<<20)/(1<<20)))})
	return v
}

func (d *driver) render() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	r, m, o := d.results, d.results.Machine, d.opts

	p("# Benchmarks\n\n")
	p("Written by `%s` (bench/) on **%s**; the whole run took %s. Rerun it rather than editing this file: the\n", o.command, r.Date, r.Elapsed)
	p("numbers below are from one run on the machine described, and move by a few per cent between runs.\n\n")

	p("## Machine\n\n| | |\n|---|---|\n")
	p("| CPUs (nproc) | %d |\n| CPU model | %s |\n| memory | %s |\n| kernel | %s |\n| OS | %s |\n", m.NProc, m.CPUModel, m.MemTotal, m.Kernel, m.OS)
	p("| Go | %s |\n| nginx | %s |\n| wrk | %s |\n| hf-micro | %s |\n| TLB on a system call | %s |\n\n", m.Go, m.Nginx, m.Wrk, m.HFMicro, m.TLB)

	if r.Scenario == "cache" {
		p("Only the download-cache scenario (`-scenario cache`); CPU layout `%s` (server on CPU %s, load and upstream on CPU %s).\n\n",
			o.layout, d.serverCPU, d.loadCPU)
		d.renderCache(p)
		p("Processes started:\n\n```sh\n")
		for _, line := range r.Processes {
			p("%s\n", line)
		}
		p("```\n")
		return b.String()
	}
	p("## Set-up\n\n")
	p("Everything runs on 127.0.0.1. ")
	switch o.layout {
	case "split":
		p("CPU pinning (`taskset`, layout `split`): the proxy under test has CPU %s to itself; wrk (and the burst client) "+
			"and the upstream share CPU %s. The proxy is what is measured, and a real Hub's CPU is not the proxy's: this "+
			"way neither the load generator nor the emulated Hub takes CPU from the proxy, and req/s shows where the proxy "+
			"itself runs out of its core. Go sets GOMAXPROCS=1 from the affinity (the upstream too), and nginx runs one worker, so each "+
			"proxy has one core. For the `direct` runs the upstream is moved (`taskset -a -p`) to CPU %s, idle then, so that "+
			"direct is what the upstream does with a core of its own while wrk has the other.\n\n", d.serverCPU, d.loadCPU, d.serverCPU)
	case "shared":
		p("CPU pinning (`taskset`, layout `shared`): wrk (and the burst client) on CPU %s; the upstream and the proxy "+
			"under test share CPU %s. Go sets GOMAXPROCS=1 from the affinity, and nginx runs one worker.\n\n", d.loadCPU, d.serverCPU)
	default:
		p("Nothing is pinned (layout `none`, or a single CPU).\n\n")
	}
	h2 := "HTTP/2 and HTTP/1.1 by ALPN, as the Hub does"
	if !o.upstreamH2 {
		h2 = "HTTP/1.1 only (`-upstream-h2=false`)"
	}
	p("- **upstream** (`bench/upstream`): a lean fake Hub over HTTPS (P-256 certificate from a throwaway CA, TLS 1.3, %s). "+
		"`GET /api/whoami-v2` with the right bearer token answers a fixed %d-byte whoami-v2 body with ten Hub-like headers; "+
		"it counts TLS handshakes (tls.Config.VerifyConnection) and whoami answers on a loopback stats endpoint.\n", h2, r.BodyBytes)
	p("- **direct**: wrk → upstream over HTTPS with the token: the physical limit. Its handshake count is wrk's own connections, so it is left out.\n")
	p("- **hf-micro** (`make build` binary, `serve`): `HF_ENDPOINT` = the upstream, `SSL_CERT_FILE` = its certificate, " +
		"`HF_TOKEN`, `HF_MICRO_ACCOUNT_CACHE_TTL=0`, `LOG_LEVEL=info`, `LOG_FORMAT=json`, `HF_MICRO_METRICS_ADDR=127.0.0.1:0` (metrics on); callers are on loopback, so no " +
		"credential is sent and the server's token is used. Its JSON log (one access line per request) goes to a file. " +
		"`account` is `GET /api/account` (hf-micro's Hub client); `dropin` is `GET /api/whoami-v2` (the reverse proxy).\n")
	p("- **nginx** (`bench/nginx.conf.tmpl`): one worker, `proxy_pass` to the upstream over HTTPS with a keep-alive pool (`keepalive 512`), " +
		"certificate verified, `proxy_set_header Authorization \"Bearer <token>\"`, `keepalive_requests 1000000` both sides " +
		"(Go has no such limit). **access_log on**: one JSON line per request with the fields of hf-micro's line " +
		"(method, path, status, bytes, duration, upstream status, a random request id), unbuffered, to a file.\n")
	p("- **baseline** (`bench/baseline`): `httputil.ReverseProxy` with one transport (a clone of `http.DefaultTransport`, " +
		"so HTTP/2 to the upstream like hf-micro), the token injected in `Rewrite`, and one slog JSON access line per request to a file.\n")
	p("- **floor** (`bench/baseline -bare`): the same net/http server and transport doing nothing but the call: one `RoundTrip` " +
		"with the token, the answer read into one buffer and written back with its status and `Content-Type`; no access log, " +
		"no timeout, no checks. No Go proxy of this shape costs less; what one costs above it is what it does.\n\n")
	p("Each case: a %s warm-up run, then a %s measured run, `wrk -t1 --latency` with `bench/report.lua` printing the numbers; "+
		"%d rounds, all targets interleaved (the order reversed every other round). Figures are medians over the rounds (for two rounds, the mean). "+
		"This machine may be shared with other work: before each run the driver waits (up to 20 s, %s in all) for a second in which "+
		"the machine is under 10%% busy, and each run records the CPU that something else used meanwhile (*other CPU* in the last table); "+
		"this run spent %.0f s in those checks (each takes 1 s when the machine is quiet).\n",
		o.warmup, o.duration, o.rounds, o.quietBudget, d.totalQuietWait())
	p("**Proxy CPU per request** = utime+stime of the proxy's processes (`/proc/<pid>/stat`, %d ticks/s, all threads; nginx: master and worker) "+
		"over the measured run, divided by the requests wrk reports. **Upstream CPU** is the same for the upstream. "+
		"**Handshakes per request** = new TLS handshakes the upstream completed in the steady part of the measured run (after its first second) / the upstream requests in that window. "+
		"**Errors** = wrk's non-2xx/3xx answers + socket errors (connect, read, write, timeout). **Peak RSS** = VmHWM from `/proc/<pid>/status`.\n\n", d.clkTck)

	p("## Results: the whoami call, upstream answering at once\n\n")
	p("| target | conns | req/s | vs direct | vs nginx | p50 µs | p99 µs | p50 added µs | proxy CPU µs/req | CPU vs nginx | CPU vs baseline | upstream CPU µs/req | upstream TLS handshakes/req | errors |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, conns := range []int{1, 32} {
		direct, ngx, base := d.agg("main", "direct", conns), d.agg("main", "nginx", conns), d.agg("main", "baseline", conns)
		for _, t := range d.targets() {
			a := d.agg("main", t.name, conns)
			cpu, cpuN, cpuB, hs, added := "–", "–", "–", "–", "–"
			if t.name != "direct" {
				cpu = fmt.Sprintf("%.1f", a.proxyCPU)
				cpuN, cpuB = ratio(a.proxyCPU, ngx.proxyCPU), ratio(a.proxyCPU, base.proxyCPU)
				hs = fmt.Sprintf("%.2g", a.handshakesPerReq())
				added = fmt.Sprintf("%+.0f", a.p50-direct.p50)
			}
			p("| %s | %d | %.0f (%.0f–%.0f) | %s | %s | %.0f | %.0f | %s | %s | %s | %s | %.1f | %s | %d |\n",
				t.name, conns, a.rps, a.rpsMin, a.rpsMax, ratio(a.rps, direct.rps), ratio(a.rps, ngx.rps), a.p50, a.p99, added,
				cpu, cpuN, cpuB, a.upCPU, hs, a.errs)
		}
	}
	p("\nreq/s: median of the rounds (lowest–highest). At 32 connections each proxy keeps its one core busy, so req/s " +
		"there is about 1 s / proxy CPU per request. p50 added = the target's p50 − direct's p50 at the same connections. " +
		"Upstream CPU per request is lower behind nginx than behind the Go proxies partly because nginx talks HTTP/1.1 " +
		"to it and they talk HTTP/2.\n\n")

	d.renderBudgets(p)

	p("**Peak memory** (VmHWM, MiB; nginx: master + worker):\n\n| process | after the 1- and 32-connection runs | after the %d-connection remote-Hub runs |\n|---|--:|--:|\n", o.remoteConns)
	for i, x := range r.RSSMain {
		later := int64(0)
		if i < len(r.RSSRemote) {
			later = r.RSSRemote[i].HWMKiB
		}
		p("| %s (%s) | %.1f | %.1f |\n", x.Name, x.Process, float64(x.HWMKiB)/1024, float64(later)/1024)
	}

	p("\n")
	d.renderFloor(p)

	p("## Remote Hub: the upstream waits %s before each answer, %d connections\n\n", o.remoteDelay, o.remoteConns)
	p("*proxy core busy* = proxy CPU per request × req/s: near 100%% means the proxy's one core, not the Hub's latency or "+
		"the connection pool, is what limits req/s (256 connections over a 50 ms Hub allow at most %.0f req/s).\n\n", float64(o.remoteConns)/o.remoteDelay.Seconds())
	p("| target | req/s | vs direct | p50 ms | p99 ms | proxy CPU µs/req | proxy core busy | upstream TLS handshakes/req | errors |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	direct := d.agg("remote", "direct", o.remoteConns)
	for _, t := range d.targets() {
		a := d.agg("remote", t.name, o.remoteConns)
		cpu, busy, hs := "–", "–", "–"
		if t.name != "direct" {
			cpu, hs = fmt.Sprintf("%.1f", a.proxyCPU), fmt.Sprintf("%.2g", a.handshakesPerReq())
			busy = fmt.Sprintf("%.0f%%", a.proxyCPU*a.rps/1e4)
		}
		p("| %s | %.0f | %s | %.1f | %.1f | %s | %s | %s | %d |\n", t.name, a.rps, ratio(a.rps, direct.rps), a.p50/1000, a.p99/1000, cpu, busy, hs, a.errs)
	}

	p("\n## Burst: %d identical concurrent `GET /api/account`, upstream delay %s\n\n", o.burstN, o.remoteDelay)
	p("Each request on its own connection, released together (`bench/burst`); Hub calls and new TLS handshakes " +
		"counted at the upstream. Each variant is a fresh hf-micro; before its bursts, one drop-in request to a path the " +
		"upstream answers 404 opens its connection to the upstream without touching an account cache. Burst 2 follows " +
		"burst 1 at once.\n\n")
	p("| hf-micro | burst | Hub calls | new upstream handshakes | client summary |\n|---|--:|--:|--:|---|\n")
	for _, x := range r.Bursts {
		var client bytes.Buffer
		if json.Compact(&client, x.Client) != nil {
			client.Reset()
			client.Write(x.Client)
		}
		p("| %s | %d | %d | %d | `%s` |\n", x.Variant, x.Attempt, x.HubCalls, x.Handshakes, client.String())
	}

	p("\nThe cache-off burst shows the HTTP/2 connection pool under a burst: more concurrent requests than the " +
		"upstream's stream limit per connection (Go's server: 250) make Go's transport dial a new TLS connection for " +
		"each request that finds every connection full, until the first new ones are up; burst 2 reuses them.\n")

	p("\n")
	d.renderCache(p)
	p("## Start-up and size\n\n")
	s := r.Startup
	p("- start-up, exec to the first 200 on `/healthz` (`bench/startup`, polling every %s, unpinned): **median %.2f ms** over %d runs (min %.2f, max %.2f)\n",
		s.Poll, s.Median, s.Runs, s.Min, s.Max)
	p("- binary (`make build`: static, `-trimpath -ldflags \"-s -w\"`): **%.2f MB** (%d bytes)\n", float64(r.BinaryBytes)/1e6, r.BinaryBytes)
	p("- image: %s\n\n", r.Image)

	p("## Variance\n\nThe machine is a 2-vCPU virtual machine. Its speed drifts between runs by more than the " +
		"*other CPU* column shows (the hypervisor's neighbours do not appear in /proc/stat): compare the lowest–highest " +
		"req/s, and compare targets within a round (the last table) rather than across rounds. Ratios between targets " +
		"are steadier than absolute figures.\n\n")
	p("## Targets (issue #6)\n\n| goal | measured | result |\n|---|---|---|\n")
	for _, v := range d.verdicts() {
		p("| %s | %s | %s |\n", v.goal, v.measured, v.result)
	}

	p("\n## Every run\n\n")
	p("Handshakes are counted in the steady part of the run (after the first second, before the last half second) " +
		"against the upstream requests of the same window. *other CPU*: CPU time used on the machine by anything but " +
		"wrk, the upstream and the measured proxy, as a share of one core (other people's builds and tests on a shared " +
		"machine, and the kernel's network work); *steal*: the hypervisor's.\n\n")
	p("| phase | target | conns | round | req/s | p50 µs | p99 µs | proxy CPU µs/req | upstream CPU µs/req | handshakes / window requests | errors | wrk CPU | other CPU | steal |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, x := range r.Runs {
		p("| %s | %s | %d | %d | %.0f | %.0f | %.0f | %.1f | %.1f | %d / %d | %d | %.0f%% | %.0f%% | %.0f%% |\n", x.Phase, x.Target, x.Conns, x.Round, x.RPS,
			x.Wrk.P50, x.Wrk.P99, x.ProxyCPU, x.UpCPU, x.Handshakes, x.WindowRequests, x.errors(), 100*x.WrkCPU, 100*x.OtherCPU, 100*x.Steal)
	}

	p("\n## Commands\n\n```sh\nmake bench   # = bash bench/run.sh: installs wrk and nginx-light if missing, make build, builds bench/*, runs bench/driver\n")
	p("make bench BENCH_FLAGS=-profile          # also CPU profiles of hf-micro under load (HF_MICRO_PPROF_ADDR), in $WORK\n")
	p("make bench BENCH_FLAGS='-rounds 5 -duration 10s'   # steadier, slower\n")
	p("make bench BENCH_FLAGS='-scenario cache -cache-mib 256 -out /tmp/cache.md'   # the download-cache scenario alone\n")
	p("go run ./bench/driver -from $WORK/results.json -work $WORK -tools . -out docs/benchmarks.md   # render this file again\n```\n\n")
	if len(r.Profiles) > 0 {
		p("CPU profiles of this run: %s (`go tool pprof -top <file>`).\n\n", strings.Join(r.Profiles, ", "))
	}
	p("Processes started (`$WORK` is a fresh scratch directory under /tmp with the logs, the certificate, nginx.conf and results.json; `$TOKEN` a random fake token):\n\n```sh\n")
	for _, line := range r.Processes {
		p("%s\n", line)
	}
	p("```\n\nOne wrk run of each kind (ports are chosen fresh each time):\n\n```sh\n")
	seen := map[string]bool{}
	for _, x := range r.Runs {
		key := x.Phase + x.Target + fmt.Sprint(x.Conns)
		if !seen[key] && x.Round == 1 && (x.Conns != 1 || x.Phase != "main") {
			seen[key] = true
			p("%s\n", x.Command)
		}
	}
	p("```\n")
	return b.String()
}
