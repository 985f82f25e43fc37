package mail

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

const wait = 10 * time.Second

// configFor points a configuration at a test server.
func configFor(s *smtptest.Server, security string) SMTPConfig {
	return SMTPConfig{
		Host:               s.Host(),
		Port:               s.Port(),
		Security:           security,
		Username:           s.Username(),
		Password:           s.Password(),
		From:               "Ream <ream@example.org>",
		InsecureSkipVerify: true,
	}
}

// sendOne builds and sends one message through cfg.
func sendOne(t *testing.T, cfg SMTPConfig, msg Message) ([]byte, error) {
	t.Helper()
	data, err := Build(cfg, msg, time.Now(), NewMessageID(cfg.From))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	from, to, err := Envelope(cfg, msg)
	if err != nil {
		t.Fatalf("Envelope: %v", err)
	}
	return data, NewSMTPSender(cfg).Send(context.Background(), from, to, data)
}

var cardMail = Message{To: []string{"Alice <alice@example.org>"}, Subject: "Your card number", Body: "It is 004711.\n"}

func TestSendDelivers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     smtptest.Options
		security string
		wantTLS  bool
	}{
		{"plain, no auth", smtptest.Options{}, SecurityNone, false},
		{"plain with auth to loopback", smtptest.Options{Auth: true}, SecurityNone, false},
		{"STARTTLS with AUTH PLAIN", smtptest.Options{Auth: true, TLS: true}, SecurityStartTLS, true},
		{"STARTTLS with AUTH LOGIN only", smtptest.Options{Auth: true, TLS: true, Mechanisms: []string{sasl.Login}}, SecurityStartTLS, true},
		{"implicit TLS with AUTH PLAIN", smtptest.Options{Auth: true, ImplicitTLS: true}, SecurityTLS, true},
		{"implicit TLS, no auth", smtptest.Options{ImplicitTLS: true}, SecurityTLS, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := smtptest.StartWith(t, tc.opts)
			data, err := sendOne(t, configFor(s, tc.security), cardMail)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := s.WaitFor(1, wait)
			if len(got) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(got))
			}
			m := got[0]
			if m.From != "ream@example.org" || len(m.To) != 1 || m.To[0] != "alice@example.org" {
				t.Errorf("envelope %q -> %q", m.From, m.To)
			}
			if !bytes.Equal(m.Data, data) {
				t.Errorf("server received\n%q\nwant\n%q", m.Data, data)
			}
			if m.TLS != tc.wantTLS {
				t.Errorf("TLS = %v, want %v", m.TLS, tc.wantTLS)
			}
			if tc.opts.Auth && m.AuthUser != s.Username() {
				t.Errorf("authenticated as %q, want %q", m.AuthUser, s.Username())
			}
		})
	}
}

