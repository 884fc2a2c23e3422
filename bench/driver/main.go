// Command driver runs hf-micro's benchmark (make bench, through bench/run.sh): it starts the lean upstream
// (bench/upstream) over HTTPS on loopback, hf-micro, nginx and the plain ReverseProxy baseline (bench/baseline)
// in front of it, loads each with wrk, reads CPU and memory from /proc and TLS handshakes from the upstream's
// counters, and writes the results to docs/benchmarks.md. Every process it starts is stopped when it ends.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/template"
	"time"
)

type options struct {
	repo, work, hfMicro, tools, out string
	duration, warmup                time.Duration
	rounds                          int
	pairs                           int
	pairDuration                    time.Duration
	remoteDuration, remoteWarmup    time.Duration
	remoteDelay                     time.Duration
	remoteConns                     int
	burstN, startupRuns             int
	upstreamH2                      bool
	layout                          string
	quietBudget                     time.Duration
	profile                         bool
	from                            string
	command                         string
	scenario                        string
	cacheMiB, cacheDownloads        int
}

type driver struct {
	opts               options
	loadCPU, serverCPU string // wrk and the burst client; the proxy under test
	upstreamCPU        string
	upstreamOn         string // the CPU the upstream is pinned to now
	clkTck             int64
	token              string
	luaScript          string
	upAddr             string
	upStatsAddr        string
	caFile             string
	upstream           *proc
	hfMicro            *proc
	// The budget scenario (budgets.go).
	redis, hfMicroKey, hfMicroBudget, hfMicroRedis *proc
	budgetKey                                      string
	hfMicroCache                                   *proc
	hfMicroNoCache                                 *proc
	hfMicroFiles                                   *proc // the download-cache scenario (cache.go)
	nginx                                          *proc
	baseline                                       *proc
	floor                                          *proc // bench/baseline -bare
	relinked                                       *proc // bench/baseline linked with its functions in a random order
	procs                                          []*proc
	results                                        results
	quietLeft                                      time.Duration // what is left of opts.quietBudget
}

