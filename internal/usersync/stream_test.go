package usersync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

// countHooks counts the new-user hook calls; first is closed on the first.
func countHooks(h *harness) (calls *atomic.Int64, first <-chan struct{}) {
	calls = new(atomic.Int64)
	ch := make(chan struct{})
	var once sync.Once
	h.core.NewUserHooks = append(h.core.NewUserHooks, func(ctx context.Context, tx *store.Tx, u *model.User) error {
		if u.ID == 0 {
			return errors.New("hook called for a user without an id")
		}
		calls.Add(1)
		once.Do(func() { close(ch) })
		return nil
	})
	return calls, ch
}

func TestStreamedImportRunsHooksForEveryUser(t *testing.T) {
	srv := slapd.Start(t, readerLDIF, slapd.UsersLDIF(1200, 3))
	forEachStore(t, func(t *testing.T, h *harness) {
		h.useLDAP(srv)
		h.set(settings.UserSyncLDAPCardRe, "", settings.UserSyncOnlyGroups, "group0\ngroup2")
		calls, _ := countHooks(h)
		out := h.mustRun(h.syncOpts())
		if out.Run.Counts.Created != 800 || calls.Load() != 800 {
			t.Fatalf("created %d users with %d hook calls, want 800 members of group0 and group2 with a hook each", out.Run.Counts.Created, calls.Load())
		}
		if n, _ := h.store.CountUsers(context.Background()); n != 800 {
			t.Errorf("%d users stored, want 800", n)
		}
		if got := len(h.members("group2")); got != 400 {
			t.Errorf("group2 has %d members, want 400", got)
		}
		// The users created page by page are one audit entry for the run.
		entries, _, err := h.store.AuditLog(context.Background(), "user.create", 0, 100)
		if err != nil || len(entries) != 1 || entries[0].Target != "800 users" {
			t.Errorf("audit entries for the created users: %+v %v; want one for 800 users", entries, err)
		}
		again := h.mustRun(h.syncOpts())
		if c := again.Run.Counts; c.Unchanged != 800 || c.Created+c.Updated != 0 || calls.Load() != 800 {
			t.Errorf("second run: counts %+v, %d hook calls; want 800 unchanged and no new hooks", c, calls.Load())
		}
	})
}

func TestStreamedImportRollsBackWhenTheDirectoryGoesAway(t *testing.T) {
	srv := slapd.Start(t, readerLDIF, slapd.UsersLDIF(1200, 3))
	h := newHarness(t, false)
	ctx := context.Background()
	h.useLDAP(srv)
	h.set(settings.UserSyncLDAPCardRe, "")
	calls, first := countHooks(h)
	var once sync.Once
	_, err := h.svc.Run(ctx, admin, h.syncOpts(), false, func(stage string, done, total int) {
		if stage == StageReading && done > 500 {
			// The first page (500 users) was handed over before this
			// second one: its users are in the transaction before the
			// directory goes away.
			once.Do(func() {
				<-first
				srv.Stop()
			})
		}
	})
	if !errors.Is(err, directory.ErrUnavailable) {
		t.Fatalf("err = %v, want the directory to be unavailable", err)
	}
	if calls.Load() == 0 {
		t.Fatal("no user was created during the read: the test proves nothing")
	}
	if n, _ := h.store.CountUsers(ctx); n != 0 {
		t.Errorf("%d users after the failed run, want none", n)
	}
	runs, _, _ := h.store.ListSyncRuns(ctx, RunKind, 0, 1)
	if runs[0].Status != "failed" || runs[0].Counts.Created != 0 {
		t.Errorf("run = %+v, want failed with nothing created", runs[0])
	}
}

func TestStreamedImportRefusedByTheDeleteLimit(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		h.set(settings.DeleteLimitPercent, "20", settings.DeleteLimitMax, "500")
		for i := range 10 {
			if err := h.core.CreateUser(ctx, admin, &model.User{Username: "gone" + string(rune('a'+i)), SourceID: "ldap"}); err != nil {
				t.Fatal(err)
			}
		}
		calls, _ := countHooks(h)
		opts := h.syncOpts()
		opts.DeleteMissing = true
		_, err := h.run(opts, false)
		var refused *DeleteLimitError
		if !errors.As(err, &refused) || refused.Deletes != 10 {
			t.Fatalf("err = %v, want the delete limit refusal of 10", err)
		}
		if calls.Load() == 0 {
			t.Fatal("no user was created during the read: the test proves nothing")
		}
		for _, name := range []string{"alice", "bob", "carol"} {
			h.noUser(name)
		}
		h.user("gonea")
	})
}

