// Package config holds Ream's configuration (SPEC §1, §7, §9): defaults, a
// ream.toml file, REAM_… environment variables and command-line flags, in
// that order of precedence (flags win). One table of keys (keys.go) drives
// every source, the configuration reference and `ream config show`.
package config

import (
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Config is the effective configuration of one Ream process.
type Config struct {
	DataDir       string
	Listen        string
	HTTPS         HTTPS
	Database      Database
	Auth          Auth
	Metrics       Metrics
	Admin         Admin
	Sync          Sync
	Log           Log
	Session       Session
	SecureCookies string // "auto", "always" or "never"
	Mail          Mail

	file    string            // configuration file that was read, "" if none
	sources map[string]string // key name → where its value came from; absent means default
}

// HTTPS is the [https] section: the TLS listener on port 9192.
type HTTPS struct {
	Listen     string // "" turns HTTPS off
	CertFile   string
	KeyFile    string
	SelfSigned bool // make a self-signed certificate in the data directory when no cert-file is given
}

// Database is the [database] section.
type Database struct {
	URL string // "" means SQLite in the data directory; postgres:// means PostgreSQL
}

// Auth is the [auth] section.
type Auth struct {
	WebServices WebServices
}

// WebServices is the [auth.webservices] section guarding the XML-RPC API.
type WebServices struct {
	AuthToken        string // one token, a JSON array of tokens or a JSON object name→token
	AllowedAddresses []netip.Prefix
}

// Metrics is the [metrics] section guarding /metrics.
type Metrics struct {
	AllowedAddresses []netip.Prefix // may scrape without a token
	// BearerToken, when set, lets a scraper from any address in with
	// "Authorization: Bearer <token>".
	BearerToken string
}

// Admin is the [admin] section.
type Admin struct {
	Password string // built-in admin's password; stored only as a hash by the server
}

// Sync is the [sync] section.
type Sync struct {
	AllowedRoots []string // directories the shared-account sync may read, absolute and clean
}

// Log is the [log] section.
type Log struct {
	Level  string // "debug", "info", "warn" or "error"
	Format string // "text" or "json"
}

// Session is the [session] section.
type Session struct {
	Lifetime time.Duration
}

// Mail is the [mail] section.
type Mail struct {
	OutboxInterval time.Duration
}

// Default returns the configuration Ream runs with when nothing is configured.
func Default() *Config {
	return &Config{
		DataDir: "./ream-data",
		Listen:  ":9191",
		HTTPS:   HTTPS{Listen: ":9192", SelfSigned: true},
		Auth: Auth{WebServices: WebServices{AllowedAddresses: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"),
		}}},
		Metrics: Metrics{AllowedAddresses: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"),
		}},
		Log:           Log{Level: "info", Format: "text"},
		Session:       Session{Lifetime: 12 * time.Hour},
		SecureCookies: "auto",
		Mail:          Mail{OutboxInterval: 10 * time.Second},
	}
}

// File returns the configuration file that was read, or "" when none was.
func (c *Config) File() string { return c.file }

// Source tells where a key's value came from: "default", "file PATH:LINE",
// "env REAM_…" or "flag --…".
func (c *Config) Source(key string) string {
	if s, ok := c.sources[key]; ok {
		return s
	}
	return "default"
}

// IsPostgres reports whether the store is PostgreSQL rather than the embedded SQLite.
func (c *Config) IsPostgres() bool {
	return isPostgresURL(c.Database.URL)
}

// SQLitePath is where the embedded SQLite database lives.
func (c *Config) SQLitePath() string {
	return filepath.Join(c.DataDir, "ream.db")
}

// SecureCookie reports whether session cookies get the Secure flag for a
// request that arrived over HTTPS (or not).
func (c *Config) SecureCookie(requestIsHTTPS bool) bool {
	switch c.SecureCookies {
	case "always":
		return true
	case "never":
		return false
	default:
		return requestIsHTTPS
	}
}

// SlogLevel is the log level as log/slog understands it.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// HTTPSEnabled reports whether Ream should listen for HTTPS: an address is
// set and there is a certificate, given or self-signed.
func (c *Config) HTTPSEnabled() bool {
	return c.HTTPS.Listen != "" && (c.HTTPS.CertFile != "" || c.HTTPS.SelfSigned)
}

// HTTPSCertificate returns the certificate and key files for the HTTPS
// listener, making the self-signed pair on first use. It returns empty names
// when HTTPS is off.
func (c *Config) HTTPSCertificate() (certFile, keyFile string, err error) {
	switch {
	case !c.HTTPSEnabled():
		return "", "", nil
	case c.HTTPS.CertFile != "":
		return c.HTTPS.CertFile, c.HTTPS.KeyFile, nil
	default:
		return EnsureSelfSignedCert(c.DataDir)
	}
}

func isPostgresURL(s string) bool {
	lower := strings.ToLower(s)
	return strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
}
