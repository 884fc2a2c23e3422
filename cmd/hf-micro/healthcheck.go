package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"github.com/hf-micro/hf-micro/internal/config"
)

// healthcheckTimeout bounds the whole check; a container runtime has its own, usually longer.
const healthcheckTimeout = 3 * time.Second

// healthcheck asks the server on this machine for /healthz, for a container HEALTHCHECK in an image that has
// no shell or curl. It uses the same ADDR/PORT settings as the server.
func healthcheck(ctx context.Context, cfg config.Config) error {
	addr := loopbackAddr(cfg.Addr)
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("healthcheck: nothing is listening on %s (connection refused): is the server running? "+
			"The address comes from ADDR or PORT, as the server's does", addr)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("healthcheck: the server on %s did not answer /healthz within %s", addr, healthcheckTimeout)
	case err != nil:
		return fmt.Errorf("healthcheck: asking %s for /healthz: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: the server on %s answered /healthz with %s", addr, resp.Status)
	}
	return nil
}
