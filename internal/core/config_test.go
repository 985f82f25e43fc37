package core_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// forEachCore runs fn over a Core on SQLite and, when configured, on PostgreSQL.
func forEachCore(t *testing.T, fn func(t *testing.T, c *core.Core)) {
	open := func(t *testing.T, url, path string) *core.Core {
		ctx := context.Background()
		st, err := store.Open(ctx, url, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		h, err := auth.NewHasher(auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
		if err != nil {
			t.Fatal(err)
		}
		return core.New(st, settings.New(st, 0), h, config.Default(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, "", filepath.Join(t.TempDir(), "ream.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, open(t, testenv.PostgresURL(t), "")) })
}

// TestAPICannotRedirectSecrets: the keys saying where a stored password is
// sent are refused through the API, while the CLI/admin path still works.
func TestAPICannotRedirectSecrets(t *testing.T) {
	forEachCore(t, func(t *testing.T, c *core.Core) {
		ctx := context.Background()
		for _, key := range []string{settings.SMTPHost, settings.SMTPPort, settings.SMTPSecurity, settings.SMTPUsername,
			settings.SMTPPassword, settings.UserSyncLDAPURL, settings.UserSyncLDAPBindDN} {
			err := c.SetConfigValue(ctx, core.CLI, key, "1", true)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != core.Forbidden {
				t.Errorf("API setConfigValue(%s) = %v, want Forbidden", key, err)
			}
		}
		if got := c.Settings.Get(ctx, settings.SMTPHost); got != "" {
			t.Errorf("smtp.host = %q after refused API calls", got)
		}
		if err := c.SetConfigValue(ctx, core.CLI, settings.SMTPFrom, "ream@example.org", true); err != nil {
			t.Errorf("API may still set smtp.from: %v", err)
		}
	})
}

// TestGuardingKeyClearsSecret: the table of when a stored secret survives a change.
func TestGuardingKeyClearsSecret(t *testing.T) {
	stored := map[string]string{
		settings.SMTPHost: "mail.example.org", settings.SMTPPort: "587", settings.SMTPUsername: "ream",
		settings.SMTPPassword: "s3cret", settings.UserSyncLDAPURL: "ldaps://dc.example.org",
		settings.UserSyncLDAPBindDN: "cn=ream,dc=example,dc=org", settings.UserSyncLDAPBindPW: "bind-s3cret",
	}
	for _, tc := range []struct {
		name    string
		change  map[string]string
		cleared []string // secrets expected to be cleared
	}{
		{"host changed", map[string]string{settings.SMTPHost: "evil.example.net"}, []string{settings.SMTPPassword}},
		{"port changed", map[string]string{settings.SMTPPort: "2525"}, []string{settings.SMTPPassword}},
		{"security changed", map[string]string{settings.SMTPSecurity: "none"}, []string{settings.SMTPPassword}},
		{"username changed", map[string]string{settings.SMTPUsername: "other"}, []string{settings.SMTPPassword}},
		{"same values (port written differently)", map[string]string{settings.SMTPHost: "mail.example.org", settings.SMTPPort: " 587 "}, nil},
		{"host changed with a new password", map[string]string{settings.SMTPHost: "new.example.org", settings.SMTPPassword: "new"}, nil},
		{"unrelated key", map[string]string{settings.SMTPFrom: "ream@example.org"}, nil},
		{"ldap url changed", map[string]string{settings.UserSyncLDAPURL: "ldap://attacker.example.net"}, []string{settings.UserSyncLDAPBindPW}},
		{"bind dn changed", map[string]string{settings.UserSyncLDAPBindDN: "cn=other"}, []string{settings.UserSyncLDAPBindPW}},
		{"both servers changed", map[string]string{settings.SMTPHost: "x.example", settings.UserSyncLDAPURL: "ldap://x.example"},
			[]string{settings.SMTPPassword, settings.UserSyncLDAPBindPW}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachCore(t, func(t *testing.T, c *core.Core) {
				ctx := context.Background()
				if err := c.SetConfigValues(ctx, core.CLI, stored); err != nil {
					t.Fatal(err)
				}
				cleared, err := c.ApplyConfigValues(ctx, core.CLI, tc.change)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(cleared, tc.cleared) {
					t.Errorf("cleared = %v, want %v", cleared, tc.cleared)
				}
				for _, secret := range []string{settings.SMTPPassword, settings.UserSyncLDAPBindPW} {
					want := stored[secret]
					if v, ok := tc.change[secret]; ok {
						want = v
					}
					if slices.Contains(tc.cleared, secret) {
						want = ""
					}
					if got := c.Settings.Get(ctx, secret); got != want {
						t.Errorf("%s = %q, want %q", secret, got, want)
					}
				}
				entries, _, err := c.Store.AuditLog(ctx, "", 0, 100)
				if err != nil {
					t.Fatal(err)
				}
				var notes []string
				for _, e := range entries {
					if e.Action == "config.secret-cleared" {
						notes = append(notes, e.Target)
						if !strings.Contains(e.Detail, "stored password cleared because") {
							t.Errorf("audit detail %q does not say why", e.Detail)
						}
					}
				}
				slices.Sort(notes)
				if !slices.Equal(notes, tc.cleared) {
					t.Errorf("audit entries for cleared secrets = %v, want %v", notes, tc.cleared)
				}
			})
		})
	}
}

// TestSingleSettingChangeClearsSecret: the CLI's one-key path clears too.
func TestSingleSettingChangeClearsSecret(t *testing.T) {
	forEachCore(t, func(t *testing.T, c *core.Core) {
		ctx := context.Background()
		if err := c.SetConfigValues(ctx, core.CLI, map[string]string{settings.SMTPHost: "a.example", settings.SMTPPassword: "pw"}); err != nil {
			t.Fatal(err)
		}
		if err := c.SetConfigValue(ctx, core.CLI, settings.SMTPHost, "b.example", false); err != nil {
			t.Fatal(err)
		}
		if got := c.Settings.Get(ctx, settings.SMTPPassword); got != "" {
			t.Errorf("smtp.password = %q after the host changed, want it cleared", got)
		}
	})
}
