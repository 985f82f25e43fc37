package main

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/testenv/slapd"
)

// TestGeneratedLDIFLoads loads the output into a real slapd, which checks
// it against the schema, and counts what arrived.
func TestGeneratedLDIFLoads(t *testing.T) {
	for _, posix := range []bool{false, true} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		if err := write(w, options{users: 25, groups: 4, base: slapd.BaseDN, passwords: true, posixGroup: posix}); err != nil {
			t.Fatal(err)
		}
		srv := slapd.Start(t, b.String())
		conn, err := ldap.DialURL(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		count := func(filter string) int {
			res, err := conn.Search(ldap.NewSearchRequest(srv.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, []string{"1.1"}, nil))
			if err != nil {
				t.Fatalf("search %s: %v", filter, err)
			}
			return len(res.Entries)
		}
		if n := count("(objectClass=inetOrgPerson)"); n != 25 {
			t.Errorf("posix=%v: %d users, want 25", posix, n)
		}
		if n := count("(|(member=uid=user5,ou=people,dc=example,dc=org)(memberUid=user5))"); n != 1 {
			t.Errorf("posix=%v: user5 is in %d groups, want 1", posix, n)
		}
		if err := conn.Bind("uid=user7,ou=people,dc=example,dc=org", "pass-7"); err != nil {
			t.Errorf("posix=%v: bind as user7: %v", posix, err)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []options{{users: -1, base: "dc=x"}, {groups: -1, base: "dc=x"}, {base: "example.org"}} {
		if o.check() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
