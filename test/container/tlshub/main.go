// Command tlshub serves the fake Hub (internal/fakehub) over HTTPS on 127.0.0.1 for the container test,
// test/container/run.sh. Its certificate is signed by a CA made afresh at start, so the test can show that
// the image trusts the Hub only when that CA is in its bundle or mounted with SSL_CERT_FILE.
//
// It writes into -dir: ca.pem (the CA), token (a write token of the user "container-test") and url (the
// Hub's base URL), url last, so waiting for url waits for all three. It serves until killed, and exits by
// itself after -max so a test that died cannot leave it behind for long.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakehub"
	"github.com/hf-micro/hf-micro/internal/testcert"
)

// userName is the fake Hub's account; the test expects its name from GET /api/account.
const userName = "container-test"

func main() {
	dir := flag.String("dir", "", "folder to write ca.pem, token and url into (required)")
	maxRun := flag.Duration("max", 10*time.Minute, "exit by itself after this long")
	flag.Parse()
	if err := run(*dir, *maxRun); err != nil {
		fmt.Fprintln(os.Stderr, "tlshub:", err)
		os.Exit(1)
	}
}

func run(dir string, maxRun time.Duration) error {
	if dir == "" {
		return errors.New("-dir is required")
	}
	// A fresh CA, as a company's TLS-inspecting proxy would have, and the Hub's certificate signed by it.
	serverCert, caPEM, err := testcert.New("hf-micro container test CA")
	if err != nil {
		return err
	}

	hub := fakehub.New()
	hub.AddUser(userName)
	token := hub.IssueToken(userName, fakehub.RoleWrite)

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           logRequests(hub),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS12},
		// Handshake failures (the image that does not trust the CA) are logged here: evidence for the test.
		ErrorLog: log.New(os.Stderr, "tlshub: ", 0),
	}

	// ca.pem is mounted into a container whose user is not ours: it must be readable by all.
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	url := "https://" + listener.Addr().String()
	if err := os.WriteFile(filepath.Join(dir, "url"), []byte(url+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "tlshub: serving the fake Hub on", url)

	time.AfterFunc(maxRun, func() {
		fmt.Fprintln(os.Stderr, "tlshub: exiting after", maxRun)
		os.Exit(2)
	})
	return srv.ServeTLS(listener, "", "")
}

// logRequests logs each request's method and path (never its headers: they carry the token).
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(os.Stderr, "tlshub: %s %s\n", r.Method, r.URL.Path)
		next.ServeHTTP(w, r)
	})
}
