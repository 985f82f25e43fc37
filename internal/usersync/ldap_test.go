package usersync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

func TestSyncFromOpenLDAP(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		srv := slapd.Start(t, directoryLDIF(t))
		h.useLDAP(srv)

		test, err := h.run(h.syncOpts(), true)
		if err != nil {
			t.Fatalf("test run: %v", err)
		}
		var created []string
		for _, c := range test.Plan.Create {
			created = append(created, c.User.Username)
		}
		if want := []string{"alice", "bob", "carol"}; !slices.Equal(created, want) {
			t.Fatalf("test plan creates %v, want %v", created, want)
		}
		if !slices.Equal(test.Plan.DirectoryGroups, []string{"sales", "Staff"}) {
			t.Errorf("directory groups = %v", test.Plan.DirectoryGroups)
		}
		if n, _ := h.store.CountUsers(ctx); n != 0 {
			t.Fatalf("a test run wrote %d users", n)
		}
		if !test.Run.Test || test.Run.Status != "ok" {
			t.Errorf("test run recorded as %+v", test.Run)
		}

		out := h.mustRun(h.syncOpts())
		if c := out.Run.Counts; c.Created != 3 || c.Read != 3 {
			t.Errorf("counts = %+v", c)
		}
		alice := h.user("alice")
		want := model.User{Username: "alice", FullName: "Alice Archer", Email: "alice@example.org", Department: "Finance",
			Office: "Level 2", PrimaryCard: "123", SourceID: "ldap"}
		if alice.FullName != want.FullName || alice.Email != want.Email || alice.Department != want.Department ||
			alice.Office != want.Office || alice.PrimaryCard != want.PrimaryCard || alice.SourceID != want.SourceID || alice.Internal {
			t.Errorf("alice = %+v", alice)
		}
		run, err := h.store.SyncRunByID(ctx, out.Run.ID)
		if err != nil || run.Status != "ok" || !strings.Contains(run.Report, "create alice (Alice Archer)") {
			t.Errorf("run record = %+v, %v", run, err)
		}

		again := h.mustRun(h.syncOpts())
		if c := again.Run.Counts; c.Unchanged != 3 || c.Created+c.Updated+c.Deleted != 0 {
			t.Errorf("second run counts = %+v, want 3 unchanged", c)
		}

		// Tracking a group imports it with its members.
		if _, err := h.svc.ImportGroup(ctx, admin, "staff"); err != nil {
			t.Fatalf("ImportGroup: %v", err)
		}
		if got := h.members("Staff"); !slices.Equal(got, []string{"alice", "bob"}) {
			t.Errorf("Staff = %v", got)
		}
		g, _ := h.store.GroupByName(ctx, "staff")
		if !g.Tracked || g.SourceID != "ldap" {
			t.Errorf("group = %+v, want tracked from ldap", g)
		}

		// A change in the directory shows after the next sync.
		modifyDirectory(t, srv, func(conn *ldap.Conn) error {
			m := ldap.NewModifyRequest("uid=bob,ou=people,dc=example,dc=org", nil)
			m.Replace("mail", []string{"robert@example.org"})
			m.Replace("employeeNumber", []string{"CARD-000789"})
			if err := conn.Modify(m); err != nil {
				return err
			}
			g := ldap.NewModifyRequest("cn=staff,ou=groups,dc=example,dc=org", nil)
			g.Replace("member", []string{"uid=carol,ou=people,dc=example,dc=org", "uid=bob,ou=people,dc=example,dc=org"})
			return conn.Modify(g)
		})
		third := h.mustRun(h.syncOpts())
		if c := third.Run.Counts; c.Updated != 1 || c.Unchanged != 2 {
			t.Errorf("third run counts = %+v", c)
		}
		bob := h.user("bob")
		if bob.Email != "robert@example.org" || bob.PrimaryCard != "789" {
			t.Errorf("bob = %+v", bob)
		}
		if got := h.members("Staff"); !slices.Equal(got, []string{"bob", "carol"}) {
			t.Errorf("Staff after sync = %v, want [bob carol]", got)
		}
	})
}

