package smtptest

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

const wait = 10 * time.Second

func send(c *smtp.Client, from string, to []string, body string) error {
	defer c.Close()
	return c.SendMail(from, to, strings.NewReader(body))
}

func TestRecordsAPlainDelivery(t *testing.T) {
	s := Start(t)
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if err := send(c, "ream@example.org", []string{"alice@example.org", "bob@example.org"}, "Subject: hi\r\n\r\nhello\r\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := s.WaitFor(1, wait)
	m := got[0]
	if m.From != "ream@example.org" || strings.Join(m.To, ",") != "alice@example.org,bob@example.org" {
		t.Errorf("envelope = %q -> %q", m.From, m.To)
	}
	if string(m.Data) != "Subject: hi\r\n\r\nhello\r\n" {
		t.Errorf("data = %q", m.Data)
	}
	if m.TLS || m.AuthUser != "" {
		t.Errorf("TLS = %v, AuthUser = %q on a plain unauthenticated delivery", m.TLS, m.AuthUser)
	}
}

func TestStartTLSWithAuth(t *testing.T) {
	s := StartWith(t, Options{Auth: true, TLS: true})

	t.Run("auth refused before STARTTLS", func(t *testing.T) {
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", s.Username(), s.Password())); err == nil {
			t.Fatal("AUTH accepted on an unencrypted connection")
		}
	})
	t.Run("mail refused without auth", func(t *testing.T) {
		c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: s.CertPool()})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		var smtpErr *smtp.SMTPError
		if err := send(c, "ream@example.org", []string{"alice@example.org"}, "x\r\n"); !errors.As(err, &smtpErr) || smtpErr.Code != 530 {
			t.Fatalf("send without auth: %v, want a 530", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: s.CertPool()})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		var smtpErr *smtp.SMTPError
		if err := c.Auth(sasl.NewPlainClient("", s.Username(), "wrong")); !errors.As(err, &smtpErr) || smtpErr.Code != 535 {
			t.Fatalf("auth with a wrong password: %v, want a 535", err)
		}
	})
	t.Run("delivered", func(t *testing.T) {
		c, err := smtp.DialStartTLS(s.Addr(), &tls.Config{RootCAs: s.CertPool()})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if err := c.Auth(sasl.NewPlainClient("", s.Username(), s.Password())); err != nil {
			t.Fatalf("auth: %v", err)
		}
		if err := send(c, "ream@example.org", []string{"alice@example.org"}, "x\r\n"); err != nil {
			t.Fatalf("send: %v", err)
		}
		m := s.WaitFor(1, wait)[0]
		if !m.TLS || m.AuthUser != s.Username() {
			t.Fatalf("TLS = %v, AuthUser = %q", m.TLS, m.AuthUser)
		}
	})
}

func TestImplicitTLSWithLoginOnly(t *testing.T) {
	s := StartWith(t, Options{Auth: true, ImplicitTLS: true, Mechanisms: []string{sasl.Login}})
	c, err := smtp.DialTLS(s.Addr(), &tls.Config{RootCAs: s.CertPool()})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if c.SupportsAuth(sasl.Plain) || !c.SupportsAuth(sasl.Login) {
		t.Fatal("server should offer LOGIN only")
	}
	if err := c.Auth(sasl.NewLoginClient(s.Username(), s.Password())); err != nil {
		t.Fatalf("auth LOGIN: %v", err)
	}
	if err := send(c, "ream@example.org", []string{"alice@example.org"}, "x\r\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	if m := s.WaitFor(1, wait)[0]; !m.TLS || m.AuthUser != s.Username() {
		t.Fatalf("TLS = %v, AuthUser = %q", m.TLS, m.AuthUser)
	}
}

func TestFailNextRefusesThenAccepts(t *testing.T) {
	s := Start(t)
	s.FailNext(2, 451)
	for i := range 3 {
		c, err := smtp.Dial(s.Addr())
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		err = send(c, "ream@example.org", []string{"alice@example.org"}, "x\r\n")
		var smtpErr *smtp.SMTPError
		switch {
		case i < 2 && (!errors.As(err, &smtpErr) || smtpErr.Code != 451):
			t.Fatalf("delivery %d: %v, want a 451", i, err)
		case i == 2 && err != nil:
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if n := len(s.WaitFor(1, wait)); n != 1 {
		t.Fatalf("%d messages recorded, want only the accepted one", n)
	}
	if s.Connections() != 3 {
		t.Fatalf("Connections() = %d, want 3", s.Connections())
	}
}

func TestStopAndRestartKeepThePort(t *testing.T) {
	s := Start(t)
	port := s.Port()
	s.Stop()
	if c, err := smtp.Dial(s.Addr()); err == nil {
		c.Close()
		t.Fatal("dial succeeded while the server is stopped")
	}
	s.Restart()
	if s.Port() != port {
		t.Fatalf("port changed from %d to %d", port, s.Port())
	}
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatalf("dial after restart: %v", err)
	}
	if err := send(c, "ream@example.org", []string{"alice@example.org"}, "x\r\n"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}
	s.WaitFor(1, wait)
}
