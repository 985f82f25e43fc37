package usersync

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

var admin = core.Actor{Name: "admin", AllAccounts: true}

// harness is a Ream store with core, settings and the sync service.
type harness struct {
	t     testing.TB
	store *store.Store
	core  *core.Core
	svc   *Service
	roots string // the one allowed sync root
}

// forEachStore runs a test on SQLite and, when configured, PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newHarness(t, false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newHarness(t, true)) })
}

func newHarness(t testing.TB, postgres bool) *harness {
	t.Helper()
	s, c := reamtest.Core(t, postgres)
	roots := filepath.Join(t.TempDir(), "sources")
	if err := os.Mkdir(roots, 0o700); err != nil {
		t.Fatal(err)
	}
	c.Config.Sync.AllowedRoots = []string{roots}
	runner := tasks.New(context.Background(), s, c.Log)
	t.Cleanup(runner.Wait)
	return &harness{t: t, store: s, core: c, svc: New(c, runner), roots: roots}
}

// set stores settings, name then value.
func (h *harness) set(kv ...string) {
	h.t.Helper()
	err := h.store.InTx(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := h.core.Settings.Set(context.Background(), tx, kv[i], kv[i+1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// useLDAP points the sync at srv as the reader service account.
func (h *harness) useLDAP(srv *slapd.Server) {
	h.set(settings.UserSyncSource, SourceLDAP,
		settings.UserSyncLDAPPreset, "openldap",
		settings.UserSyncLDAPURL, srv.URL,
		settings.UserSyncLDAPBindDN, "cn=reader,dc=example,dc=org",
		settings.UserSyncLDAPBindPW, "reader-secret",
		settings.UserSyncLDAPBaseDN, srv.BaseDN,
		settings.UserSyncLDAPCardRe, `^CARD-0*([0-9]+)$`)
}

func (h *harness) user(name string) *model.User {
	h.t.Helper()
	u, err := h.store.UserByName(context.Background(), name)
	if err != nil {
		h.t.Fatalf("user %q: %v", name, err)
	}
	return u
}

func (h *harness) noUser(name string) {
	h.t.Helper()
	if u, err := h.store.UserByName(context.Background(), name); err == nil {
		h.t.Fatalf("user %q exists (%+v), want none", name, u)
	}
}

func (h *harness) members(group string) []string {
	h.t.Helper()
	m, err := h.store.GroupMembers(context.Background(), group, 0, 1000)
	if err != nil {
		h.t.Fatalf("members of %q: %v", group, err)
	}
	return m
}

func (h *harness) writeFile(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.roots, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *harness) syncOpts() Options {
	return h.svc.OptionsFromSettings(context.Background())
}

func (h *harness) run(opts Options, test bool) (*Outcome, error) {
	return h.svc.Run(context.Background(), admin, opts, test, nil)
}

func (h *harness) mustRun(opts Options) *Outcome {
	h.t.Helper()
	out, err := h.run(opts, false)
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return out
}

func directoryLDIF(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/directory.ldif")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// modifyDirectory changes the running directory as its administrator.
func modifyDirectory(t testing.TB, srv *slapd.Server, fn func(conn *ldap.Conn) error) {
	t.Helper()
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetTimeout(10 * time.Second)
	if err := conn.Bind(srv.AdminDN, srv.AdminPassword); err != nil {
		t.Fatal(err)
	}
	if err := fn(conn); err != nil {
		t.Fatal(err)
	}
}