func TestStreamedImportGivesWayToThePlan(t *testing.T) {
	srv := slapd.Start(t, directoryLDIF(t))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		// bob is known without a card; carol, read after him, is new and
		// has bob's card number too. During the read carol looks free to
		// take it, but the plan gives it to bob, who comes first.
		if err := h.core.CreateUser(ctx, admin, &model.User{Username: "bob", SourceID: "ldap"}); err != nil {
			t.Fatal(err)
		}
		modifyDirectory(t, srv, func(conn *ldap.Conn) error {
			m := ldap.NewModifyRequest("uid=carol,ou=people,dc=example,dc=org", nil)
			m.Replace("employeeNumber", []string{"CARD-000456"})
			return conn.Modify(m)
		})
		t.Cleanup(func() {
			modifyDirectory(t, srv, func(conn *ldap.Conn) error {
				m := ldap.NewModifyRequest("uid=carol,ou=people,dc=example,dc=org", nil)
				m.Delete("employeeNumber", nil)
				return conn.Modify(m)
			})
		})
		calls, _ := countHooks(h)
		out := h.mustRun(h.syncOpts())
		if calls.Load() != 4 {
			t.Errorf("%d hook calls, want 4: alice and carol created during the read, rolled back and created again by the plan", calls.Load())
		}
		if c := out.Run.Counts; c.Created != 2 || c.Updated != 1 || c.Errors != 1 {
			t.Errorf("counts = %+v, want alice and carol created, bob updated, one warning", c)
		}
		if bob, carol := h.user("bob"), h.user("carol"); bob.PrimaryCard != "456" || carol.PrimaryCard != "" {
			t.Errorf("bob's card %q, carol's %q; want bob to hold 456", bob.PrimaryCard, carol.PrimaryCard)
		}
		if h.user("alice").PrimaryCard != "123" {
			t.Error("alice lost her card")
		}
	})
}

// New users join the groups the plan adds them to while the directory is
// still being read: a tracked group Ream has, and a chosen group it lacks.
// An untracked group, or a group neither tracked nor chosen, is left alone.
func TestStreamedImportAddsNewUsersToTheirGroups(t *testing.T) {
	srv := slapd.Start(t, readerLDIF, slapd.UsersLDIF(1200, 3))
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useLDAP(srv)
		h.set(settings.UserSyncLDAPCardRe, "")
		old := &model.User{Username: "olduser", SourceID: "ldap"}
		if err := h.core.CreateUser(ctx, admin, old); err != nil {
			t.Fatal(err)
		}
		err := h.store.InTx(ctx, func(tx *store.Tx) error {
			tracked := &model.Group{Name: "Group1", SourceID: "ldap", Tracked: true}
			untracked := &model.Group{Name: "group2", SourceID: "ldap"}
			for _, g := range []*model.Group{tracked, untracked} {
				if err := tx.CreateGroup(ctx, g); err != nil {
					return err
				}
			}
			w, err := tx.NewUserSyncWriter(ctx)
			if err != nil {
				return err
			}
			defer w.Close()
			return w.AddMembers(ctx, tracked.ID, []int64{old.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		calls, _ := countHooks(h)
		opts := h.syncOpts()
		opts.OnlyGroups = []string{"group0", "GROUP1"}
		out := h.mustRun(opts)
		// One hook call per user: the users created during the read were
		// kept, not rolled back and created again by the plan.
		if out.Run.Counts.Created != 800 || calls.Load() != 800 {
			t.Fatalf("created %d users with %d hook calls, want 800 with one each", out.Run.Counts.Created, calls.Load())
		}
		if got := h.members("group0"); len(got) != 400 {
			t.Errorf("group0 (chosen, created by the run) has %d members, want 400", len(got))
		}
		got := h.members("Group1")
		if len(got) != 400 || slices.Contains(got, "olduser") {
			t.Errorf("Group1 (tracked) has %d members (olduser kept: %v), want the 400 of the directory", len(got), slices.Contains(got, "olduser"))
		}
		if got := h.members("group2"); len(got) != 0 {
			t.Errorf("untracked group2 gained %d members", len(got))
		}
		for _, want := range []string{"create group group0 with 400 members", "group Group1: 400 members added, 1 removed"} {
			if !strings.Contains(out.Run.Report, want) {
				t.Errorf("report lacks %q:\n%.2000s", want, out.Run.Report)
			}
		}
		again := h.mustRun(opts)
		if c := again.Run.Counts; c.Unchanged != 800 || c.Created+c.Updated != 0 || strings.Contains(again.Run.Report, "members added") {
			t.Errorf("second run: %+v\n%.500s", c, again.Run.Report)
		}
	})
}