func main() {
	var o options
	flag.StringVar(&o.repo, "repo", ".", "repository root")
	flag.StringVar(&o.work, "work", "", "scratch directory (logs, certificates, nginx.conf)")
	flag.StringVar(&o.hfMicro, "hf-micro", "bin/hf-micro", "hf-micro binary (make build)")
	flag.StringVar(&o.tools, "tools", "", "directory with the built upstream, baseline, burst and startup programs")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "report to write")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each wrk run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured wrk run before each measured one")
	flag.IntVar(&o.rounds, "rounds", 3, "times each case is measured (interleaved)")
	flag.IntVar(&o.pairs, "pairs", 8, "short back-to-back runs of account, baseline, floor and relinked for the CPU ratios (paired phase)")
	flag.DurationVar(&o.pairDuration, "pair-duration", 2*time.Second, "measured time of each paired-phase run")
	flag.DurationVar(&o.remoteDuration, "remote-duration", 6*time.Second, "measured time of each remote-Hub run")
	flag.DurationVar(&o.remoteWarmup, "remote-warmup", 2*time.Second, "warm-up of each remote-Hub run")
	flag.DurationVar(&o.remoteDelay, "remote-delay", 50*time.Millisecond, "the emulated remote Hub's delay per answer")
	flag.IntVar(&o.remoteConns, "remote-conns", 256, "wrk connections in the remote-Hub case")
	flag.IntVar(&o.burstN, "burst", 1000, "concurrent GET /api/account requests in the burst")
	flag.IntVar(&o.startupRuns, "startup-runs", 20, "start-up timings")
	flag.BoolVar(&o.upstreamH2, "upstream-h2", true, "the upstream offers HTTP/2 as well as HTTP/1.1 (as the Hub does)")
	flag.StringVar(&o.layout, "layout", "split", `CPU pinning: "split" = wrk and upstream on CPU 0, the proxy alone on CPU 1; `+
		`"shared" = wrk on CPU 0, upstream and proxy on CPU 1; "none"`)
	flag.DurationVar(&o.quietBudget, "quiet-budget", 3*time.Minute, "total time the runs may wait, 20 s at most each, for a machine shared "+
		"with other work to fall quiet (under 10% of a core busy) before they start; 0 never waits")
	flag.BoolVar(&o.profile, "profile", false, "also take 8 s CPU profiles of hf-micro (HF_MICRO_PPROF_ADDR) under 32 connections, "+
		"for /api/account and the drop-in whoami, into the scratch directory")
	flag.StringVar(&o.from, "from", "", "render the report again from a run's results.json, without measuring")
	flag.StringVar(&o.command, "command", "make bench", "how this run was started, for the report")
	flag.StringVar(&o.scenario, "scenario", "all", `"all", or "cache" for the download-cache scenario alone`)
	flag.IntVar(&o.cacheMiB, "cache-mib", 1024, "size of each file in the download-cache scenario, MiB")
	flag.IntVar(&o.cacheDownloads, "cache-downloads", 3, "downloads of the cached file in each hit run")
	flag.Parse()
	if o.work == "" || o.tools == "" {
		fmt.Fprintln(os.Stderr, "driver: -work and -tools are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &driver{opts: o}
	err := d.run(ctx)
	d.stopAll()
	d.removeCacheFiles()
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
}

func (d *driver) stopAll() {
	for i := len(d.procs) - 1; i >= 0; i-- {
		d.procs[i].stop()
	}
}

func (d *driver) appendLog(name, text string) {
	f, err := os.OpenFile(filepath.Join(d.opts.work, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.WriteString(text)
}

// redact hides the token and shortens paths in text for the report.
func (d *driver) redact(s string) string {
	if d.token != "" {
		s = strings.ReplaceAll(s, d.token, "$TOKEN")
	}
	if d.opts.work != "" {
		s = strings.ReplaceAll(s, d.opts.work, "$WORK")
	}
	return strings.ReplaceAll(s, d.opts.repo+"/", "")
}

// shellLine quotes argv for a shell where needed.
func shellLine(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		switch {
		case a != "" && !strings.ContainsAny(a, " '\"$`\\*?&;|<>(){}"):
			out[i] = a
		case !strings.ContainsAny(a, "\"$`\\"):
			out[i] = `"` + a + `"` // the token, redacted to $TOKEN later, stays a variable
		default:
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

func (d *driver) run(ctx context.Context) error {
	o := d.opts
	o.work, o.repo, o.hfMicro, o.tools = mustAbs(o.work), mustAbs(o.repo), mustAbs(o.hfMicro), mustAbs(o.tools)
	d.opts = o
	d.clkTck = clockTick()
	d.luaScript = filepath.Join(o.repo, "bench", "report.lua")
	switch {
	case runtime.NumCPU() < 2 || o.layout == "none":
		d.opts.layout = "none"
	case o.layout == "shared":
		d.loadCPU, d.serverCPU, d.upstreamCPU = "0", "1", "1"
	case o.layout == "split":
		d.loadCPU, d.serverCPU, d.upstreamCPU = "0", "1", "0"
	default:
		return fmt.Errorf("-layout %q: want split, shared or none", o.layout)
	}
	if o.from != "" {
		return d.renderFrom(o.from)
	}
	if o.scenario != "all" && o.scenario != "cache" {
		return fmt.Errorf("-scenario %q: want all or cache", o.scenario)
	}
	d.token = "hf_bench" + rand.Text()
	d.quietLeft = o.quietBudget
	started := time.Now()
	d.results.Date = started.UTC().Format("2006-01-02 15:04 UTC")
	d.results.Machine = machine(o)
	d.results.LoadCPU, d.results.ServerCPU, d.results.UpstreamCPU = d.loadCPU, d.serverCPU, d.upstreamCPU
	d.results.Layout, d.results.Rounds, d.results.ClockTick = d.opts.layout, o.rounds, d.clkTck

	if err := d.startServers(ctx); err != nil {
		return err
	}
	if err := d.checkTargets(); err != nil {
		return err
	}
	if o.scenario == "cache" {
		if err := d.cacheScenario(ctx); err != nil {
			return err
		}
		return d.finish(started)
	}
	targets := d.targets()

	// Main phase: every target at 1 and 32 connections, interleaved, the order reversed every other round.
	fmt.Fprintf(os.Stderr, "== main phase: %d rounds x %v x %d targets, %s each after a %s warm-up\n",
		o.rounds, []int{1, 32}, len(targets), o.duration, o.warmup)
	for round := 1; round <= o.rounds; round++ {
		for _, conns := range []int{1, 32} {
			order := append([]target(nil), targets...)
			if round%2 == 0 {
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			for _, t := range order {
				r, err := d.measure(ctx, "main", t, conns, round, o.warmup, o.duration)
				if err != nil {
					return err
				}
				d.results.Runs = append(d.results.Runs, r)
			}
		}
	}
	d.results.RSSMain = d.readRSS()
	if err := d.pairedPhase(ctx, targets); err != nil {
		return err
	}
	if o.profile {
		if err := d.profiles(ctx, targets); err != nil {
			return err
		}
	}

	// Remote Hub: the upstream answers after remoteDelay; many connections.
	if err := d.setDelay(o.remoteDelay); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "== remote Hub: delay %s, %d connections\n", o.remoteDelay, o.remoteConns)
	for round := 1; round <= o.rounds; round++ {
		for _, t := range targets {
			r, err := d.measure(ctx, "remote", t, o.remoteConns, round, o.remoteWarmup, o.remoteDuration)
			if err != nil {
				return err
			}
			d.results.Runs = append(d.results.Runs, r)
		}
	}
	d.results.RSSRemote = d.readRSS()

	if err := d.bursts(ctx); err != nil {
		return err
	}
	if err := d.setDelay(0); err != nil {
		return err
	}
	if err := d.cacheScenario(ctx); err != nil {
		return err
	}
	d.stopAll()
	d.procs = nil

	if err := d.startup(ctx); err != nil {
		return err
	}
	d.sizes()
	return d.finish(started)
}

// finish writes results.json and the report.
func (d *driver) finish(started time.Time) error {
	o := d.opts
	d.results.Elapsed = time.Since(started).Round(time.Second).String()
	d.results.Scenario = o.scenario
	d.results.Processes = d.processList()

	raw, _ := json.MarshalIndent(d.results, "", "  ")
	_ = os.WriteFile(filepath.Join(o.work, "results.json"), raw, 0o644)
	report := d.render()
	if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "== wrote %s (raw results and logs in %s) in %s\n", o.out, o.work, d.results.Elapsed)
	return nil
}

// env is the whole environment of a started server: PATH and what it is given, nothing inherited (no
// HTTPS_PROXY, no developer's HF_TOKEN).
func env(kv ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, kv...)
}

func (d *driver) add(p *proc) *proc { d.procs = append(d.procs, p); return p }

func (d *driver) hfMicroEnv(addr string, cacheOff bool) []string {
	kv := []string{
		"HF_TOKEN=" + d.token,
		"HF_ENDPOINT=https://" + d.upAddr,
		"ADDR=" + addr,
		"SSL_CERT_FILE=" + d.caFile,
		"LOG_LEVEL=info",
		"LOG_FORMAT=json",
		// Metrics on, as issue 16's cost target asks: a loopback listener of its own on any free port.
		"HF_MICRO_METRICS_ADDR=127.0.0.1:0",
	}
	if cacheOff {
		kv = append(kv, "HF_MICRO_ACCOUNT_CACHE_TTL=0")
	}
	return env(kv...)
}

func (d *driver) startServers(ctx context.Context) error {
	o := d.opts
	var err error
	addrs := make([]string, 17)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return err
		}
	}
	d.upAddr, d.upStatsAddr = addrs[0], addrs[1]
	hfAddr, hfCacheAddr, nginxAddr, baselineAddr := addrs[2], addrs[3], addrs[4], addrs[5]
	d.caFile = filepath.Join(o.work, "upstream-ca.pem")
	filesDir, err := d.writeCacheFiles()
	if err != nil {
		return err
	}
	d.results.Addrs = map[string]string{"upstream": d.upAddr, "hf-micro": hfAddr, "hf-micro-cache": hfCacheAddr,
		"nginx": nginxAddr, "baseline": baselineAddr, "hf-micro-nocache": addrs[6], "pprof": addrs[7],
		"hf-micro-key": addrs[8], "hf-micro-budget-mem": addrs[9], "hf-micro-budget-redis": addrs[10], "redis": addrs[11],
		"cdn": addrs[12], "nginx-files": addrs[13], "hf-micro-files": addrs[14], "floor": addrs[15], "relinked": addrs[16]}

	d.upstream, err = start("upstream", d.upstreamCPU, env("BENCH_HUB_TOKEN="+d.token), o.work,
		filepath.Join(o.work, "upstream.log"), filepath.Join(o.tools, "upstream"),
		"-listen", d.upAddr, "-stats", d.upStatsAddr, "-ca-out", d.caFile, fmt.Sprintf("-h2=%v", o.upstreamH2),
		"-files", filesDir, "-cdn", addrs[12])
	if err != nil {
		return err
	}
	d.add(d.upstream)
	d.upstreamOn = d.upstreamCPU
	// The upstream hashes the scenario's files before it listens.
	if err := waitWithin(ctx, d.upstream, "upstream stats", 2*time.Minute, func() error { _, err := d.upstreamStats(); return err }); err != nil {
		return err
	}

	// hf-micro runs in the scratch directory, so a .env in the repository is not read; its JSON log goes to a
	// file, as nginx's and the baseline's do.
	hfEnv := d.hfMicroEnv(hfAddr, true)
	if o.profile {
		hfEnv = append(hfEnv, "HF_MICRO_PPROF_ADDR="+addrs[7])
	}
	d.hfMicro, err = start("hf-micro", d.serverCPU, hfEnv, o.work,
		filepath.Join(o.work, "hf-micro.log"), o.hfMicro, "serve")
	if err != nil {
		return err
	}
	d.add(d.hfMicro)

	d.baseline, err = start("baseline", d.serverCPU, env("BENCH_HUB_TOKEN="+d.token), o.work,
		filepath.Join(o.work, "baseline.log"), filepath.Join(o.tools, "baseline"),
		"-listen", baselineAddr, "-upstream", "https://"+d.upAddr, "-ca", d.caFile)
	if err != nil {
		return err
	}
	d.add(d.baseline)
	d.floor, err = start("floor", d.serverCPU, env("BENCH_HUB_TOKEN="+d.token), o.work,
		filepath.Join(o.work, "floor.log"), filepath.Join(o.tools, "baseline"),
		"-bare", "-listen", addrs[15], "-upstream", "https://"+d.upAddr, "-ca", d.caFile)
	if err != nil {
		return err
	}
	d.add(d.floor)
	d.relinked, err = start("relinked", d.serverCPU, env("BENCH_HUB_TOKEN="+d.token), o.work,
		filepath.Join(o.work, "relinked.log"), filepath.Join(o.tools, "baseline-relinked"),
		"-listen", addrs[16], "-upstream", "https://"+d.upAddr, "-ca", d.caFile)
	if err != nil {
		return err
	}
	d.add(d.relinked)

	if err := d.writeNginxConf(nginxAddr, filesDir); err != nil {
		return err
	}
	d.nginx, err = start("nginx", d.serverCPU, env(), o.work, filepath.Join(o.work, "nginx.out"),
		"nginx", "-p", o.work, "-c", filepath.Join(o.work, "nginx.conf"))
	if err != nil {
		return err
	}
	d.add(d.nginx)

	for _, w := range []struct {
		p    *proc
		addr string
	}{{d.hfMicro, hfAddr}, {d.baseline, baselineAddr}, {d.floor, addrs[15]}, {d.relinked, addrs[16]}, {d.nginx, nginxAddr}} {
		if err := waitFor(ctx, w.p, w.p.name+" listening on "+w.addr, dialOK(w.addr)); err != nil {
			return err
		}
	}
	if err := waitFor(ctx, d.nginx, "nginx worker", func() error {
		if len(childrenOf(d.nginx.pid())) == 0 {
			return errors.New("no worker yet")
		}
		return nil
	}); err != nil {
		return err
	}
	return d.startBudgetServers(ctx)
}

func (d *driver) writeNginxConf(listen, filesDir string) error {
	tmpl, err := template.ParseFiles(filepath.Join(d.opts.repo, "bench", "nginx.conf.tmpl"))
	if err != nil {
		return err
	}
	for _, dir := range []string{"nginx-tmp", "nginx-cache", "logs"} {
		if err := os.MkdirAll(filepath.Join(d.opts.work, dir), 0o755); err != nil {
			return err
		}
	}
	// Started as root, nginx's worker runs as nobody: it must get through the work directory (mktemp makes it
	// 0700) to the static files, and write its proxy_cache.
	if err := os.Chmod(d.opts.work, 0o711); err != nil {
		return err
	}
	if err := os.Chmod(filepath.Join(d.opts.work, "nginx-cache"), 0o777); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]string{
		"Work": d.opts.work, "Listen": listen, "Upstream": d.upAddr, "Token": d.token, "CA": d.caFile,
		"AccessLog":   filepath.Join(d.opts.work, "nginx-access.log"),
		"FilesListen": d.results.Addrs["nginx-files"], "CDN": d.results.Addrs["cdn"], "Files": filesDir,
	}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.opts.work, "nginx.conf"), b.Bytes(), 0o600)
}

