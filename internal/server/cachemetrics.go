package server

import (
	"io"
	"net/http"
)

// The download cache's facts for the metrics: each answer's result is counted in serveCached's branches, the
// bytes by the wrappers here, evictions and the size by the store itself (NewServer hands it the registry).

// servedCounter counts the bytes a cached answer sends its caller.
type servedCounter struct {
	http.ResponseWriter
	count func(bytes int64)
}

func (s servedCounter) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p)
	s.count(int64(n))
	return n, err
}

// ReadFrom keeps a stored file's answer on net/http's sendfile path (see statusRecorder.ReadFrom).
func (s servedCounter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(s.ResponseWriter, r)
	s.count(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection underneath.
func (s servedCounter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// fetchedCounter counts the bytes a fill reads from the Hub or the CDN.
type fetchedCounter struct {
	io.ReadCloser
	count func(bytes int64)
}

func (f fetchedCounter) Read(p []byte) (int, error) {
	n, err := f.ReadCloser.Read(p)
	f.count(int64(n))
	return n, err
}
