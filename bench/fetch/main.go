// Command fetch downloads one URL n times, c at a time, each body read whole and counted, and prints a JSON
// summary: bytes, seconds, throughput, and the time to the first body byte. Every answer must be a 200 with
// the expected size, or it exits 1.
//
//	fetch -url http://127.0.0.1:8080/bench/files/resolve/<sha>/hit.bin -n 4 -c 1 -size 268435456 [-ca ca.pem]
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

type summary struct {
	Requests      int     `json:"requests"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	BytesPerSec   float64 `json:"bytes_per_sec"`
	TTFBMedianMs  float64 `json:"ttfb_median_ms"`
	TTFBMaxMs     float64 `json:"ttfb_max_ms"`
	SlowestSecond float64 `json:"slowest_download_s"`
}

func main() {
	url := flag.String("url", "", "what to download")
	n := flag.Int("n", 1, "downloads")
	c := flag.Int("c", 1, "downloads at a time")
	size := flag.Int64("size", -1, "the expected body size (-1: any)")
	ca := flag.String("ca", "", "PEM certificate to trust for HTTPS")
	h2 := flag.Bool("h2", true, "offer HTTP/2 to HTTPS servers (as Go's default client does)")
	flag.Parse()
	client, err := newClient(*ca, *h2)
	if err == nil {
		var s summary
		s, err = run(client, *url, *n, *c, *size)
		if err == nil {
			err = json.NewEncoder(os.Stdout).Encode(s)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		os.Exit(1)
	}
}

func newClient(ca string, h2 bool) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 64
	t.ForceAttemptHTTP2 = h2
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("no certificate in " + ca)
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: t}, nil
}

func run(client *http.Client, url string, n, c int, size int64) (summary, error) {
	var mu sync.Mutex
	var ttfb, took []float64
	var total int64
	var errs []error
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for range jobs {
				first, whole, got, err := download(client, url, buf)
				if err == nil && size >= 0 && got != size {
					err = fmt.Errorf("%s: %d bytes, want %d", url, got, size)
				}
				mu.Lock()
				total += got
				ttfb, took = append(ttfb, first.Seconds()*1000), append(took, whole.Seconds())
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if err := errors.Join(errs...); err != nil {
		return summary{}, err
	}
	slices.Sort(ttfb)
	return summary{Requests: n, Bytes: total, Seconds: elapsed, BytesPerSec: float64(total) / elapsed,
		TTFBMedianMs: ttfb[len(ttfb)/2], TTFBMaxMs: ttfb[len(ttfb)-1], SlowestSecond: slices.Max(took)}, nil
}

// download reads one body whole; first is the time to its first byte.
func download(client *http.Client, url string, buf []byte) (first, whole time.Duration, n int64, err error) {
	start := time.Now()
	resp, err := client.Get(url)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	for {
		k, rerr := resp.Body.Read(buf)
		if n == 0 && k > 0 {
			first = time.Since(start)
		}
		n += int64(k)
		if rerr == io.EOF {
			return first, time.Since(start), n, nil
		}
		if rerr != nil {
			return first, time.Since(start), n, rerr
		}
	}
}
