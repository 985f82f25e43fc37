package directory

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/testenv/slapd"
)

// closedURL is an ldap:// URL of a loopback port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "ldap://" + addr
}

func TestFailoverToSecondServer(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	down := closedURL(t)
	c := openLDAPConfig(srv)
	c.URL = down + " " + srv.URL
	res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if err != nil {
		t.Fatalf("Read with the first server down: %v", err)
	}
	if res.Server != srv.URL || len(res.Users) == 0 {
		t.Errorf("answered by %q with %d users, want %s", res.Server, len(res.Users), srv.URL)
	}
	// Both down: the error names both.
	c.URL = down + "," + closedURL(t)
	_, err = newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), down) {
		t.Errorf("both down: err = %v", err)
	}
	// A wrong password is not a reason to try the next server.
	c.URL, c.BindPassword = srv.URL+" "+down, "wrong"
	_, err = newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "wrong BindDN or BindPassword") {
		t.Errorf("wrong password: err = %v", err)
	}
}

func TestParseURLs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"ldaps://dc1.corp.example", []string{"ldaps://dc1.corp.example"}, ""},
		{"ldaps://dc1.corp.example ldaps://dc2.corp.example:636", []string{"ldaps://dc1.corp.example", "ldaps://dc2.corp.example:636"}, ""},
		{" ldap://a, ldap://b ", []string{"ldap://a", "ldap://b"}, ""},
		{"", nil, "is required"},
		{"ftp://x", nil, "must start with ldap:// or ldaps://"},
		{"ldap://a ldap://A", nil, "listed twice"},
		{"ldap://a ftp://b", nil, `"ftp://b"`},
	} {
		got, err := ParseURLs(tc.in)
		if tc.err == "" {
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ParseURLs(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "URL") {
			t.Errorf("ParseURLs(%q) error = %v, want one naming URL and saying %q", tc.in, err, tc.err)
		}
	}
}

func FuzzParseURLs(f *testing.F) {
	for _, s := range []string{"ldaps://dc1 ldaps://dc2", "ldap://a,ldap://b", "", "ldap://", "ldaps://[::1]:636"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		urls, err := ParseURLs(s)
		if err != nil {
			return
		}
		if len(urls) == 0 || len(urls) > maxURLs {
			t.Fatalf("%q gave %d URLs", s, len(urls))
		}
		for _, u := range urls {
			l := strings.ToLower(u)
			if strings.ContainsAny(u, " ,\t#?") || !(strings.HasPrefix(l, "ldap://") || strings.HasPrefix(l, "ldaps://")) {
				t.Fatalf("%q gave URL %q", s, u)
			}
		}
	})
}
