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
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Local https: a certificate authority of this machine's own, made once
// into <data dir>/tls/ca.pem (with its key beside it, readable by the
// owner only), and a server certificate it signs for 127.0.0.1, ::1 and
// localhost. Trust ca.pem once (README) and every later run, and every new
// server certificate, is trusted. Go's crypto makes them: no openssl or
// mkcert.
const (
	caLifetime     = 10 * 365 * 24 * time.Hour
	serverLifetime = 397 * 24 * time.Hour // browsers refuse longer-lived server certificates
)

// localTLS returns the server's TLS configuration and the CA's path,
// creating what is missing or about to expire.
func localTLS(dataDir string, now time.Time) (*tls.Config, string, error) {
	dir := filepath.Join(dataDir, "tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	caPath, caKeyPath := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	crtPath, keyPath := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	ca, caKey, err := loadPair(caPath, caKeyPath, now)
	if err != nil {
		if ca, caKey, err = newCert(nil, nil, now); err != nil {
			return nil, "", err
		}
		if err := writePair(caPath, caKeyPath, ca, caKey); err != nil {
			return nil, "", err
		}
		_ = os.Remove(crtPath) // signed by a CA that is gone
	}
	if _, _, err := loadPair(crtPath, keyPath, now); err != nil || !signedBy(crtPath, ca) {
		crt, key, err := newCert(ca, caKey, now)
		if err != nil {
			return nil, "", err
		}
		if err := writePair(crtPath, keyPath, crt, key); err != nil {
			return nil, "", err
		}
	}
	pair, err := tls.LoadX509KeyPair(crtPath, keyPath)
	if err != nil {
		return nil, "", err
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, caPath, nil
}

// newCert makes a CA (parent nil) or a server certificate signed by parent.
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: now.Add(-time.Hour)}
	if parent == nil {
		tmpl.Subject = pkix.Name{CommonName: "orgauth local development CA", Organization: []string{"orgauth (this machine only)"}}
		tmpl.NotAfter = now.Add(caLifetime)
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.MaxPathLenZero = true, true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		parent, parentKey = tmpl, key
	} else {
		tmpl.Subject = pkix.Name{CommonName: "127.0.0.1"}
		tmpl.NotAfter = now.Add(serverLifetime)
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	crt, err := x509.ParseCertificate(der)
	return crt, key, err
}

func writePair(crtPath, keyPath string, crt *x509.Certificate, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: crt.Raw}), 0o644)
}

// loadPair reads a certificate and its key, refusing one that expires
// within a week.
func loadPair(crtPath, keyPath string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	crt, err := readCert(crtPath)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, nil, errors.New("no PEM key")
	}
	key, err := x509.ParseECPrivateKey(blk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if now.Add(7 * 24 * time.Hour).After(crt.NotAfter) {
		return nil, nil, fmt.Errorf("%s expires %s", crtPath, crt.NotAfter)
	}
	return crt, key, nil
}

func readCert(path string) (*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

func signedBy(crtPath string, ca *x509.Certificate) bool {
	crt, err := readCert(crtPath)
	return err == nil && crt.CheckSignatureFrom(ca) == nil
}
