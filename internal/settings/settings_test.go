package settings_test

import (
	"context"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		key, in, want, err string
	}{
		{settings.CardLuhn, "yes", "Y", ""},
		{settings.CardLuhn, "False", "N", ""},
		{settings.CardLuhn, "maybe", "", "not Y or N"},
		{settings.CardLength, " 14 ", "14", ""},
		{settings.CardLength, "5", "", "outside 6 to 32"},
		{settings.CardLength, "twelve", "", "not a whole number"},
		{settings.SMTPSecurity, "STARTTLS", "starttls", ""},
		{settings.SMTPSecurity, "ssl", "", "not one of none, starttls, tls"},
		{settings.CardPrefix, "AB12", "AB12", ""},
		{settings.CardPrefix, "A-1", "", "only letters and digits"},
		{settings.SMTPFrom, "Ream <ream@example.org>", "Ream <ream@example.org>", ""},
		{settings.SMTPFrom, "not an address", "", "not an email address"},
		{settings.UserRegisterField, "Primary", "primary", ""},
		{settings.UserRegisterField, "both", "", "not one of primary, secondary"},
		{settings.UserGenerateCard, "on", "Y", ""},
		{settings.UserSyncTime, "23:59", "23:59", ""},
		{settings.UserSyncTime, "25:00", "", "not a time"},
		{settings.UserSyncLDAPCardRe, "([0-9]+", "", "not a regular expression"},
		{settings.CurrencySymbol, "€\nX", "", "line breaks"},
		{settings.CurrencySymbol, "a\x00", "", "NUL"},
		{settings.UserSyncLDAPURL, "ldaps://dc1.corp.example", "ldaps://dc1.corp.example", ""},
		{settings.UserSyncLDAPURL, "ftp://x", "", "must start with ldap:// or ldaps://"},
		{settings.UserSyncLDAPBindDN, "cn=reader,dc=example,dc=org", "cn=reader,dc=example,dc=org", ""},
		{settings.UserSyncLDAPBindDN, "svc-ream@corp.example", "svc-ream@corp.example", ""},
		{settings.UserSyncLDAPBindDN, `CORP\svc-ream`, `CORP\svc-ream`, ""},
		{settings.UserSyncLDAPBindDN, "svc-ream", "", "is not a DN"},
		{settings.UserSyncLDAPCACert, "relative/ca.pem", "", "not an absolute path"},
		{settings.UserSyncLDAPCACert, "/nonexistent/ca.pem", "", "unable to read"},
		{"no.such.key", "1", "", "unknown setting"},
	} {
		got, err := settings.Normalize(tc.key, tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("Normalize(%s, %q) error = %v, want one naming the key and saying %q", tc.key, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tc.key, tc.in, got, err, tc.want)
		}
	}
}

func TestEveryDefaultIsValid(t *testing.T) {
	for _, k := range settings.Keys() {
		if got, err := settings.Normalize(k.Name, k.Default); err != nil || got != k.Default {
			t.Errorf("%s: default %q normalises to %q, %v", k.Name, k.Default, got, err)
		}
		if k.Secret && k.API {
			t.Errorf("%s is secret but readable through the API", k.Name)
		}
	}
}

func TestSetAndGetThroughTheStore(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	set := settings.New(s, 0)
	if set.Int(ctx, settings.CardLength) != 12 || set.Bool(ctx, settings.CardLuhn) {
		t.Fatal("defaults not returned")
	}
	err := s.InTx(ctx, func(tx *store.Tx) error { return set.Set(ctx, tx, settings.CardLength, "20") })
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Int(ctx, settings.CardLength); got != 20 {
		t.Errorf("after Set: %d", got)
	}
	err = s.InTx(ctx, func(tx *store.Tx) error { return set.Set(ctx, tx, settings.CardLength, "99") })
	if err == nil {
		t.Error("out-of-range value stored")
	}
	if got := set.Int(ctx, settings.CardLength); got != 20 {
		t.Errorf("a refused Set changed the value to %d", got)
	}
}

func FuzzNormalize(f *testing.F) {
	keys := settings.Keys()
	f.Add(0, "Y")
	f.Add(3, "12")
	f.Fuzz(func(t *testing.T, i int, v string) {
		if i < 0 {
			i = -i
		}
		k := keys[i%len(keys)]
		got, err := settings.Normalize(k.Name, v)
		if err != nil {
			return
		}
		again, err := settings.Normalize(k.Name, got)
		if err != nil || again != got {
			t.Fatalf("%s: %q normalised to %q, which normalises to %q (%v)", k.Name, v, got, again, err)
		}
	})
}

// TestGuardedSecrets: every guarded name is a secret, and neither a secret
// nor a key saying where it is sent can be reached through the API, so an
// API caller cannot point a stored password at a server of their choosing.
func TestGuardedSecrets(t *testing.T) {
	guards := map[string]string{}
	for _, k := range settings.Keys() {
		if k.Secret && k.API {
			t.Errorf("%s is a secret and an API key", k.Name)
		}
		if k.Guards == "" {
			continue
		}
		guards[k.Name] = k.Guards
		g, ok := settings.Lookup(k.Guards)
		if !ok || !g.Secret {
			t.Errorf("%s guards %q, which is not a secret setting", k.Name, k.Guards)
		}
		if k.API {
			t.Errorf("%s guards %s but may be changed through the API", k.Name, k.Guards)
		}
	}
	for _, name := range []string{settings.SMTPHost, settings.SMTPPort, settings.SMTPSecurity, settings.SMTPUsername} {
		if guards[name] != settings.SMTPPassword {
			t.Errorf("%s guards %q, want %s", name, guards[name], settings.SMTPPassword)
		}
	}
	for _, name := range []string{settings.UserSyncLDAPURL, settings.UserSyncLDAPBindDN} {
		if guards[name] != settings.UserSyncLDAPBindPW {
			t.Errorf("%s guards %q, want %s", name, guards[name], settings.UserSyncLDAPBindPW)
		}
	}
}
