package usersync

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
)

// fakeSource is a source with fixed records that remembers what it was asked.
type fakeSource struct {
	res  *directory.Result
	opts directory.ReadOptions
}

func (f *fakeSource) Name() string { return "ldap" }

func (f *fakeSource) Read(_ context.Context, opts directory.ReadOptions, _ func(int)) (*directory.Result, error) {
	f.opts = opts
	return f.res, nil
}

func ldapFields() map[string]bool {
	return map[string]bool{FieldFullName: true, FieldEmail: true, FieldPrimaryCard: true, FieldSecondaryCard: true}
}

func TestBuildPlanRules(t *testing.T) {
	existing := []*model.User{
		{ID: 1, Username: "ann", FullName: "Ann", PrimaryCard: "111", SourceID: "ldap"},
		{ID: 2, Username: "ben", FullName: "Ben", PrimaryCard: "222", SourceID: "ldap"},
		{ID: 3, Username: "cat", FullName: "Cat", Internal: true, PasswordHash: "x"},
		{ID: 4, Username: "dan", Notes: "keep", Department: "Ops", SourceID: "file"},
		{ID: 5, Username: "eve", FullName: "Eve", SourceID: "ldap", PrintDisabled: true, DirectoryDisabled: true},
		{ID: 6, Username: "fay", FullName: "Fay", SourceID: "ldap", PrintDisabled: true},
	}
	for _, tc := range []struct {
		name  string
		recs  []directory.UserRecord
		opts  Options
		check func(t *testing.T, p *Plan)
	}{
		{"a blank card in the source keeps Ream's card",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann"}}, Options{UpdateDetails: true},
			func(t *testing.T, p *Plan) {
				if len(p.Update) != 0 || p.Unchanged != 1 {
					t.Errorf("updates %+v", p.Update)
				}
			}},
		{"a card of another user is left out with a warning",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann", PrimaryCard: "222"}, {Username: "new", PrimaryCard: "111"}},
			Options{UpdateDetails: true, ImportNew: true},
			func(t *testing.T, p *Plan) {
				if len(p.Update) != 0 || len(p.Warnings) != 2 || p.Create[0].User.PrimaryCard != "" {
					t.Errorf("updates %+v warnings %v create %+v", p.Update, p.Warnings, p.Create[0].User)
				}
			}},
		{"a card freed by another change in the same run can be taken",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann", PrimaryCard: "999"}, {Username: "ben", FullName: "Ben", PrimaryCard: "111"}},
			Options{UpdateDetails: true},
			func(t *testing.T, p *Plan) {
				if len(p.Update) != 2 || len(p.Warnings) != 0 || p.Update[1].User.PrimaryCard != "111" {
					t.Errorf("updates %+v warnings %v", p.Update, p.Warnings)
				}
			}},
		{"details are not changed when updating is off",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann Changed"}}, Options{},
			func(t *testing.T, p *Plan) {
				if len(p.Update) != 0 || p.Unchanged != 1 {
					t.Errorf("updates %+v", p.Update)
				}
			}},
		{"new users are reported and not created when importing is off",
			[]directory.UserRecord{{Username: "zed"}}, Options{},
			func(t *testing.T, p *Plan) {
				if len(p.Create) != 0 || len(p.NotImported) != 1 {
					t.Errorf("create %+v not imported %v", p.Create, p.NotImported)
				}
			}},
		{"an internal user is merged even when updating is off",
			[]directory.UserRecord{{Username: "cat", FullName: "Cat Dir"}}, Options{},
			func(t *testing.T, p *Plan) {
				u := p.Update[0].User
				if !p.Update[0].Merged || u.Internal || u.PasswordHash != "" || u.SourceID != "ldap" || u.FullName != "Cat Dir" {
					t.Errorf("merge %+v", p.Update[0])
				}
			}},
		{"fields the source does not map are left alone",
			[]directory.UserRecord{{Username: "dan", FullName: "Dan"}}, Options{UpdateDetails: true},
			func(t *testing.T, p *Plan) {
				u := p.Update[0].User
				if u.Notes != "keep" || u.Department != "Ops" || u.SourceID != "ldap" {
					t.Errorf("dan %+v", u)
				}
			}},
		{"only users of this source are deleted",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann"}}, Options{DeleteMissing: true, DeleteLimitPercent: 100, DeleteLimitMax: 10},
			func(t *testing.T, p *Plan) {
				if len(p.Delete) != 3 || p.Delete[0].Username != "ben" || p.Refusal != "" {
					t.Errorf("delete %+v refusal %q", p.Delete, p.Refusal)
				}
			}},
		{"a disabled directory account is imported, and updated, with printing disabled",
			[]directory.UserRecord{{Username: "new", Disabled: true, DisabledWhy: "userAccountControl marks it disabled"},
				{Username: "ann", FullName: "Ann", Disabled: true, DisabledWhy: "accountExpires: expired on 2012-12-21"}},
			Options{UpdateDetails: true, ImportNew: true},
			func(t *testing.T, p *Plan) {
				if u := p.Create[0].User; !u.PrintDisabled || !u.DirectoryDisabled {
					t.Errorf("created %+v", u)
				}
				if len(p.Update) != 1 || !p.Update[0].User.PrintDisabled ||
					p.Update[0].Changes[0] != (Change{Field: FieldPrintDisabled, Old: "no", New: "yes (accountExpires: expired on 2012-12-21)"}) {
					t.Errorf("updates %+v", p.Update)
				}
			}},
		{"re-enabled in the directory, printing is enabled; an administrator's own Printing disabled stays",
			[]directory.UserRecord{{Username: "eve", FullName: "Eve"}, {Username: "fay", FullName: "Fay"}},
			Options{UpdateDetails: true},
			func(t *testing.T, p *Plan) {
				if len(p.Update) != 1 || p.Update[0].User.Username != "eve" || p.Update[0].User.PrintDisabled || p.Update[0].User.DirectoryDisabled || p.Unchanged != 1 {
					t.Errorf("updates %+v unchanged %d", p.Update, p.Unchanged)
				}
			}},
		{"skipped entries refuse deletion",
			[]directory.UserRecord{{Username: "ann", FullName: "Ann"}}, Options{DeleteMissing: true, DeleteLimitPercent: 100, DeleteLimitMax: 10},
			func(t *testing.T, p *Plan) {
				if !strings.Contains(p.Refusal, "could not be used") {
					t.Errorf("refusal %q", p.Refusal)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &directory.Result{Users: tc.recs}
			if strings.HasPrefix(tc.name, "skipped") {
				res.Skipped = []directory.LineError{{DN: "uid=x", Reason: "bad"}}
			}
			snap := &Snapshot{Users: cloneUsers(existing)}
			tc.check(t, BuildPlan(&Source{Source: &fakeSource{}, Fields: ldapFields()}, res, snap, tc.opts))
		})
	}
}

func cloneUsers(in []*model.User) []*model.User {
	out := make([]*model.User, len(in))
	for i, u := range in {
		c := *u
		out[i] = &c
	}
	return out
}

func TestSkipDisabledReachesTheSource(t *testing.T) {
	h := newHarness(t, false)
	src := &fakeSource{res: &directory.Result{Users: []directory.UserRecord{{Username: "ann"}}}}
	h.svc.BuildSource = func(context.Context) (*Source, error) { return &Source{Source: src, Fields: ldapFields()}, nil }
	opts := h.syncOpts()
	for _, skip := range []bool{true, false} {
		opts.SkipDisabled = skip
		h.mustRun(opts)
		if src.opts.IncludeDisabled == skip {
			t.Errorf("SkipDisabled %v gave IncludeDisabled %v", skip, src.opts.IncludeDisabled)
		}
	}
}

func TestFileSource(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		users := h.writeFile("users.txt", "# username, full name, email, department, office, card\nAnn\tAnn A\tann@x.org\tOps\tL1\t5001\nbob\tBob B\n")
		groups := h.writeFile("groups.txt", "Readers\tann\nReaders\tbob\n")
		h.set(settings.UserSyncSource, SourceFile, settings.UserSyncFileUsers, users, settings.UserSyncFileGroups, groups,
			settings.UserSyncOnlyGroups, "Readers")
		out := h.mustRun(h.syncOpts())
		if out.Run.Counts.Created != 2 || out.Run.Source != "file" {
			t.Fatalf("run = %+v", out.Run)
		}
		ann := h.user("ann")
		if ann.Email != "ann@x.org" || ann.PrimaryCard != "5001" || ann.SourceID != "file" {
			t.Errorf("ann = %+v", ann)
		}
		if m := h.members("Readers"); strings.Join(m, ",") != "ann,bob" {
			t.Errorf("Readers = %v", m)
		}
		if ok, err := h.svc.LoginUser(context.Background(), "ann", "anything"); ok || err != nil {
			t.Errorf("a text-file user logged in: %v, %v", ok, err)
		}
		h.set(settings.UserSyncFileUsers, "/etc/passwd")
		if _, err := h.run(h.syncOpts(), true); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("a users file outside the roots: %v", err)
		}
	})
}

