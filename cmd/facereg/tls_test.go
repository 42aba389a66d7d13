package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// its key as PEM files and returns their paths and the certificate.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "facereg test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	certFile = filepath.Join(dir, "cert.pem")
	keyFile = filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServeTLS serves HTTPS with --tls-cert/--tls-key: a client trusting the
// certificate gets /healthz, plain HTTP on the port gets no normal answer,
// and a certificate without its key is refused at start.
func TestServeTLS(t *testing.T) {
	bin := buildFacereg(t)
	dir := t.TempDir()
	certFile, keyFile, cert := selfSignedCert(t, dir)
	data := filepath.Join(dir, "data")
	env := binEnv(t)

	// Half a TLS configuration is a usage error, before anything is opened.
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--data", data, "--tls-cert", certFile},
		{"serve", "--addr", "127.0.0.1:0", "--data", data, "--tls-key", keyFile},
	} {
		r := runCLI(t, bin, env, 30*time.Second, args...)
		if r.Code == 0 || !strings.Contains(r.Stderr, "--tls-cert and --tls-key go together") {
			t.Errorf("facereg %s: exit %d, stderr %q; want a non-zero exit and a message naming both flags", strings.Join(args, " "), r.Code, r.Stderr)
		}
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("a refused start created the data directory %s", data)
	}

	srv := startServer(t, bin, env, "--addr", "127.0.0.1:0", "--data", data, "--log-format", "json",
		"--tls-cert", certFile, "--tls-key", keyFile)
	if want := "https://" + srv.Addr; srv.URL != want {
		t.Errorf("listening url %q, want %q", srv.URL, want)
	}

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := newAPIClient("https://"+srv.Addr, "", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	r := c.must(t, "GET", "/healthz", nil)
	if r.Status != http.StatusOK || r.str("status") != "ok" {
		t.Fatalf("GET /healthz over HTTPS: %d %s", r.Status, r.Body)
	}
	// the connection really is TLS, with our certificate
	resp, err := c.hc.Get("https://" + srv.Addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz over HTTPS: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 || !resp.TLS.PeerCertificates[0].Equal(cert) {
		t.Fatalf("HTTPS response without the test certificate: %+v", resp.TLS)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz over HTTPS: %d", resp.StatusCode)
	}

	// A client that does not trust the certificate is refused.
	if _, err := newAPIClient("https://"+srv.Addr, "", &tls.Config{MinVersion: tls.VersionTLS12}).do("GET", "/healthz", nil); err == nil {
		t.Error("a client without the self-signed certificate in its roots connected")
	}

	// Plain HTTP to the HTTPS port gets no normal response.
	plain := newAPIClient("http://"+srv.Addr, "", nil)
	if pr, err := plain.do("GET", "/healthz", nil); err == nil && pr.Status == http.StatusOK {
		t.Errorf("plain HTTP to the TLS port answered 200: %s", pr.Body)
	} else if err == nil {
		t.Logf("plain HTTP to the TLS port: %d %q", pr.Status, strings.TrimSpace(string(pr.Body)))
	} else {
		t.Logf("plain HTTP to the TLS port: %v", err)
	}
	// and the server still serves HTTPS afterwards
	if r := c.must(t, "GET", "/healthz", nil); r.Status != http.StatusOK {
		t.Fatalf("GET /healthz over HTTPS after a plain request: %d %s", r.Status, r.Body)
	}
	srv.stopClean(t)

	// A certificate file that does not exist fails the start (non-zero
	// exit), rather than serving without TLS.
	r2 := runCLI(t, bin, env, 60*time.Second, "serve", "--addr", "127.0.0.1:0", "--data", data, "--log-format", "json",
		"--tls-cert", filepath.Join(dir, "missing.pem"), "--tls-key", keyFile)
	if r2.Code == 0 || !strings.Contains(r2.Stderr, "missing.pem") {
		t.Errorf("serve with a missing certificate file: exit %d, stderr:\n%s", r2.Code, r2.Stderr)
	}
}