func (d *driver) targets() []target {
	a := d.results.Addrs
	return append([]target{
		{name: "direct", label: "direct to the upstream (HTTPS, wrk → upstream)", url: "https://" + a["upstream"] + "/api/whoami-v2",
			header: "Authorization: Bearer " + d.token},
		{name: "account", label: "hf-micro GET /api/account (cache off)", url: "http://" + a["hf-micro"] + "/api/account", proc: d.hfMicro},
		{name: "dropin", label: "hf-micro drop-in GET /api/whoami-v2", url: "http://" + a["hf-micro"] + "/api/whoami-v2", proc: d.hfMicro},
		{name: "nginx", label: "nginx 1 worker, header-injecting proxy", url: "http://" + a["nginx"] + "/api/whoami-v2", proc: d.nginx},
		{name: "baseline", label: "plain httputil.ReverseProxy", url: "http://" + a["baseline"] + "/api/whoami-v2", proc: d.baseline},
		{name: "floor", label: "bare net/http proxy: one RoundTrip, nothing else", url: "http://" + a["floor"] + "/api/whoami-v2", proc: d.floor},
	}, d.budgetTargets()...)
}

// relinkedTarget is the baseline's code linked in another order: in the paired phase only, as a measure of how
// much CPU per request moves with where the code lies in the binary, the work being the same.
func (d *driver) relinkedTarget() target {
	return target{name: "relinked", label: "the baseline relinked with -ldflags=-randlayout=1",
		url: "http://" + d.results.Addrs["relinked"] + "/api/whoami-v2", proc: d.relinked}
}

