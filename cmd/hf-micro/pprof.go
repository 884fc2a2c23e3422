package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// servePprof serves Go's profiles on their own loopback listener (HF_MICRO_PPROF_ADDR), apart from the API, so
// they can be taken under load without exposing them: /debug/pprof/profile?seconds=N for CPU, and
// /debug/pprof/<name> for heap, allocs, goroutine, block, mutex and threadcreate (?debug=1 for text). It uses
// runtime/pprof alone: net/http/pprof would add half a megabyte to the binary. It stops when ctx ends.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		seconds, err := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err != nil || seconds <= 0 || seconds > 300 {
			seconds = 30
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		select {
		case <-time.After(time.Duration(seconds) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
	})
	mux.HandleFunc("GET /debug/pprof/{name}", func(w http.ResponseWriter, r *http.Request) {
		profile := pprof.Lookup(r.PathValue("name"))
		if profile == nil {
			http.Error(w, "unknown profile", http.StatusNotFound)
			return
		}
		debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
		_ = profile.WriteTo(w, debug)
	})
	mux.HandleFunc("GET /debug/pprof/{$}", func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for _, p := range pprof.Profiles() {
			names = append(names, p.Name())
		}
		fmt.Fprintf(w, "profiles: %s, and profile?seconds=N (CPU)\n", strings.Join(names, ", "))
	})
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	go func() { _ = srv.Serve(listener) }()
	logger.Info("profiler", slog.String("addr", listener.Addr().String()))
	return nil
}