func TestSyncMergesInternalUser(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		in, err := h.core.CreateInternalUser(ctx, admin, core.NewInternalUser{Username: "carol", Password: "Correct-Horse-9-Battery", FullName: "Old Name"})
		if err != nil {
			t.Fatal(err)
		}
		out := h.mustRun(h.syncOpts())
		if len(out.Plan.Update) != 1 || !out.Plan.Update[0].Merged {
			t.Fatalf("plan updates = %+v", out.Plan.Update)
		}
		carol := h.user("carol")
		if carol.ID != in.ID || carol.Internal || carol.PasswordHash != "" || carol.SourceID != "ldap" || carol.FullName != "Carol Cook" {
			t.Errorf("carol after merge = %+v", carol)
		}
	})
}

func TestSyncDeleteRules(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		h.set(settings.DeleteLimitPercent, "20", settings.DeleteLimitMax, "500")
		if _, err := h.core.CreateInternalUser(ctx, admin, core.NewInternalUser{Username: "ivan", Password: "Correct-Horse-9-Battery"}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*model.User{{Username: "manny"}, {Username: "fred", SourceID: "file"}, {Username: "zed", SourceID: "ldap"}} {
			if err := h.core.CreateUser(ctx, admin, u); err != nil {
				t.Fatal(err)
			}
		}
		h.mustRun(h.syncOpts())
		h.user("zed") // not deleted without the option

		opts := h.syncOpts()
		opts.DeleteMissing = true
		out := h.mustRun(opts)
		if out.Run.Counts.Deleted != 1 {
			t.Fatalf("deleted %d, want 1 (zed)", out.Run.Counts.Deleted)
		}
		h.noUser("zed")
		for _, name := range []string{"ivan", "manny", "fred", "alice"} {
			h.user(name)
		}
		var zed *model.User
		for _, u := range out.Plan.Delete {
			zed = u
		}
		if kept, err := h.store.UserByID(ctx, zed.ID); err != nil || kept.DeletedAt == nil {
			t.Errorf("zed's history: %+v, %v; want a deleted mark", kept, err)
		}

		// Ten more ldap users that the directory lacks: 13 managed, limit 3.
		for i := range 10 {
			if err := h.core.CreateUser(ctx, admin, &model.User{Username: "gone" + string(rune('a'+i)), SourceID: "ldap"}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := h.run(opts, false)
		var refused *DeleteLimitError
		if !errors.As(err, &refused) || refused.Deletes != 10 || refused.Limit != 3 {
			t.Fatalf("err = %v, want the delete limit refusal of 10 over 3", err)
		}
		h.user("gonea")
		runs, _, _ := h.store.ListSyncRuns(ctx, RunKind, 0, 1)
		if runs[0].Status != "refused" {
			t.Errorf("last run status %q, want refused", runs[0].Status)
		}
		opts.ConfirmDelete = 9
		if _, err := h.run(opts, false); !errors.As(err, &refused) {
			t.Fatalf("a wrong confirmation went ahead: %v", err)
		}
		opts.ConfirmDelete = 10
		if out := h.mustRun(opts); out.Run.Counts.Deleted != 10 {
			t.Errorf("confirmed run deleted %d, want 10", out.Run.Counts.Deleted)
		}
		h.noUser("gonea")
	})
}

func TestSyncAbortsWhenTheDirectoryGoesAway(t *testing.T) {
	// More users than one page (500), so that the read needs a second page.
	srv := slapd.Start(t, readerLDIF, slapd.UsersLDIF(1200, 3))
	h := newHarness(t, false)
	ctx := context.Background()
	h.useLDAP(srv)
	h.set(settings.UserSyncLDAPCardRe, "")
	first := h.mustRun(h.syncOpts())
	if first.Run.Counts.Created != 1200 {
		t.Fatalf("created %d, want 1200 (paging)", first.Run.Counts.Created)
	}
	if err := h.core.CreateUser(ctx, admin, &model.User{Username: "stale", SourceID: "ldap"}); err != nil {
		t.Fatal(err)
	}
	opts := h.syncOpts()
	opts.DeleteMissing = true
	var once sync.Once
	_, err := h.svc.Run(ctx, admin, opts, false, func(stage string, done, total int) {
		if stage == StageReading && done > 0 {
			once.Do(srv.Stop)
		}
	})
	if err == nil || !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("err = %v, want the directory to be unavailable", err)
	}
	h.user("stale")
	if n, _ := h.store.CountUsers(ctx); n != 1201 {
		t.Errorf("%d users after the failed run, want 1201", n)
	}
	runs, _, _ := h.store.ListSyncRuns(ctx, RunKind, 0, 1)
	if runs[0].Status != "failed" || runs[0].Counts.Deleted != 0 {
		t.Errorf("run = %+v, want failed with nothing deleted", runs[0])
	}
}

