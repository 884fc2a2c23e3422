package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// The download-cache scenario (issue 15): the upstream serves files as LFS files (a resolve route redirecting
// to a CDN listener of its own); one more hf-micro runs with HF_MICRO_CACHE_DIR. Measured with bench/fetch,
// which reads every body whole:
//   - hit: hf-micro serving a cached file at a full commit sha, nginx proxy_cache serving the same file from its
//     cache (in front of the CDN), and nginx serving it as a static file; interleaved rounds;
//   - miss: hf-micro on a file it has never seen, against a direct download from the CDN; one fresh file a round;
//   - 32 concurrent callers for one cold file, with the bytes the CDN sent;
//   - hf-micro's peak RSS (VmHWM) over all of it.

// benchCommit is the commit the bench upstream puts every file at (bench/upstream/files.go).
const benchCommit = "be7c4c0ffee0be7c4c0ffee0be7c4c0ffee0be7c"

// cacheRun is one bench/fetch run.
type cacheRun struct {
	Phase       string  `json:"phase"` // hit, miss, concurrent
	Target      string  `json:"target"`
	Round       int     `json:"round"`
	Requests    int     `json:"requests"`
	Bytes       int64   `json:"bytes"`
	BytesPerSec float64 `json:"bytes_per_sec"`
	TTFBMs      float64 `json:"ttfb_median_ms"`
	TTFBMaxMs   float64 `json:"ttfb_max_ms"`
	ProxyCPUs   float64 `json:"proxy_cpu_s"` // the server's CPU seconds over the run
	Resolves    int64   `json:"upstream_resolves"`
	CDNRequests int64   `json:"cdn_requests"`
	CDNBytes    int64   `json:"cdn_bytes"`
	Command     string  `json:"command"`
}

type cacheResults struct {
	FileBytes int64      `json:"file_bytes"`
	Downloads int        `json:"downloads_per_hit_run"`
	Runs      []cacheRun `json:"runs"`
	HWMKiB    int64      `json:"hf_micro_vm_hwm_kib"`
	NginxKiB  int64      `json:"nginx_vm_hwm_kib"`
}

// writeCacheFiles writes the files the upstream serves: hit.bin (the hit runs), cold.bin (the concurrent
// callers) and one miss-<round>.bin a round, each of pseudo-random bytes.
func (d *driver) writeCacheFiles() (string, error) {
	dir := filepath.Join(d.opts.work, "files")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	names := []string{"hit.bin", "cold.bin"}
	for round := 1; round <= d.opts.rounds; round++ {
		names = append(names, fmt.Sprintf("miss-%d.bin", round))
	}
	buf := make([]byte, 1<<20)
	for i, name := range names {
		rng := rand.NewChaCha8([32]byte{byte(i + 1)})
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		for written := int64(0); written < d.cacheFileBytes(); written += int64(len(buf)) {
			_, _ = rng.Read(buf)
			if _, err := f.Write(buf); err != nil {
				f.Close()
				return "", err
			}
		}
		if err := f.Close(); err != nil {
			return "", err
		}
	}
	syscall.Sync() // written out before anything is measured
	return dir, nil
}

// removeCacheFiles deletes the scenario's files and both caches (gigabytes) once every server has stopped; the
// logs and results.json stay.
func (d *driver) removeCacheFiles() {
	for _, dir := range []string{"files", "hf-micro-cache", "nginx-cache"} {
		_ = os.RemoveAll(filepath.Join(d.opts.work, dir))
	}
}

func (d *driver) cacheFileBytes() int64 { return int64(d.opts.cacheMiB) << 20 }

// cacheScenario runs the whole scenario against the already started upstream and nginx.
func (d *driver) cacheScenario(ctx context.Context) error {
	o, a := d.opts, d.results.Addrs
	size := d.cacheFileBytes()
	cr := &d.results.Cache
	cr.FileBytes, cr.Downloads = size, o.cacheDownloads
	fmt.Fprintf(os.Stderr, "== download cache: %d MiB files, %d rounds\n", o.cacheMiB, o.rounds)

	p, err := start("hf-micro-files", d.serverCPU, append(d.hfMicroEnv(a["hf-micro-files"], true),
		"HF_MICRO_CACHE_DIR="+filepath.Join(o.work, "hf-micro-cache"), fmt.Sprintf("HF_MICRO_CACHE_MAX_BYTES=%d", 64*size)),
		o.work, filepath.Join(o.work, "hf-micro-files.log"), o.hfMicro, "serve")
	if err != nil {
		return err
	}
	d.hfMicroFiles = d.add(p)
	if err := waitFor(ctx, p, "hf-micro-files listening", dialOK(a["hf-micro-files"])); err != nil {
		return err
	}
	hf := func(name string) string {
		return "http://" + a["hf-micro-files"] + "/bench/files/resolve/" + benchCommit + "/" + name
	}
	cdn := func(name string) string { return "https://" + a["cdn"] + "/files/" + name }
	type fetchTarget struct {
		name, url string
		proc      *proc // nil: the CDN itself
	}
	hits := []fetchTarget{
		{"hf-micro", hf("hit.bin"), p},
		{"nginx-proxy-cache", "http://" + a["nginx-files"] + "/cdn/files/hit.bin", d.nginx},
		{"nginx-static", "http://" + a["nginx-files"] + "/static/hit.bin", d.nginx},
	}
	// Fill both caches once, unmeasured.
	for _, t := range hits[:2] {
		if _, err := d.fetch(ctx, "warm-up", t.name, 0, t.url, t.proc, 1, 1); err != nil {
			return err
		}
	}
	for round := 1; round <= o.rounds; round++ {
		order := append([]fetchTarget(nil), hits...)
		if round%2 == 0 {
			order[0], order[2] = order[2], order[0]
		}
		for _, t := range order {
			r, err := d.fetch(ctx, "hit", t.name, round, t.url, t.proc, o.cacheDownloads, 1)
			if err != nil {
				return err
			}
			cr.Runs = append(cr.Runs, r)
		}
	}
	for round := 1; round <= o.rounds; round++ {
		name := fmt.Sprintf("miss-%d.bin", round)
		// nginx's proxy_cache fills its own cache from the same CDN: the yardstick that also writes what it streams.
		order := []fetchTarget{{"direct-cdn", cdn(name), nil}, {"hf-micro", hf(name), p},
			{"nginx-proxy-cache", "http://" + a["nginx-files"] + "/cdn/files/" + name, d.nginx}}
		if round%2 == 0 {
			slices.Reverse(order)
		}
		for _, t := range order {
			r, err := d.fetch(ctx, "miss", t.name, round, t.url, t.proc, 1, 1)
			if err != nil {
				return err
			}
			cr.Runs = append(cr.Runs, r)
		}
		r, err := d.diskWrite(round, filepath.Join(o.work, "files", name))
		if err != nil {
			return err
		}
		cr.Runs = append(cr.Runs, r)
	}
	syscall.Sync()
	r, err := d.fetch(ctx, "concurrent", "hf-micro", 1, hf("cold.bin"), p, 32, 32)
	if err != nil {
		return err
	}
	cr.Runs = append(cr.Runs, r)
	cr.HWMKiB, _ = statusKB(p.pids(), "VmHWM")
	cr.NginxKiB, _ = statusKB(d.nginx.pids(), "VmHWM")
	return nil
}

