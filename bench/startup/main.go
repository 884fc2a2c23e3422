// Command startup times a server's start: from exec to the first 200 on /healthz, n times, then prints the
// samples and their median as JSON. Each run gets a fresh loopback port in ADDR; the rest of the environment
// is passed on as it is. The server is stopped with SIGTERM after each run (SIGKILL if it lingers).
//
//	startup -n 20 -- bin/hf-micro serve
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"time"
)

type result struct {
	Runs     int       `json:"runs"`
	Median   float64   `json:"median_ms"`
	Min      float64   `json:"min_ms"`
	Max      float64   `json:"max_ms"`
	Samples  []float64 `json:"samples_ms"`
	PollStep string    `json:"poll_step"`
}

func main() {
	n := flag.Int("n", 20, "runs")
	poll := flag.Duration("poll", 100*time.Microsecond, "pause between /healthz attempts")
	limit := flag.Duration("limit", 10*time.Second, "give up on a run after this long")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: startup [-n 20] -- program [args]")
	}
	var samples []float64
	for range *n {
		d, err := once(flag.Args(), *poll, *limit)
		if err != nil {
			log.Fatal(err)
		}
		samples = append(samples, float64(d.Microseconds())/1000)
	}
	sorted := append([]float64(nil), samples...)
	sort.Float64s(sorted)
	median := sorted[len(sorted)/2]
	if len(sorted)%2 == 0 {
		median = (sorted[len(sorted)/2-1] + sorted[len(sorted)/2]) / 2
	}
	_ = json.NewEncoder(os.Stdout).Encode(result{Runs: *n, Median: median, Min: sorted[0], Max: sorted[len(sorted)-1],
		Samples: samples, PollStep: poll.String()})
}

func once(argv []string, poll, limit time.Duration) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "ADDR="+addr)
	cmd.Stdout, cmd.Stderr = nil, nil // discarded
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := "http://" + addr + "/healthz"

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer stop(cmd)
	for time.Since(start) < limit {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(poll)
	}
	return 0, fmt.Errorf("%s: no 200 on /healthz within %s", argv[0], limit)
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	if ln.Addr() == nil {
		return "", errors.New("no address")
	}
	return ln.Addr().String(), nil
}