const readerLDIF = `dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret
`

func TestSyncAbortsOnEmptyRead(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)
	h.mustRun(h.syncOpts())
	h.set(settings.UserSyncLDAPFilter, "(uid=nobody-at-all)")
	opts := h.syncOpts()
	opts.DeleteMissing = true
	if _, err := h.run(opts, false); !errors.Is(err, directory.ErrEmptySource) {
		t.Fatalf("err = %v, want ErrEmptySource", err)
	}
	for _, n := range []string{"alice", "bob", "carol"} {
		h.user(n)
	}
}

func TestSyncOverTLS(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	for _, tc := range []struct {
		name, url, starttls string
	}{
		{"ldaps", srv.LDAPSURL, "N"},
		{"starttls", srv.URL, "Y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false)
			h.useLDAP(srv)
			h.set(settings.UserSyncLDAPURL, tc.url, settings.UserSyncLDAPStartTLS, tc.starttls, settings.UserSyncLDAPSkipTLS, "Y")
			if out := h.mustRun(h.syncOpts()); out.Run.Counts.Created != 3 {
				t.Errorf("created %d, want 3", out.Run.Counts.Created)
			}
			if ok, err := h.svc.LoginUser(context.Background(), "bob", "bob-password"); !ok || err != nil {
				t.Errorf("login over %s = %v, %v", tc.name, ok, err)
			}
		})
	}
}

func TestSyncOnlyMembersOfChosenGroups(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)
	h.set(settings.UserSyncOnlyGroups, "sales\n")
	out := h.mustRun(h.syncOpts())
	if out.Run.Counts.Created != 2 {
		t.Fatalf("created %d, want bob and carol", out.Run.Counts.Created)
	}
	h.noUser("alice")
	if got := h.members("sales"); !slices.Equal(got, []string{"bob", "carol"}) {
		t.Errorf("sales = %v", got)
	}
	g, err := h.store.GroupByName(context.Background(), "sales")
	if err != nil || !g.Tracked {
		t.Errorf("sales group = %+v, %v; want tracked", g, err)
	}
}

func TestDirectoryLogin(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		for _, tc := range []struct {
			name, user, password string
			ok                   bool
		}{
			{"right password", "alice", "alice-password", true},
			{"case-insensitive username", "ALICE", "alice-password", true},
			{"wrong password", "alice", "nope", false},
			{"empty password", "alice", "", false},
			{"unknown user", "mallory", "alice-password", false},
			{"wildcard", "*", "alice-password", false},
			{"filter injection", "alice)(uid=*", "alice-password", false},
			{"or injection", "*)(|(uid=*", "alice-password", false},
			{"escaped star", `al\2aice`, "alice-password", false},
			{"NUL", "alice\x00", "alice-password", false},
		} {
			ok, err := h.svc.LoginUser(ctx, tc.user, tc.password)
			if err != nil || ok != tc.ok {
				t.Errorf("%s: LoginUser(%q) = %v, %v; want %v", tc.name, tc.user, ok, err, tc.ok)
			}
		}
		alice := h.user("alice")
		if alice.SourceID != "ldap" || alice.FullName != "Alice Archer" || alice.PasswordHash != "" {
			t.Errorf("alice created at login = %+v", alice)
		}
		h.noUser("mallory")
		if ok, err := h.svc.Authenticate(ctx, "alice", "alice-password"); !ok || err != nil {
			t.Errorf("second login = %v, %v", ok, err)
		}

		// An internal user of the same name is not logged in by the directory.
		if _, err := h.core.CreateInternalUser(ctx, admin, core.NewInternalUser{Username: "bob", Password: "Correct-Horse-9-Battery"}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := h.svc.LoginUser(ctx, "bob", "bob-password"); ok {
			t.Error("the directory password logged in an internal user")
		}
	})
}

func TestDirectoryLoginUnavailable(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	h := newHarness(t, false)
	h.useLDAP(srv)
	srv.Stop()
	ok, err := h.svc.LoginUser(context.Background(), "alice", "alice-password")
	if ok || err == nil {
		t.Fatalf("login with the directory down = %v, %v; want an error", ok, err)
	}
	if _, err := h.store.UserByName(context.Background(), "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("alice: %v, want not created", err)
	}
}
