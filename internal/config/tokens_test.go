package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestWebServicesTokens(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "   ", want: nil},
		{in: "abc123", want: []string{"abc123"}},
		{in: "  abc123\n", want: []string{"abc123"}},
		{in: `["a","b"]`, want: []string{"a", "b"}},
		{in: `[]`, want: []string{}},
		{in: `{"zeta":"z1","alpha":"a1"}`, want: []string{"a1", "z1"}},
		{in: `["a",`, wantErr: "not a JSON array of token strings: syntax error at byte"},
		{in: `["a", 3]`, wantErr: "a number where a string was expected"},
		{in: `["a", ""]`, wantErr: "token 2 in the array is empty"},
		{in: `[" a"]`, wantErr: "starts or ends with a blank"},
		{in: `{"x": 1}`, wantErr: "not a JSON object of name→token strings"},
		{in: `{"helpdesk": "  "}`, wantErr: `token "helpdesk" is empty`},
		{in: "{not json", wantErr: "syntax error"},
		{in: "tab\there", wantErr: "the token contains a control character"},
	}
	for _, tt := range tests {
		c := Default()
		c.Auth.WebServices.AuthToken = tt.in
		got, err := c.WebServicesTokens()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "auth.webservices.auth-token") {
				t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestTokenErrorsHideToken(t *testing.T) {
	for _, in := range []string{`["Zsecret`, `{"n": "Zsecret"`, `["Zsecret", 1]`, "Zsecret\x01"} {
		_, err := parseTokens(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if strings.Contains(err.Error(), "Zsecret") || strings.Contains(err.Error(), "Zs") {
			t.Errorf("%q: error %q shows the token", in, err)
		}
	}
}

func TestAllowedAddress(t *testing.T) {
	c := Default()
	allowed := []string{"127.0.0.1", "::1", "::ffff:127.0.0.1", "::1%lo"}
	refused := []string{"127.0.0.2", "10.0.0.1", "::2", "::ffff:10.0.0.1", "0.0.0.0", "::"}
	check := func(addrs []string, want bool) {
		t.Helper()
		for _, s := range addrs {
			ip := netip.MustParseAddr(s)
			if got := c.AllowedAddress(ip); got != want {
				t.Errorf("AllowedAddress(%s) with %v = %v, want %v", s, c.Auth.WebServices.AllowedAddresses, got, want)
			}
		}
	}
	check(allowed, true)
	check(refused, false)
	if c.AllowedAddress(netip.Addr{}) {
		t.Error("the zero address is allowed")
	}

	prefixes, err := parsePrefixes([]string{"10.0.0.5/8", "2001:db8::/32", "::ffff:192.168.0.0/120"})
	if err != nil {
		t.Fatal(err)
	}
	c.Auth.WebServices.AllowedAddresses = prefixes
	check([]string{"10.200.1.1", "::ffff:10.9.9.9", "2001:db8::1", "192.168.0.77", "::ffff:192.168.0.255"}, true)
	check([]string{"127.0.0.1", "2001:db9::1", "192.168.1.1", "11.0.0.1"}, false)

	c.Auth.WebServices.AllowedAddresses = nil
	check([]string{"127.0.0.1", "::1"}, false)
}

func TestParsePrefix(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "127.0.0.1", want: "127.0.0.1/32"},
		{in: "::1", want: "::1/128"},
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "10.1.2.3/16", want: "10.1.0.0/16"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "::ffff:0:0/64", wantErr: "IPv4-mapped"},
		{in: "localhost", wantErr: `"localhost" is not an IP address`},
		{in: "10.0.0.0/33", wantErr: "not an IP address or CIDR"},
		{in: "fe80::1%eth0", wantErr: "not an IP address"},
		{in: "", wantErr: "not an IP address"},
	}
	for _, tt := range tests {
		p, err := parsePrefix(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parsePrefix(%q) = %v, %v; want error %q", tt.in, p, err, tt.wantErr)
			}
			continue
		}
		if err != nil || p.String() != tt.want {
			t.Errorf("parsePrefix(%q) = %v, %v; want %s", tt.in, p, err, tt.want)
		}
	}
}
