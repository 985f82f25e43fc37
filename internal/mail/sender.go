package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sender hands one built message to a mail server.
type Sender interface {
	// Send delivers data from the envelope sender to the envelope recipients.
	// A failure is a *SendError; IsTemporary tells whether to try again later.
	Send(ctx context.Context, from string, to []string, data []byte) error
}

// NewSMTPSender returns a Sender that opens one SMTP conversation per message
// with the server in cfg. The configuration is checked on every Send, so a
// bad one fails each message permanently with the field named.
func NewSMTPSender(cfg SMTPConfig) Sender {
	return &smtpSender{cfg: cfg}
}

type smtpSender struct {
	cfg SMTPConfig
}

// Send runs the whole conversation: connect, EHLO, STARTTLS or TLS, AUTH,
// MAIL, RCPT for each recipient, DATA, QUIT. It stops at the first refusal,
// so a message is either handed over whole or not at all.
func (s *smtpSender) Send(ctx context.Context, from string, to []string, data []byte) error {
	cfg := s.cfg
	if err := cfg.Validate(); err != nil {
		return &SendError{Stage: "configuration", Err: err}
	}
	if len(to) == 0 {
		return &SendError{Stage: "envelope", Err: errors.New("no recipient")}
	}
	for _, addr := range append([]string{from}, to...) {
		if strings.ContainsAny(addr, "\r\n<>") {
			return &SendError{Stage: "envelope", Err: fmt.Errorf("address %q contains a line break or angle bracket", addr)}
		}
	}
	if cfg.Username != "" && cfg.Security == SecurityNone && !isLoopback(cfg.Host) {
		return &SendError{Stage: "authentication", Err: fmt.Errorf(
			"refusing to send the SMTP password unencrypted to %s; set security to %q or %q", cfg.Host, SecurityStartTLS, SecurityTLS)}
	}

	deadline := time.Now().Add(cfg.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	tlsConfig := &tls.Config{ServerName: cfg.Host, InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	conn, err := dial(ctx, addr, cfg.Security == SecurityTLS, tlsConfig)
	if err != nil {
		return &SendError{Stage: "connect to " + addr, Temporary: isTemporaryFailure(err), Err: err}
	}
	// net/smtp has no timeouts of its own: one deadline bounds the whole
	// conversation, and cancelling ctx ends it at once.
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return &SendError{Stage: "connect to " + addr, Temporary: true, Err: err}
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return failed("greeting", err)
	}
	defer c.Close()
	if err := converse(c, cfg, tlsConfig, from, to, data); err != nil {
		var se *SendError
		if errors.As(err, &se) && ctx.Err() != nil && !se.Temporary {
			se.Temporary = true // cut short by our deadline or cancellation, not refused
		}
		return err
	}
	return nil
}

func dial(ctx context.Context, addr string, implicitTLS bool, tlsConfig *tls.Config) (net.Conn, error) {
	d := &net.Dialer{}
	if implicitTLS {
		return (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	}
	return d.DialContext(ctx, "tcp", addr)
}

func converse(c *smtp.Client, cfg SMTPConfig, tlsConfig *tls.Config, from string, to []string, data []byte) error {
	if err := c.Hello(helloName()); err != nil {
		return failed("EHLO", err)
	}
	if cfg.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &SendError{Stage: "STARTTLS", Err: fmt.Errorf("server %s does not offer STARTTLS; set security to %q or %q", cfg.Host, SecurityTLS, SecurityNone)}
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return failed("STARTTLS", err)
		}
	}
	if cfg.Username != "" {
		if err := authenticate(c, cfg); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return failed("MAIL FROM <"+from+">", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return failed("RCPT TO <"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return failed("DATA", err)
	}
	if _, err := w.Write(data); err != nil {
		w.Close()
		return failed("DATA", err)
	}
	if err := w.Close(); err != nil {
		return failed("end of DATA", err)
	}
	// The message is accepted once DATA is; a failing QUIT must not make the
	// outbox send it again.
	_ = c.Quit()
	return nil
}

func authenticate(c *smtp.Client, cfg SMTPConfig) error {
	ok, mechanisms := c.Extension("AUTH")
	if !ok {
		return &SendError{Stage: "AUTH", Err: fmt.Errorf("server %s does not offer authentication but a username is configured", cfg.Host)}
	}
	var auth smtp.Auth
	offered := strings.Fields(strings.ToUpper(mechanisms))
	switch {
	case slices.Contains(offered, "PLAIN"):
		auth = plainAuth{username: cfg.Username, password: cfg.Password}
	case slices.Contains(offered, "LOGIN"):
		auth = &loginAuth{username: cfg.Username, password: cfg.Password}
	default:
		return &SendError{Stage: "AUTH", Err: fmt.Errorf("server %s offers only %q; Ream supports PLAIN and LOGIN", cfg.Host, mechanisms)}
	}
	if err := c.Auth(auth); err != nil {
		return failed("AUTH", err)
	}
	return nil
}

// plainAuth is AUTH PLAIN. net/smtp's own refuses any host but three loopback
// names over plain connections; Send has already applied Ream's rule.
type plainAuth struct{ username, password string }

func (a plainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.username + "\x00" + a.password), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected challenge after AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the older AUTH LOGIN, still the only choice on some servers.
type loginAuth struct {
	username, password string
	step               int
}

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.username), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %q", challenge)
}

// helloName is the name Ream gives in EHLO: this machine's, when it is a
// usable host name.
func helloName() string {
	name, err := os.Hostname()
	if err != nil || name == "" || !isDotAtom(name) || strings.ContainsAny(name, "@") {
		return "localhost"
	}
	return name
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