func TestSendNonASCIISubjectRoundTrips(t *testing.T) {
	s := smtptest.Start(t)
	msg := Message{To: []string{"jurgen@example.org"}, Subject: "Ihre Kartennummer, Jürgen — 卡号", Body: "Grüße\n"}
	if _, err := sendOne(t, configFor(s, SecurityNone), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := readBack(t, s.WaitFor(1, wait)[0].Data)
	if got := decodedSubject(t, m); got != msg.Subject {
		t.Fatalf("subject arrived as %q, want %q", got, msg.Subject)
	}
}

func TestSendFailures(t *testing.T) {
	for _, tc := range []struct {
		name          string
		opts          smtptest.Options
		prepare       func(*smtptest.Server, *SMTPConfig)
		wantTemporary bool
		wantCode      int
		wantErr       string
	}{
		{
			name:          "server down",
			prepare:       func(s *smtptest.Server, _ *SMTPConfig) { s.Stop() },
			wantTemporary: true, wantErr: "connect to",
		},
		{
			name:          "4xx at end of DATA",
			prepare:       func(s *smtptest.Server, _ *SMTPConfig) { s.FailNext(1, 451) },
			wantTemporary: true, wantCode: 451, wantErr: "end of DATA",
		},
		{
			name:     "5xx at end of DATA",
			prepare:  func(s *smtptest.Server, _ *SMTPConfig) { s.FailNext(1, 554) },
			wantCode: 554, wantErr: "end of DATA",
		},
		{
			name:     "wrong password",
			opts:     smtptest.Options{Auth: true, TLS: true},
			prepare:  func(_ *smtptest.Server, c *SMTPConfig) { c.Password = "wrong" },
			wantCode: 535, wantErr: "AUTH",
		},
		{
			name:     "server wants auth, none configured",
			opts:     smtptest.Options{Auth: true, TLS: true},
			prepare:  func(_ *smtptest.Server, c *SMTPConfig) { c.Username, c.Password = "", "" },
			wantCode: 530, wantErr: "MAIL FROM",
		},
		{
			name:    "STARTTLS required but not offered",
			prepare: func(_ *smtptest.Server, c *SMTPConfig) { c.Security = SecurityStartTLS },
			wantErr: "does not offer STARTTLS",
		},
		{
			name:    "self-signed certificate not trusted",
			opts:    smtptest.Options{TLS: true},
			prepare: func(_ *smtptest.Server, c *SMTPConfig) { c.Security, c.InsecureSkipVerify = SecurityStartTLS, false },
			wantErr: "certificate",
		},
		{
			name:    "TLS spoken to a plain port",
			prepare: func(_ *smtptest.Server, c *SMTPConfig) { c.Security = SecurityTLS },
			wantErr: "connect to",
		},
		{
			name: "password over plain SMTP to a remote host",
			// Refused before any connection, so the host is never looked up.
			prepare: func(_ *smtptest.Server, c *SMTPConfig) {
				c.Host, c.Username, c.Password = "mail.invalid", "ream", "secret"
			},
			wantErr: "refusing to send the SMTP password unencrypted",
		},
		{
			name:    "invalid configuration",
			prepare: func(_ *smtptest.Server, c *SMTPConfig) { c.Port = 0 },
			wantErr: "smtp port 0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := smtptest.StartWith(t, tc.opts)
			cfg := configFor(s, SecurityNone)
			if tc.opts.TLS {
				cfg.Security = SecurityStartTLS
			}
			tc.prepare(s, &cfg)
			_, err := sendOne(t, cfg, cardMail)
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := IsTemporary(err); got != tc.wantTemporary {
				t.Errorf("IsTemporary(%v) = %v, want %v", err, got, tc.wantTemporary)
			}
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SendError", err)
			}
			if se.Code != tc.wantCode {
				t.Errorf("code = %d, want %d (%v)", se.Code, tc.wantCode, err)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not mention %q", err, tc.wantErr)
			}
			if n := len(s.Messages()); n != 0 {
				t.Errorf("%d messages delivered despite the error", n)
			}
		})
	}
}

func TestSendAfterServerComesBack(t *testing.T) {
	s := smtptest.Start(t)
	cfg := configFor(s, SecurityNone)
	s.Stop()
	if _, err := sendOne(t, cfg, cardMail); !IsTemporary(err) {
		t.Fatalf("send while down: %v, want a temporary error", err)
	}
	s.Restart()
	if _, err := sendOne(t, cfg, cardMail); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	s.WaitFor(1, wait)
}

func TestSendTimesOutOnASilentServer(t *testing.T) {
	// Accepts connections but never greets, like a hung mail server.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	cfg := SMTPConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Security: SecurityNone,
		From: "ream@example.org", Timeout: 300 * time.Millisecond}
	_, err = sendOne(t, cfg, cardMail)
	if err == nil || !IsTemporary(err) {
		t.Fatalf("Send to a silent server: %v, want a temporary error", err)
	}
}

func TestSendStopsWhenCancelled(t *testing.T) {
	s := smtptest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := NewSMTPSender(configFor(s, SecurityNone)).Send(ctx, "ream@example.org", []string{"alice@example.org"}, []byte("x\r\n"))
	if err == nil || !IsTemporary(err) {
		t.Fatalf("Send with a cancelled context: %v, want a temporary error", err)
	}
}

func TestSendRefusesBadEnvelope(t *testing.T) {
	s := smtptest.Start(t)
	sender := NewSMTPSender(configFor(s, SecurityNone))
	for _, tc := range []struct {
		from string
		to   []string
	}{
		{"ream@example.org", nil},
		{"ream@example.org\r\nRCPT TO:<eve@example.org>", []string{"alice@example.org"}},
		{"ream@example.org", []string{"alice@example.org>\r\nRCPT TO:<eve@example.org"}},
	} {
		err := sender.Send(context.Background(), tc.from, tc.to, []byte("x\r\n"))
		if err == nil || IsTemporary(err) {
			t.Errorf("Send(%q, %q) = %v, want a permanent error", tc.from, tc.to, err)
		}
	}
	if s.Connections() != 0 {
		t.Fatalf("%d connections made for envelopes that should be refused first", s.Connections())
	}
}
