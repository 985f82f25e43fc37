// Package smtptest runs a real SMTP server inside the test process, so mail
// code is tested through a full SMTP conversation (EHLO, STARTTLS, AUTH, MAIL,
// RCPT, DATA) rather than against a fake sender.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options choose what the server offers.
type Options struct {
	// Auth makes the server require authentication before MAIL FROM.
	Auth bool
	// Username and Password are the accepted credentials; they default to
	// "ream" and "secret" when Auth is set.
	Username, Password string
	// Mechanisms lists the SASL mechanisms offered, from "PLAIN" and "LOGIN";
	// it defaults to PLAIN only.
	Mechanisms []string
	// TLS offers STARTTLS with a self-signed certificate; with Auth, AUTH is
	// then refused until the connection is encrypted.
	TLS bool
	// ImplicitTLS makes the listener speak TLS from the first byte (SMTPS).
	ImplicitTLS bool
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// AuthUser is the user the client authenticated as, if any.
	AuthUser string
	// TLS tells whether the message travelled over an encrypted connection.
	TLS bool
}

// Server is a running SMTP server on a loopback port.
type Server struct {
	t    testing.TB
	opts Options
	port int
	cert tls.Certificate
	pool *x509.CertPool

	mu          sync.Mutex
	smtp        *smtp.Server
	listener    net.Listener
	messages    []Message
	arrived     chan struct{} // closed and replaced whenever a message is accepted
	failNext    int
	failCode    int
	connections int
	ended       bool
}

// Start runs a server with no authentication and no TLS, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs a server offering what opts asks for, stopped when the test ends.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Auth {
		if opts.Username == "" {
			opts.Username = "ream"
		}
		if opts.Password == "" {
			opts.Password = "secret"
		}
		if len(opts.Mechanisms) == 0 {
			opts.Mechanisms = []string{sasl.Plain}
		}
		for _, m := range opts.Mechanisms {
			if m != sasl.Plain && m != sasl.Login {
				t.Fatalf("smtptest: unsupported mechanism %q (want PLAIN or LOGIN)", m)
			}
		}
	}
	s := &Server{t: t, opts: opts, arrived: make(chan struct{})}
	if opts.TLS || opts.ImplicitTLS {
		cert, pool, err := selfSignedCertificate()
		if err != nil {
			t.Fatalf("smtptest: %v", err)
		}
		s.cert, s.pool = cert, pool
	}
	l, err := s.listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: unable to listen: %v", err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	s.serve(l)
	t.Cleanup(func() {
		s.mu.Lock()
		s.ended = true
		s.mu.Unlock()
		s.Stop()
	})
	return s
}

// Host is the address to connect to.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the server's TCP port; it stays the same across Stop and Restart.
func (s *Server) Port() int { return s.port }

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host(), fmt.Sprint(s.port)) }

// Username is the accepted user name when Auth is on.
func (s *Server) Username() string { return s.opts.Username }

// Password is the accepted password when Auth is on.
func (s *Server) Password() string { return s.opts.Password }

// CertPool trusts the server's self-signed certificate, for clients that verify it.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// Messages returns a copy of the messages accepted so far, in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Connections counts the connections the server has accepted.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connections
}

// WaitFor waits until at least n messages have arrived and returns them; it
// fails the test when timeout passes first. Call it from the test goroutine.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.messages), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			s.t.Fatalf("smtptest: %d message(s) arrived within %v, want %d", got, timeout, n)
		}
	}
}

// FailNext makes the next n deliveries fail at the end of DATA with code
// (a 4xx for "try again later", a 5xx for "never"); nothing is recorded for them.
func (s *Server) FailNext(n, code int) {
	if code < 400 || code > 599 {
		s.t.Fatalf("smtptest: FailNext code %d is not a 4xx or 5xx", code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failCode = n, code
}

// Stop closes the listener and every open connection, as a mail server that
// goes down would. Connections are refused until Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l := s.smtp, s.listener
	s.smtp, s.listener = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	if err := srv.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		s.t.Errorf("smtptest: unable to stop: %v", err)
	}
	// go-smtp only closes listeners its Serve goroutine has registered, which
	// may not have happened yet; closing ours guarantees the port is down.
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.t.Errorf("smtptest: unable to close the listener: %v", err)
	}
}