func TestNextRun(t *testing.T) {
	loc := time.FixedZone("server", 3600)
	for _, tc := range []struct {
		now, clock, want string
	}{
		{"2025-03-01 00:10", "00:55", "2025-03-01 00:55"},
		{"2025-03-01 00:55", "00:55", "2025-03-02 00:55"},
		{"2025-03-01 23:59", "00:55", "2025-03-02 00:55"},
		{"2025-12-31 22:00", "21:30", "2026-01-01 21:30"},
	} {
		now, _ := time.ParseInLocation("2006-01-02 15:04", tc.now, loc)
		if got := nextAt(now, tc.clock).Format("2006-01-02 15:04"); got != tc.want {
			t.Errorf("nextAt(%s, %s) = %s, want %s", tc.now, tc.clock, got, tc.want)
		}
	}
	h := newHarness(t, false)
	ctx := context.Background()
	if !h.svc.NextRun(ctx, time.Now()).IsZero() {
		t.Error("a schedule without a source has a next run")
	}
	h.set(settings.UserSyncSource, SourceFile, settings.UserSyncTime, "02:30")
	if next := h.svc.NextRun(ctx, time.Now()); next.Hour() != 2 || next.Minute() != 30 {
		t.Errorf("next run %v, want 02:30", next)
	}
	h.set(settings.UserSyncSchedule, "off")
	if !h.svc.NextRun(ctx, time.Now()).IsZero() {
		t.Error("a schedule that is off has a next run")
	}
}

