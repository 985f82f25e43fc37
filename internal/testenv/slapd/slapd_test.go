package slapd

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestStartLoadsEntriesAndServesTLS(t *testing.T) {
	s := Start(t, UsersLDIF(3, 1))
	pem, err := os.ReadFile(s.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	if err != nil {
		t.Fatalf("ldaps dial: %v", err)
	}
	defer conn.Close()
	if err := conn.Bind(s.AdminDN, s.AdminPassword); err != nil {
		t.Fatalf("bind: %v", err)
	}
	res, err := conn.Search(ldap.NewSearchRequest(s.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(res.Entries) != 3 {
		t.Fatalf("got %d users, want 3", len(res.Entries))
	}
	s.Stop()
	s.Stop() // a second Stop is harmless
	if _, err := ldap.DialURL(s.URL); err == nil {
		t.Fatal("server still answers after Stop")
	}
}

func TestSoftSizeLimitCapsUnpagedSearch(t *testing.T) {
	s := StartWithOptions(t, Options{SoftSizeLimit: 5, LDIF: []string{UsersLDIF(12, 0)}})
	conn, err := ldap.DialURL(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Search(ldap.NewSearchRequest(s.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("unpaged search of 12 entries with limit 5: err = %v, want size limit exceeded", err)
	}
}