// Restart starts the server again on the same port, keeping its recorded messages.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	l, err := s.listen(s.Addr())
	if err != nil {
		s.t.Fatalf("smtptest: unable to listen again on %s: %v", s.Addr(), err)
	}
	s.serve(l)
}

func (s *Server) listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if s.opts.ImplicitTLS {
		l = tls.NewListener(l, s.tlsConfig())
	}
	return l, nil
}

func (s *Server) tlsConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{s.cert}, MinVersion: tls.VersionTLS12}
}

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.ErrorLog = serverLog{s}
	if s.opts.TLS {
		srv.TLSConfig = s.tlsConfig()
	}
	// Without TLS there is no way to encrypt, so allow AUTH in clear; with TLS,
	// refusing it proves the client upgraded before sending its password.
	srv.AllowInsecureAuth = !s.opts.TLS && !s.opts.ImplicitTLS
	s.mu.Lock()
	s.smtp, s.listener = srv, l
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			s.logf("smtptest: serve: %v", err)
		}
	}()
}

// logf reports server-side problems to the test log while the test runs.
func (s *Server) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.t.Logf(format, args...)
	}
}

type serverLog struct{ s *Server }

func (l serverLog) Printf(format string, v ...any) { l.s.logf("smtptest: "+format, v...) }
func (l serverLog) Println(v ...any)               { l.s.logf("smtptest: %s", fmt.Sprintln(v...)) }

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	s.connections++
	s.mu.Unlock()
	return &session{server: s, conn: c}, nil
}

// deliver records an accepted message, or refuses it when failures are pending.
func (s *Server) deliver(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return &smtp.SMTPError{
			Code:         s.failCode,
			EnhancedCode: smtp.EnhancedCode{s.failCode / 100, 0, 0},
			Message:      "smtptest: delivery refused on purpose",
		}
	}
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

type session struct {
	server   *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

func (ss *session) AuthMechanisms() []string {
	if !ss.server.opts.Auth {
		return nil
	}
	return ss.server.opts.Mechanisms
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	opts := ss.server.opts
	if !opts.Auth || !slices.Contains(opts.Mechanisms, mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(username, password string) error {
		if username != opts.Username || password != opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authUser = username
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return smtp.ErrAuthFailed
		}
		return check(username, password)
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.opts.Auth && ss.authUser == "" {
		// RFC 4954's answer; go-smtp's ErrAuthRequired says 502.
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	return ss.server.deliver(Message{
		From:     ss.from,
		To:       slices.Clone(ss.to),
		Data:     buf.Bytes(),
		AuthUser: ss.authUser,
		TLS:      isTLS,
	})
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl only
// offers as a client; it lets tests cover servers that offer LOGIN alone.
type loginServer struct {
	check    func(username, password string) error
	username string
	step     int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.username, string(response))
	}
	return nil, false, sasl.ErrUnexpectedClientResponse
}

var (
	certOnce sync.Once
	certPair tls.Certificate
	certPool *x509.CertPool
	certErr  error
)

// selfSignedCertificate makes, once per test binary, a certificate for
// 127.0.0.1, ::1 and localhost.
func selfSignedCertificate() (tls.Certificate, *x509.CertPool, error) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = fmt.Errorf("unable to generate a key: %w", err)
			return
		}
		template := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "smtptest"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			DNSNames:              []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
		if err != nil {
			certErr = fmt.Errorf("unable to create a certificate: %w", err)
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			certErr = fmt.Errorf("unable to parse the certificate: %w", err)
			return
		}
		certPair = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		certPool = x509.NewCertPool()
		certPool.AddCert(leaf)
	})
	return certPair, certPool, certErr
}
