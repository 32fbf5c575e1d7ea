package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLocalIssuer(t *testing.T) {
	for in, want := range map[string][3]string{
		"":                        {"http://127.0.0.1:3000", "3000", "false"},
		"https://127.0.0.1:3443/": {"https://127.0.0.1:3443/", "3443", "true"},
		"http://localhost:4000":   {"http://localhost:4000", "4000", "false"},
	} {
		iss, port, tls, err := localIssuer(in, "3000")
		if err != nil || iss != want[0] || port != want[1] || (tls != (want[2] == "true")) {
			t.Errorf("localIssuer(%q) = %q %q %v %v", in, iss, port, tls, err)
		}
	}
	for _, bad := range []string{"https://auth.example.com/", "https://127.0.0.1/", "https://127.0.0.1:3443/x", "ftp://127.0.0.1:1"} {
		if _, _, _, err := localIssuer(bad, "3000"); err == nil {
			t.Errorf("localIssuer(%q) accepted", bad)
		}
	}
}

// The CA is made once; the server certificate it signs names 127.0.0.1
// and localhost, and a second start reuses both.
func TestLocalTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	cfg, caPath, err := localTLS(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := readCert(caPath)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls", "ca-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("CA key mode: %v %v", fi, err)
	}
	before, _ := os.ReadFile(caPath)
	if _, _, err := localTLS(dir, now); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(caPath); string(after) != string(before) {
		t.Error("the CA was made again")
	}
}
