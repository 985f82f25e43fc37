package mail

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := SMTPConfig{Host: "mail.example.org", Port: 587, Security: SecurityStartTLS, Username: "ream", Password: "pw", From: "Ream <ream@example.org>"}
	for _, tc := range []struct {
		name    string
		change  func(*SMTPConfig)
		wantErr []string
	}{
		{"good", func(*SMTPConfig) {}, nil},
		{"no auth", func(c *SMTPConfig) { c.Username, c.Password = "", "" }, nil},
		{"implicit TLS", func(c *SMTPConfig) { c.Security, c.Port = SecurityTLS, 465 }, nil},
		{"IPv6 host", func(c *SMTPConfig) { c.Host = "::1" }, nil},
		{"empty host", func(c *SMTPConfig) { c.Host = " " }, []string{"smtp host is empty"}},
		{"host with path", func(c *SMTPConfig) { c.Host = "mail.example.org/x" }, []string{"smtp host"}},
		{"port zero", func(c *SMTPConfig) { c.Port = 0 }, []string{"smtp port 0"}},
		{"port too big", func(c *SMTPConfig) { c.Port = 70000 }, []string{"smtp port 70000"}},
		{"unknown security", func(c *SMTPConfig) { c.Security = "ssl" }, []string{`smtp security "ssl"`}},
		{"empty security", func(c *SMTPConfig) { c.Security = "" }, []string{`smtp security ""`}},
		{"password without user", func(c *SMTPConfig) { c.Username = "" }, []string{"password is set but the username is empty"}},
		{"username with CRLF", func(c *SMTPConfig) { c.Username = "a\r\nb" }, []string{"smtp username"}},
		{"password with LF", func(c *SMTPConfig) { c.Password = "a\nb" }, []string{"smtp password"}},
		{"no sender", func(c *SMTPConfig) { c.From = "" }, []string{"sender (from) address is empty"}},
		{"bad sender", func(c *SMTPConfig) { c.From = "ream at example" }, []string{"sender (from) address"}},
		{"negative timeout", func(c *SMTPConfig) { c.Timeout = -time.Second }, []string{"smtp timeout"}},
		{"several at once", func(c *SMTPConfig) { c.Host, c.Port, c.From = "", 0, "" }, []string{"smtp host", "smtp port", "sender"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.change(&c)
			err := c.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
