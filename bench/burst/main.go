// Command burst sends n identical GET requests at once, each on its own connection, and prints a JSON summary:
// how many answered what, and how long the whole burst took. The benchmark counts the Hub calls they caused at
// the upstream.
//
//	burst -url http://127.0.0.1:8080/api/account -n 1000
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

type summary struct {
	N        int            `json:"n"`
	Statuses map[string]int `json:"statuses"`
	Errors   int            `json:"errors"`
	FirstErr string         `json:"first_error,omitempty"`
	WallMS   float64        `json:"wall_ms"`
	P50MS    float64        `json:"p50_ms"`
	MaxMS    float64        `json:"max_ms"`
}

func main() {
	target := flag.String("url", "", "URL to GET")
	n := flag.Int("n", 1000, "concurrent requests")
	timeout := flag.Duration("timeout", 30*time.Second, "bound on each request")
	flag.Parse()
	if *target == "" {
		log.Fatal("-url is required")
	}
	client := &http.Client{
		Timeout: *timeout,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: *n,
			MaxConnsPerHost:     0,
			DisableCompression:  true,
		},
	}
	var (
		mu        sync.Mutex
		sum       = summary{N: *n, Statuses: map[string]int{}}
		latencies []time.Duration
		wg        sync.WaitGroup
		startGate = make(chan struct{})
	)
	for range *n {
		wg.Go(func() {
			<-startGate
			t0 := time.Now()
			resp, err := client.Get(*target)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, d)
			if err != nil {
				sum.Errors++
				if sum.FirstErr == "" {
					sum.FirstErr = err.Error()
				}
				return
			}
			sum.Statuses[strconv.Itoa(resp.StatusCode)]++
		})
	}
	time.Sleep(50 * time.Millisecond) // let every goroutine reach the gate
	start := time.Now()
	close(startGate)
	wg.Wait()
	sum.WallMS = ms(time.Since(start))
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if len(latencies) > 0 {
		sum.P50MS = ms(latencies[len(latencies)/2])
		sum.MaxMS = ms(latencies[len(latencies)-1])
	}
	_ = json.NewEncoder(os.Stdout).Encode(sum)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
