package server

import "net/http"

// handleHealthz is liveness: the process answers. It never calls the Hub, so a Hub outage does not get the
// container restarted.
func handleHealthz() handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}
}

// handleReadyz is readiness: 503 from the moment shutdown begins, so the load balancer stops sending traffic.
func handleReadyz(d *deps) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if d.opts.Draining.Load() {
			return &apiError{status: http.StatusServiceUnavailable, msg: "shutting down"}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	}
}
