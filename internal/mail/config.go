// Package mail builds notification messages and hands them to an SMTP server.
//
// It knows nothing of the database: the durable outbox builds a message once
// with a stable Message-ID, stores the bytes, and calls a Sender until the
// message is accepted or IsTemporary says retrying cannot help.
package mail

import (
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"
)

// Connection security choices for SMTPConfig.Security.
const (
	// SecurityNone speaks plain SMTP; AUTH is then only allowed to a loopback host.
	SecurityNone = "none"
	// SecurityStartTLS upgrades the connection with STARTTLS and fails if the server cannot.
	SecurityStartTLS = "starttls"
	// SecurityTLS speaks TLS from the first byte (SMTPS, usually port 465).
	SecurityTLS = "tls"
)

// DefaultTimeout bounds one SMTP conversation when SMTPConfig.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// SMTPConfig is the mail server Ream sends through (Options > Notifications).
type SMTPConfig struct {
	Host string
	Port int
	// Security is SecurityNone, SecurityStartTLS or SecurityTLS.
	Security string
	// Username and Password log in with AUTH PLAIN or LOGIN when Username is set.
	Username, Password string
	// From is the sender, as "ream@example.org" or "Ream <ream@example.org>".
	From string
	// Timeout bounds one whole SMTP conversation; zero means DefaultTimeout.
	Timeout time.Duration
	// InsecureSkipVerify accepts any server certificate, for self-signed test servers.
	InsecureSkipVerify bool
}

// Validate reports every field that cannot work, each error naming its field.
func (c SMTPConfig) Validate() error {
	var errs []error
	switch {
	case strings.TrimSpace(c.Host) == "":
		errs = append(errs, errors.New("mail: smtp host is empty"))
	case strings.ContainsAny(c.Host, " \t\r\n/@"):
		errs = append(errs, fmt.Errorf("mail: smtp host %q is not a host name or address", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("mail: smtp port %d is not between 1 and 65535", c.Port))
	}
	switch c.Security {
	case SecurityNone, SecurityStartTLS, SecurityTLS:
	default:
		errs = append(errs, fmt.Errorf("mail: smtp security %q is not one of %q, %q, %q", c.Security, SecurityNone, SecurityStartTLS, SecurityTLS))
	}
	if strings.ContainsAny(c.Username, "\r\n\x00") {
		errs = append(errs, errors.New("mail: smtp username contains a line break or NUL"))
	}
	if strings.ContainsAny(c.Password, "\r\n\x00") {
		errs = append(errs, errors.New("mail: smtp password contains a line break or NUL"))
	}
	if c.Username == "" && c.Password != "" {
		errs = append(errs, errors.New("mail: smtp password is set but the username is empty"))
	}
	if _, err := parseAddress("sender (from)", c.From); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("mail: smtp timeout %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// timeout is the configured conversation bound, or the default.
func (c SMTPConfig) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// parseAddress reads one address for the field named by what, refusing what
// could smuggle a header or that this package cannot send to.
func parseAddress(what, s string) (*netmail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("mail: %s address is empty", what)
	}
	if strings.ContainsAny(s, "\r\n") {
		return nil, fmt.Errorf("mail: %s address %q contains a line break", what, s)
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("mail: %s address %q is not valid: %w", what, s, err)
	}
	for _, r := range a.Address {
		if r < '!' || r > '~' {
			return nil, fmt.Errorf("mail: %s address %q: only plain ASCII addresses are supported", what, s)
		}
	}
	return a, nil
}