func TestScheduledSyncRunsOnOneServer(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	users := h.writeFile("users.txt", "ann\n")
	h.set(settings.UserSyncSource, SourceFile, settings.UserSyncFileUsers, users)
	other := New(h.core, nil)
	other.Instance = "other-server"
	h.svc.Instance = "this-server"
	for _, svc := range []*Service{h.svc, other, h.svc} {
		if err := svc.RunScheduled(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, total, err := h.store.ListSyncRuns(ctx, RunKind, 0, 10)
	if err != nil || total != 1 {
		t.Fatalf("%d scheduled runs, want exactly 1 (%v)", total, err)
	}
	h.user("ann")
}

func FuzzApplyAttributeOverrides(f *testing.F) {
	f.Add("username=sAMAccountName\nprimary-card = pager\n# comment\n\nfull-name=")
	f.Add("nonsense")
	f.Fuzz(func(t *testing.T, text string) {
		m := directory.Preset(directory.PresetOpenLDAP).Attr
		err := ApplyAttributeOverrides(&m, text)
		if err != nil && !strings.Contains(err.Error(), "attribute mapping line") {
			t.Fatalf("error without a line: %v", err)
		}
	})
}

// TestSyncSkipsReservedAndMixedScriptNames: a directory entry named like
// the built-in admin, or mixing scripts, is skipped and reported; a user
// called "admin" from before names were reserved is kept as it is.
// Directory names that merely look alike (user1, userl) both come in: the
// directory is the authority on its names.
func TestSyncSkipsReservedAndMixedScriptNames(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		users := h.writeFile("users.txt", "Admin\tNot The Admin\n\u0430dmin\tLook Alike\np\u0430ypal\tMixed\njosé\tJosé\nuser1\tOne\nuserl\tEl\n")
		h.set(settings.UserSyncSource, SourceFile, settings.UserSyncFileUsers, users)
		out := h.mustRun(h.syncOpts())
		if out.Run.Counts.Created != 3 || out.Run.Counts.Skipped != 3 {
			t.Fatalf("run = %+v\n%s", out.Run.Counts, out.Run.Report)
		}
		for _, want := range []string{`line 1, username: "admin": The username "admin" is reserved`, "line 2, username", `line 3, username: "pаypal": The username mixes the Latin and Cyrillic scripts`} {
			if !strings.Contains(out.Run.Report, want) {
				t.Errorf("report lacks %q:\n%s", want, out.Run.Report)
			}
		}
		h.noUser("admin")
		h.user("josé")
		h.user("userl")
	})
}

func TestBatchImportRefusesReservedAndLookAlikeNames(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		if err := h.core.CreateUser(ctx, admin, &model.User{Username: "user1"}); err != nil {
			t.Fatal(err)
		}
		rep, err := h.svc.BatchImport(ctx, admin, strings.NewReader("admin\nuserl\nzoë\n"), BatchOptions{CreateNew: true})
		if err != nil {
			t.Fatal(err)
		}
		text := rep.Text()
		for _, want := range []string{"line 1, username", "reserved for the built-in administrator", `line 2, username: The username "userl" looks too much like the existing user "user1"`} {
			if !strings.Contains(text, want) {
				t.Errorf("report lacks %q:\n%s", want, text)
			}
		}
		if rep.Created != 1 {
			t.Errorf("created %d, want only zoë:\n%s", rep.Created, text)
		}
		h.noUser("admin")
		h.noUser("userl")
	})
}
