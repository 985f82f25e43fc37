package directory

import (
	"strings"
	"testing"
)

func TestParseBindIdentity(t *testing.T) {
	for _, tc := range []struct {
		in, kind, err string
	}{
		{"cn=reader,dc=example,dc=org", BindDN, ""},
		{"CN=svc ream,OU=Service Accounts,DC=corp,DC=example", BindDN, ""},
		{"svc-ream@corp.example", BindUPN, ""},
		{"svc.ream@corp-1.example.org", BindUPN, ""},
		{`CORP\svc-ream`, BindDownLevel, ""},
		{`CORP\svc ream`, BindDownLevel, ""},
		{"", "", "is empty"},
		{"svc-ream", "", "is not a DN"},
		{"cn=x,", "", "is not a DN"},
		{"dc=example,dc", "", "is not a DN"},
		{"@corp.example", "", "before the @ is empty"},
		{"svc@", "", "after the @ is empty"},
		{"svc@corp..example", "", "empty label"},
		{"svc@corp_example", "", "DNS name"},
		{"svc@a@b", "", "DNS name"},
		{`\svc`, "", "domain before the backslash is empty"},
		{`CORP\`, "", "user name after the backslash is empty"},
		{`CORP.EXAMPLE\svc`, "", "NetBIOS"},
		{`ABCDEFGHIJKLMNOP\svc`, "", "15 characters"},
		{`CORP\svc\x`, "", "logon name"},
		{" svc@corp.example", "", "space"},
		{"svc@corp.example\n", "", "control character"},
	} {
		kind, err := ParseBindIdentity(tc.in)
		if tc.err == "" {
			if err != nil || kind != tc.kind {
				t.Errorf("ParseBindIdentity(%q) = %q, %v; want %q", tc.in, kind, err, tc.kind)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseBindIdentity(%q) = %q, %v; want an error containing %q", tc.in, kind, err, tc.err)
		}
	}
}

func FuzzParseBindIdentity(f *testing.F) {
	for _, s := range []string{"cn=reader,dc=example,dc=org", "svc@corp.example", `CORP\svc`, "", "=", "@", `\`, "a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := ParseBindIdentity(s)
		if err != nil {
			if kind != "" {
				t.Fatalf("ParseBindIdentity(%q) = %q with error %v", s, kind, err)
			}
			return
		}
		switch kind {
		case BindDN:
			if !strings.Contains(s, "=") {
				t.Fatalf("%q taken for a DN without =", s)
			}
		case BindUPN:
			if !strings.Contains(s, "@") || strings.ContainsAny(s, `=\`) {
				t.Fatalf("%q taken for a UPN", s)
			}
		case BindDownLevel:
			if !strings.Contains(s, `\`) || strings.Contains(s, "=") {
				t.Fatalf("%q taken for a down-level name", s)
			}
		default:
			t.Fatalf("ParseBindIdentity(%q) = unknown kind %q", s, kind)
		}
		if strings.TrimSpace(s) != s {
			t.Fatalf("%q accepted with surrounding space", s)
		}
	})
}
