package accounts_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/store"
)

// TestBadInput feeds every kind of damaged line of the issue: each is
// reported with its line number and reason, nothing panics, and a run asked
// to delete changes nothing at all.
func TestBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.run(t, f.file(t, "a.txt", lines("Existing\t\t\t77", "Other")))
		before := f.snapshot(t)
		huge := strings.Repeat("x", 10<<20)
		content := lines(
			"Good one",
			"Huge\t\t\t\t\t\t\t\t\t\t"+huge,
			"Bad \xff\xfe name",
			"Nul\x00name",
			"Good one",
			"Dup PIN\t\t\t77",
			"Twin A\t\t\t500",
			"Twin B\t\t\t500",
			`Back\slash`,
			"Control\x1bchar",
			"Bell\tSub\x07",
			"Money\t\t\t\t12,50",
			"Word\t\tmaybe",
			"Invoice\t\t\t\t\t\t\t\tSOMETIMES",
		)
		opts := f.file(t, "a.txt", content)
		opts.DeleteMissing = true
		r := f.run(t, opts)
		if r.Status != accounts.StatusRefused {
			t.Fatalf("status %s %q", r.Status, r.Message)
		}
		if f.snapshot(t) != before {
			t.Fatal("a refused run changed accounts")
		}
		want := map[int]string{
			2:  "longer than",
			3:  "UTF-8",
			4:  "control character",
			5:  "duplicate of line 1",
			6:  `already used by the account "Existing"`,
			8:  "already given to another account on line 7",
			9:  "separates an account from its sub-account",
			10: "control character",
			11: "control character",
			12: "decimal",
			13: "not Y or N",
			14: "not an invoice option",
		}
		got := map[int]string{}
		for _, s := range r.Plan.Skipped {
			got[s.Line] = s.Error()
		}
		for line, reason := range want {
			if !strings.Contains(got[line], reason) {
				t.Errorf("line %d: got %q, want a reason with %q", line, got[line], reason)
			}
		}
		if len(got) != len(want) {
			t.Errorf("skipped lines %v", got)
		}
		text := r.Text()
		if len(text) > 64<<10 || strings.Contains(text, huge[:1000]) {
			t.Fatalf("the report holds the huge line (%d bytes)", len(text))
		}

		// Without delete, the good lines apply and the bad ones are reported.
		opts.DeleteMissing = false
		r = f.run(t, opts)
		if r.Status != accounts.StatusOK || len(r.Plan.Creates) != 2 || len(r.Plan.Skipped) != len(want) {
			t.Fatalf("%s %q creates %v", r.Status, r.Message, r.Plan.Creates)
		}
	})
}

func TestHostileDirectoryNames(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	dir := filepath.Join(f.root, "tree")
	for _, name := range []string{"Fine", "bad\\name", "ctl\x1bname", "  spaced  ", "FINE", "..x", "-", strings.Repeat("é", 120)} {
		mkdirAll(t, filepath.Join(dir, name))
	}
	outside := t.TempDir()
	mkdirAll(t, filepath.Join(outside, "Secret"))
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	r := f.run(t, accounts.Options{Source: accounts.SourceDirectory, Location: dir, SubAccounts: true})
	names := []string{}
	for _, c := range r.Plan.Creates {
		names = append(names, c.Name)
	}
	if r.Status != accounts.StatusOK || len(r.Plan.Skipped) != 3 || strings.Contains(strings.Join(names, ","), "Secret") {
		t.Fatalf("%s %q created %q skipped %v warnings %v", r.Status, r.Message, names, r.Plan.Skipped, r.Plan.Warnings)
	}
	// A link as the location itself is resolved; outside the roots it is refused.
	if err := os.Symlink(outside, filepath.Join(f.root, "outlink")); err != nil {
		t.Fatal(err)
	}
	r = f.run(t, accounts.Options{Source: accounts.SourceDirectory, Location: filepath.Join(f.root, "outlink")})
	if r.Status != accounts.StatusFailed || !strings.Contains(r.Message, "outside") {
		t.Fatalf("link out of the root: %s %q", r.Status, r.Message)
	}
}

