// Package stats is the shape of the bench upstream's counters, as its stats endpoint reports them and the
// driver reads them.
package stats

// Stats are the upstream's counters since it started.
type Stats struct {
	Conns        int64  `json:"conns"`
	Handshakes   int64  `json:"handshakes"`
	Resumed      int64  `json:"resumed"`
	HandshakesH2 int64  `json:"handshakes_h2"`
	Requests     int64  `json:"requests"`
	Whoami       int64  `json:"whoami"`
	Unauthorized int64  `json:"unauthorized"`
	NotFound     int64  `json:"not_found"`
	MaxInFlight  int64  `json:"max_in_flight"`
	Delay        string `json:"delay"`
	BodyBytes    int    `json:"body_bytes"`
	Resolves     int64  `json:"resolves"` // HEAD and GET on /{repo}/resolve/...
	CDNRequests  int64  `json:"cdn_requests"`
	CDNBytes     int64  `json:"cdn_bytes"` // file bytes the CDN sent
}