// checkTargets makes sure every target answers 200 with exactly the upstream's body before anything is timed.
func (d *driver) checkTargets() error {
	pem, err := os.ReadFile(d.caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, want, err := get(client, "https://"+d.upAddr+"/api/whoami-v2", http.Header{"Authorization": {"Bearer " + d.token}})
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("upstream whoami: status %d, %v", status, err)
	}
	d.results.BodyBytes = len(want)
	for _, t := range append(d.targets()[1:], d.relinkedTarget()) {
		var header http.Header
		if name, value, ok := strings.Cut(t.header, ": "); ok {
			header = http.Header{name: {value}}
		}
		status, body, err := get(client, t.url, header)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if status != http.StatusOK || !bytes.Equal(bytes.TrimSpace(body), want) {
			return fmt.Errorf("%s (%s): status %d, body %q; want 200 with the upstream's body", t.name, t.url, status, body)
		}
	}
	return nil
}

// rss is peak and current resident memory of each proxy, in KiB.
type rss struct {
	Name    string `json:"name"`
	HWMKiB  int64  `json:"vm_hwm_kib"`
	RSSKiB  int64  `json:"vm_rss_kib"`
	Process string `json:"process"`
}

func (d *driver) readRSS() []rss {
	var out []rss
	for _, p := range []*proc{d.hfMicro, d.nginx, d.baseline, d.upstream} {
		hwm, _ := statusKB(p.pids(), "VmHWM")
		cur, _ := statusKB(p.pids(), "VmRSS")
		what := "one process"
		if n := len(p.pids()); n > 1 {
			what = fmt.Sprintf("sum of %d processes", n)
		}
		out = append(out, rss{Name: p.name, HWMKiB: hwm, RSSKiB: cur, Process: what})
	}
	return out
}

