package config

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
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Names of the self-signed pair in the data directory.
const (
	SelfSignedCertFile = "self-signed-cert.pem"
	SelfSignedKeyFile  = "self-signed-key.pem"
)

const (
	selfSignedValidity = 5 * 365 * 24 * time.Hour
	// selfSignedRenewal is how close to expiry a certificate is replaced, so
	// that a server restarted now does not fail in a few days.
	selfSignedRenewal = 30 * 24 * time.Hour
)

// EnsureSelfSignedCert returns the self-signed certificate and key in
// dataDir, making them on first use (SPEC §1) and again when the certificate
// nears expiry. It refuses to overwrite a pair it cannot read.
func EnsureSelfSignedCert(dataDir string) (certFile, keyFile string, err error) {
	return ensureSelfSignedCert(dataDir, time.Now())
}

func ensureSelfSignedCert(dataDir string, now time.Time) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dataDir, SelfSignedCertFile)
	keyFile = filepath.Join(dataDir, SelfSignedKeyFile)
	cert, err := readCertPair(certFile, keyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", "", fmt.Errorf("config: unable to use the self-signed certificate (delete %s and %s to make a new pair): %w", certFile, keyFile, err)
	case now.Add(selfSignedRenewal).Before(cert.NotAfter):
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("config: unable to create the data directory %s: %w", dataDir, err)
	}
	certPEM, keyPEM, err := makeSelfSigned(now)
	if err != nil {
		return "", "", err
	}
	// The key goes first: a crash in between leaves no certificate, and the
	// next start makes a fresh pair.
	if err := writeFileAtomic(keyFile, keyPEM); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(certFile, certPEM); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// readCertPair loads the pair and checks that the key matches the certificate.
func readCertPair(certFile, keyFile string) (*x509.Certificate, error) {
	for _, name := range []string{certFile, keyFile} {
		if _, err := os.Stat(name); err != nil {
			return nil, err
		}
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return pair.Leaf, nil
}

func makeSelfSigned(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("config: unable to generate a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("config: unable to generate a serial number: %w", err)
	}
	dnsNames := []string{"localhost"}
	hostname, _ := os.Hostname()
	if hostname != "" && hostname != "localhost" && net.ParseIP(hostname) == nil {
		dnsNames = append(dnsNames, hostname)
	}
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Ream"}, CommonName: "Ream self-signed " + dnsNames[len(dnsNames)-1]},
		NotBefore:             now.Add(-time.Hour), // tolerate clocks a little behind
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dnsNames,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("config: unable to create the self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("config: unable to encode the private key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes a 0600 file through a temporary name, so that a
// reader never sees half a file.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-*")
	if err != nil {
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("config: unable to write %s: %w", name, err)
	}
	return nil
}
