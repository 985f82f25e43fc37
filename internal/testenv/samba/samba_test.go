package samba

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestQuotedPassword(t *testing.T) {
	got := quotedPassword("Pä1")
	var units []uint16
	for i := 0; i+1 < len(got); i += 2 {
		units = append(units, uint16(got[i])|uint16(got[i+1])<<8)
	}
	if s := string(utf16.Decode(units)); s != `"Pä1"` {
		t.Errorf("quotedPassword decodes to %q", s)
	}
}

func TestFixtureShape(t *testing.T) {
	f := Fixture()
	if n := strings.Count(f, "\nobjectClass: user\n"); n != Students+6 {
		t.Errorf("fixture has %d users, want %d", n, Students+6)
	}
	big := f[strings.Index(f, "dn: CN="+BigGroup+","):]
	if n := strings.Count(big, "\nmember: "); n != BigGroupSize {
		t.Errorf("%s has %d members, want %d", BigGroup, n, BigGroupSize)
	}
	if !strings.Contains(f, "userPrincipalName: "+AliceUPN+"\n") || !strings.Contains(f, "sAMAccountName: alice\n") {
		t.Error("alice's UPN or sAMAccountName is missing")
	}
	// Every record is separated by a blank line, as LDIF needs.
	if strings.Contains(f, "\n\n\n") {
		t.Error("fixture has an empty record")
	}
}