// diskWrite copies a file already in the page cache into a new file next to the caches: what writing a file
// costs on this disk, a ceiling for any cache fill here (hf-micro's or nginx's).
func (d *driver) diskWrite(round int, from string) (cacheRun, error) {
	syscall.Sync()
	in, err := os.Open(from)
	if err != nil {
		return cacheRun{}, err
	}
	defer in.Close()
	to := filepath.Join(d.opts.work, "disk-write.tmp")
	out, err := os.Create(to)
	if err != nil {
		return cacheRun{}, err
	}
	defer os.Remove(to)
	start := time.Now()
	n, err := io.CopyBuffer(struct{ io.Writer }{out}, in, make([]byte, 256<<10)) // plain read and write, no copy_file_range
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cacheRun{}, err
	}
	secs := time.Since(start).Seconds()
	r := cacheRun{Phase: "miss", Target: "disk-write", Round: round, Requests: 1, Bytes: n, BytesPerSec: float64(n) / secs}
	fmt.Fprintf(os.Stderr, "  %-10s %-17s round %d: %7.1f MiB/s\n", r.Phase, r.Target, round, r.BytesPerSec/(1<<20))
	return r, nil
}

// fetch runs bench/fetch (n downloads, c at a time) and reads the server's CPU and the upstream's counters
// around it. A CDN target gets the proxies' CPU for the upstream, as the direct whoami runs do.
func (d *driver) fetch(ctx context.Context, phase, name string, round int, url string, p *proc, n, c int) (cacheRun, error) {
	if phase == "miss" {
		syscall.Sync() // each fill starts with no other writes pending (the files and caches written before)
	}
	d.waitQuiet(ctx)
	if err := d.placeUpstream(target{proc: p}); err != nil {
		return cacheRun{}, err
	}
	argv := []string{filepath.Join(d.opts.tools, "fetch"), "-url", url, "-n", fmt.Sprint(n), "-c", fmt.Sprint(c),
		"-size", fmt.Sprint(d.cacheFileBytes()), "-ca", d.caFile}
	if d.loadCPU != "" {
		argv = append([]string{"taskset", "-c", d.loadCPU}, argv...)
	}
	var pids []int
	if p != nil {
		pids = p.pids()
	}
	cpu0, err := cpuTicks(pids)
	if err != nil {
		return cacheRun{}, err
	}
	s0, err := d.upstreamStats()
	if err != nil {
		return cacheRun{}, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return cacheRun{}, fmt.Errorf("fetch %s %s: %w", phase, name, err)
	}
	time.Sleep(100 * time.Millisecond) // late counts land
	s1, err := d.upstreamStats()
	if err != nil {
		return cacheRun{}, err
	}
	cpu1, err := cpuTicks(pids)
	if err != nil {
		return cacheRun{}, err
	}
	var s struct {
		Requests    int     `json:"requests"`
		Bytes       int64   `json:"bytes"`
		BytesPerSec float64 `json:"bytes_per_sec"`
		TTFB        float64 `json:"ttfb_median_ms"`
		TTFBMax     float64 `json:"ttfb_max_ms"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		return cacheRun{}, fmt.Errorf("fetch output %q: %w", out, err)
	}
	r := cacheRun{Phase: phase, Target: name, Round: round, Requests: s.Requests, Bytes: s.Bytes, BytesPerSec: s.BytesPerSec,
		TTFBMs: s.TTFB, TTFBMaxMs: s.TTFBMax, ProxyCPUs: float64(cpu1-cpu0) / float64(d.clkTck),
		Resolves: s1.Resolves - s0.Resolves, CDNRequests: s1.CDNRequests - s0.CDNRequests, CDNBytes: s1.CDNBytes - s0.CDNBytes,
		Command: d.redact(shellLine(argv))}
	fmt.Fprintf(os.Stderr, "  %-10s %-17s round %d: %7.1f MiB/s  ttfb %6.2f ms  cpu %.2f s  resolves %d  cdn %d req %d MiB\n",
		phase, name, round, r.BytesPerSec/(1<<20), r.TTFBMs, r.ProxyCPUs, r.Resolves, r.CDNRequests, r.CDNBytes>>20)
	return r, nil
}