func TestScheduledRunsOncePerSlotAndNeverDeletes(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		opts := f.file(t, "a.txt", lines("One", "Two", "Three", "Four", "Five", "Six"))
		if got := f.svc.NextRun(time.Now()); !got.IsZero() {
			t.Fatalf("next run with the sync off: %v", got)
		}
		if err := f.svc.SaveSettings(ctx, admin, accounts.Settings{Source: accounts.SourceFile, Location: opts.Location, Schedule: accounts.ScheduleOvernight}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-f.svc.ScheduleChanged():
		default:
			t.Fatal("saving the settings did not restart the schedule")
		}
		f.run(t, opts)
		f.file(t, "a.txt", lines("One", "Two", "Three", "Four", "Five", "New"))

		at := time.Date(2026, 3, 10, 0, 57, 0, 0, time.Local)
		if next := f.svc.NextRun(at); !next.Equal(time.Date(2026, 3, 11, 0, 55, 0, 0, time.Local)) {
			t.Fatalf("next overnight run %v", next)
		}
		other := accounts.NewService(st, f.set, []string{f.root}, quiet)
		for _, s := range []*accounts.Service{f.svc, other} {
			s.SetClock(func() time.Time { return at })
		}
		r, err := f.svc.RunScheduled(ctx)
		if err != nil || r == nil || r.Status != accounts.StatusOK || len(r.Plan.Creates) != 1 || len(r.Plan.Deletes) != 0 {
			t.Fatalf("scheduled run %+v %v", r, err)
		}
		if r, err := other.RunScheduled(ctx); r != nil || err != nil {
			t.Fatalf("a second server ran the same slot: %+v %v", r, err)
		}
		if _, ok := f.accounts(t)["Six"]; !ok {
			t.Fatal("a scheduled run deleted")
		}
		// Long after the slot (a server that was down), nothing runs.
		late := at.Add(3 * time.Hour)
		other.SetClock(func() time.Time { return late })
		if r, _ := other.RunScheduled(ctx); r != nil {
			t.Fatal("ran a slot hours late")
		}
		if err := f.svc.SaveSettings(ctx, admin, accounts.Settings{Source: accounts.SourceFile, Location: opts.Location, Schedule: accounts.ScheduleHourly}); err != nil {
			t.Fatal(err)
		}
		if next := f.svc.NextRun(at); !next.Equal(time.Date(2026, 3, 10, 1, 55, 0, 0, time.Local)) {
			t.Fatalf("next hourly run %v", next)
		}
	})
}

// FuzzBuild plans any import file against a fixed set of accounts: no
// panic, and every line is either planned or skipped.
func FuzzBuild(f *testing.F) {
	f.Add([]byte("A\nA\tB\tY\t1\t2.5\tN\tu|v\t[All Users]\tNEVER_INVOICE\tNO_COMMENT\tn\n"))
	f.Add([]byte("Kept\t\t\t9\nX\tY\t\t1\n"))
	f.Add([]byte("\xef\xbb\xbf# c\r\nGone\tSub\r\n"))
	current := []store.SyncAccount{
		{ID: 1, Name: "Kept", PINHash: "1", Enabled: true, SourceID: accounts.SourceSync},
		{ID: 2, Name: "Gone", DeletedAt: 5, PINHash: "9"},
		{ID: 3, ParentID: 1, Name: "Sub", SourceID: accounts.SourceSync},
		{ID: 4, ParentID: 2, Name: "Sub", DeletedAt: 5},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, del := range []bool{false, true} {
			res, err := source.ParseImportFile(bytes.NewReader(data), source.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			cur := append([]store.SyncAccount(nil), current...)
			p := accounts.Build(res, cur, nil, accounts.PlanOptions{SourceID: accounts.SourceSync, DeleteMissing: del, LimitPercent: 20, LimitMax: 500})
			if len(p.Skipped) < len(res.Skipped) || p.Read < len(res.Skipped) {
				t.Fatalf("plan lost lines: %+v", p.Counts())
			}
			_ = (&accounts.Report{Plan: p, Status: accounts.StatusOK}).Text()
		}
	})
}