// burst is the Hub calls one burst of identical GET /api/account requests caused.
type burst struct {
	Variant    string          `json:"variant"`
	Attempt    int             `json:"attempt"`
	HubCalls   int64           `json:"hub_calls"`
	Handshakes int64           `json:"handshakes"`
	Client     json.RawMessage `json:"client"`
}

func (d *driver) bursts(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "== burst: %d concurrent GET /api/account, upstream delay %s\n", d.opts.burstN, d.opts.remoteDelay)
	// Two fresh servers, so that neither has upstream connections or cached answers from the runs before.
	for _, v := range []struct {
		name, label, addr string
		cacheOff          bool
	}{
		{"hf-micro-nocache", "cache off (HF_MICRO_ACCOUNT_CACHE_TTL=0)", d.results.Addrs["hf-micro-nocache"], true},
		{"hf-micro-cache", "cache on (default settings)", d.results.Addrs["hf-micro-cache"], false},
	} {
		p, err := start(v.name, d.serverCPU, d.hfMicroEnv(v.addr, v.cacheOff), d.opts.work,
			filepath.Join(d.opts.work, v.name+".log"), d.opts.hfMicro, "serve")
		if err != nil {
			return err
		}
		d.add(p)
		if v.cacheOff {
			d.hfMicroNoCache = p
		} else {
			d.hfMicroCache = p
		}
		if err := waitFor(ctx, p, v.name+" listening", dialOK(v.addr)); err != nil {
			return err
		}
		// Open hf-micro's connection to the upstream first, through a drop-in path the upstream answers 404:
		// it does not touch an account cache.
		_, _, _ = get(http.DefaultClient, "http://"+v.addr+"/api/bench-warm-up", nil)
		for attempt := 1; attempt <= 2; attempt++ {
			before, err := d.upstreamStats()
			if err != nil {
				return err
			}
			argv := []string{filepath.Join(d.opts.tools, "burst"), "-n", fmt.Sprint(d.opts.burstN), "-url", "http://" + v.addr + "/api/account"}
			if d.loadCPU != "" {
				argv = append([]string{"taskset", "-c", d.loadCPU}, argv...)
			}
			out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
			if err != nil {
				return fmt.Errorf("burst: %w", err)
			}
			time.Sleep(200 * time.Millisecond) // let late upstream calls land in the counters
			after, err := d.upstreamStats()
			if err != nil {
				return err
			}
			b := burst{Variant: v.label, Attempt: attempt, HubCalls: after.Whoami - before.Whoami,
				Handshakes: after.Handshakes - before.Handshakes, Client: bytes.TrimSpace(out)}
			fmt.Fprintf(os.Stderr, "  %s, burst %d: %d Hub calls, %d handshakes; %s\n", v.label, attempt, b.HubCalls, b.Handshakes, bytes.TrimSpace(out))
			d.results.Bursts = append(d.results.Bursts, b)
		}
	}
	return nil
}

