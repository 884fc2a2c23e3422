package server

import (
	"errors"
	"net/http"
)

// errOffline is every Hub call in offline mode (HF_MICRO_OFFLINE): none is made.
var errOffline = errors.New("hf-micro is offline (HF_MICRO_OFFLINE): the Hub is not asked, and only files cached at a full commit sha are served")

// offlineTransport refuses every Hub call, so that in offline mode the simple API, the proxy and the cache all
// answer 503 for what needs the Hub, through their usual error paths.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(*http.Request) (*http.Response, error) { return nil, errOffline }

// hubUnreachable answers a download the cache cannot serve because the Hub could not be asked: offline, or the
// Hub unreachable. Files cached at a full commit sha never get here: they are served without the Hub.
func hubUnreachable(cause error) error {
	if errors.Is(cause, errOffline) {
		return &apiError{status: http.StatusServiceUnavailable, msg: errOffline.Error(), cause: cause}
	}
	return &apiError{status: http.StatusServiceUnavailable, cause: cause,
		msg: "the Hub cannot be reached; hf-micro serves only files cached at a full commit sha until it is back"}
}
