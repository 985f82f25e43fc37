package config

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSelfSignedCert(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "ream-data") // does not exist yet
	certFile, keyFile, err := EnsureSelfSignedCert(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("certificate file is not PEM: %q", certPEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cert.DNSNames, "localhost") {
		t.Errorf("DNS names %q lack localhost", cert.DNSNames)
	}
	if host, err := os.Hostname(); err == nil && host != "" && net.ParseIP(host) == nil && !slices.Contains(cert.DNSNames, host) {
		t.Errorf("DNS names %q lack the host name %q", cert.DNSNames, host)
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if !slices.ContainsFunc(cert.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("IP addresses %v lack %s", cert.IPAddresses, ip)
		}
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T is not ECDSA P-256", cert.PublicKey)
	}
	if err := cert.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool}); err != nil {
		t.Errorf("certificate does not verify against itself: %v", err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("key does not match certificate: %v", err)
	}
	if runtime.GOOS != "windows" {
		for _, name := range []string{certFile, keyFile} {
			info, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", name, info.Mode().Perm())
			}
		}
	}

	// A second start reuses the pair.
	certFile2, keyFile2, err := EnsureSelfSignedCert(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	certPEM2, _ := os.ReadFile(certFile2)
	keyPEM2, _ := os.ReadFile(keyFile2)
	if certFile2 != certFile || keyFile2 != keyFile || !bytes.Equal(certPEM, certPEM2) || !bytes.Equal(keyPEM, keyPEM2) {
		t.Error("second call made a new certificate")
	}
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestSelfSignedCertRenewedNearExpiry(t *testing.T) {
	dataDir := t.TempDir()
	old := time.Now().Add(-selfSignedValidity + selfSignedRenewal/2)
	certFile, _, err := ensureSelfSignedCert(dataDir, old)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(certFile)
	if _, _, err := EnsureSelfSignedCert(dataDir); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(certFile)
	if bytes.Equal(before, after) {
		t.Error("a certificate near expiry was kept")
	}
}

func TestSelfSignedCertRefusesDamagedPair(t *testing.T) {
	dataDir := t.TempDir()
	certFile, keyFile, err := EnsureSelfSignedCert(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = EnsureSelfSignedCert(dataDir)
	if err == nil || !strings.Contains(err.Error(), certFile) || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("damaged pair: %v", err)
	}
	// A pair missing its certificate (a crash between the two writes) is remade.
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	if _, _, err := EnsureSelfSignedCert(dataDir); err != nil {
		t.Errorf("half a pair: %v", err)
	}
}

func TestHTTPSCertificateSelfSigned(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	certFile, keyFile, err := c.HTTPSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if certFile != filepath.Join(c.DataDir, SelfSignedCertFile) || keyFile != filepath.Join(c.DataDir, SelfSignedKeyFile) {
		t.Errorf("HTTPSCertificate = %q %q", certFile, keyFile)
	}
}