// startup times hf-micro from exec to the first 200 on /healthz.
func (d *driver) startup(ctx context.Context) error {
	fmt.Fprintf(os.Stderr, "== start-up: %d runs\n", d.opts.startupRuns)
	cmd := exec.CommandContext(ctx, filepath.Join(d.opts.tools, "startup"), "-n", fmt.Sprint(d.opts.startupRuns), "--", d.opts.hfMicro, "serve")
	// Same settings as the measured server, no cache switch; the upstream is not needed to start.
	cmd.Env = d.hfMicroEnv("", false)
	cmd.Dir = d.opts.work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("startup: %w: %s", err, stderr.String())
	}
	if err := json.Unmarshal(out, &d.results.Startup); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "  median %.2f ms (min %.2f, max %.2f)\n", d.results.Startup.Median, d.results.Startup.Min, d.results.Startup.Max)
	return nil
}

func (d *driver) sizes() {
	if fi, err := os.Stat(d.opts.hfMicro); err == nil {
		d.results.BinaryBytes = fi.Size()
	}
	d.results.Image = "n/a: no image built by make image on this machine"
	if _, err := exec.LookPath("podman"); err == nil {
		out, err := exec.Command("podman", "images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}").Output()
		if err == nil {
			for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
				if strings.Contains(strings.SplitN(line, " ", 2)[0], "hf-micro:") {
					d.results.Image = line + " (podman)"
					break
				}
			}
		}
	}
}

