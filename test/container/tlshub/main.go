// Command tlshub serves the fake Hub (internal/fakehub) over HTTPS on 127.0.0.1 for the container test,
// test/container/run.sh. Its certificate is signed by a CA made afresh at start, so the test can show that
// the image trusts the Hub only when that CA is in its bundle or mounted with SSL_CERT_FILE.
//
// It writes into -dir: ca.pem (the CA), token (a write token of the user "container-test") and url (the
// Hub's base URL), url last, so waiting for url waits for all three. It serves until killed, and exits by
// itself after -max so a test that died cannot leave it behind for long.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hf-micro/hf-micro/internal/fakehub"
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
	ca, caKey, err := newCA()
	if err != nil {
		return err
	}
	serverCert, err := newServerCert(ca, caKey)
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

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})
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

// newCA makes a self-signed CA certificate, as a company's TLS-inspecting proxy would have.
func newCA() (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	template := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "hf-micro container test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// newServerCert makes the Hub's certificate for 127.0.0.1, signed by the CA.
func newServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	template := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

// logRequests logs each request's method and path (never its headers: they carry the token).
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(os.Stderr, "tlshub: %s %s\n", r.Method, r.URL.Path)
		next.ServeHTTP(w, r)
	})
}