func (d *driver) processList() []string {
	var out []string
	for _, p := range []*proc{d.upstream, d.hfMicro, d.hfMicroNoCache, d.hfMicroCache, d.hfMicroFiles, d.baseline, d.floor, d.relinked, d.nginx} {
		if p == nil {
			continue
		}
		var env []string
		for _, kv := range p.env {
			if !strings.HasPrefix(kv, "PATH=") && !strings.HasPrefix(kv, "HOME=") {
				env = append(env, kv)
			}
		}
		out = append(out, d.redact(strings.TrimSpace(strings.Join(env, " ")+" "+shellLine(p.argv))))
	}
	return out
}

// profiles takes a CPU profile of hf-micro while wrk loads each of its targets, after the measured runs so that
// the profiler's own cost is in none of them.
func (d *driver) profiles(ctx context.Context, targets []target) error {
	for _, t := range targets {
		if t.proc != d.hfMicro {
			continue
		}
		out := filepath.Join(d.opts.work, t.name+".pprof")
		fmt.Fprintf(os.Stderr, "== CPU profile of hf-micro, %s at 32 connections: %s\n", t.name, out)
		if err := d.placeUpstream(t); err != nil {
			return err
		}
		var status int
		var body []byte
		var perr error
		_, _, err := d.runWrk(ctx, d.wrkCommand(t, 32, 10*time.Second), 10*time.Second, func() {
			time.Sleep(time.Second)
			status, body, perr = get(&http.Client{Timeout: 20 * time.Second}, "http://"+d.results.Addrs["pprof"]+"/debug/pprof/profile?seconds=8", nil)
		})
		if err = errors.Join(err, perr); err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("profile: status %d (does this hf-micro have HF_MICRO_PPROF_ADDR?)", status)
		}
		if err := os.WriteFile(out, body, 0o644); err != nil {
			return err
		}
		d.results.Profiles = append(d.results.Profiles, out)
	}
	return nil
}

// renderFrom writes the report of an earlier run from its results.json. The run's own settings (layout, rounds)
// come from the file; the others (durations, delay, connections) from the flags, which must match the run's.
func (d *driver) renderFrom(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, &d.results); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	r := d.results
	d.loadCPU, d.serverCPU, d.upstreamCPU = r.LoadCPU, r.ServerCPU, r.UpstreamCPU
	if r.Layout != "" {
		d.opts.layout = r.Layout
	}
	if r.Rounds > 0 {
		d.opts.rounds = r.Rounds
	}
	if r.ClockTick > 0 {
		d.clkTck = r.ClockTick
	}
	return os.WriteFile(d.opts.out, []byte(d.render()), 0o644)
}
