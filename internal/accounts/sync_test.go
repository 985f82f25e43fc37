package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/accounts"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

func TestSyncImportsUpdatesAndLeavesUnchanged(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		opts := f.file(t, "accounts.txt", lines(
			"# clients",
			"Acme\t\tY\t1001\t25.50\tN\talice|bob\tStaff\tALWAYS_INVOICE\tCOMMENT_REQUIRED\tBig client",
			"Acme\tProject X\tN",
			"Globex\tMatter 1\t\t2002",
			"Initech\t\t\t\t\t\t\t[All Users]",
		))
		r := f.run(t, opts)
		if r.Status != accounts.StatusOK {
			t.Fatalf("status %s: %s", r.Status, r.Message)
		}
		c := r.Counts()
		// Globex is implied by its sub-account's line.
		if c.Created != 5 || c.Updated != 0 || c.Read != 4 || c.Skipped != 0 {
			t.Fatalf("counts %+v\n%s", c, r.Text())
		}
		got := f.accounts(t)
		acme := got["Acme"]
		if acme == nil || !acme.Enabled || acme.PINHash != f.pin(t, "1001") || acme.Balance.String() != "25.50" || acme.InvoiceOption != model.InvoiceAlways ||
			acme.CommentOption != model.CommentRequired || acme.Notes != "Big client" || acme.SourceID != accounts.SourceSync ||
			strings.Join(acme.AccessUsers, ",") != "alice,bob" || strings.Join(acme.AccessGroups, ",") != "Staff" {
			t.Fatalf("Acme = %+v", acme)
		}
		if px := got[`Acme\Project X`]; px == nil || px.Enabled || px.ParentID != acme.ID || px.InvoiceOption != model.InvoiceUserOff {
			t.Fatalf(`Acme\Project X = %+v`, px)
		}
		if g := got["Globex"]; g == nil || g.SourceID != accounts.SourceSync || got[`Globex\Matter 1`].PINHash != f.pin(t, "2002") {
			t.Fatalf("Globex implied parent missing: %v", got)
		}
		if ini := got["Initech"]; len(ini.AccessGroups) != 1 || !model.IsAllUsersGroup(ini.AccessGroups[0]) {
			t.Fatalf("Initech groups %q", ini.AccessGroups)
		}
		txs, err := st.Transactions(ctx, 0, acme.ID, 10)
		if err != nil || len(txs) != 1 || txs[0].Amount.String() != "25.50" {
			t.Fatalf("Acme transactions %+v, %v", txs, err)
		}
		// Unknown users and groups are warnings, each named once.
		if len(r.Plan.Warnings) != 3 {
			t.Fatalf("warnings %v", r.Plan.Warnings)
		}
		run := f.lastRun(t)
		if run.Status != accounts.StatusOK || run.Counts.Created != 5 || !strings.Contains(run.Report, `line 3: Acme\Project X`) {
			t.Fatalf("run %+v\n%s", run, run.Report)
		}

		// The same file again changes nothing.
		before := f.snapshot(t)
		r = f.run(t, opts)
		if c := r.Counts(); c.Created != 0 || c.Updated != 0 || c.Unchanged != 4 {
			t.Fatalf("second run counts %+v", c)
		}
		if f.snapshot(t) != before {
			t.Fatal("an unchanged run changed rows")
		}

		// Blank fields leave values; given ones change; a balance sets with a transaction.
		f.file(t, "accounts.txt", lines(
			"Acme\t\t\t\t30\t\t-\t\t\t\tSmaller client",
			"Acme\tProject X",
		))
		r = f.run(t, opts)
		if c := r.Counts(); c.Updated != 1 || c.Unchanged != 1 || c.Deleted != 0 {
			t.Fatalf("third run counts %+v\n%s", c, r.Text())
		}
		if got := r.Plan.Updates[0].Changed.String(); got != "balance, users allowed, notes" {
			t.Fatalf("changed fields %q", got)
		}
		acme = f.accounts(t)["Acme"]
		if acme.Balance.String() != "30.00" || len(acme.AccessUsers) != 0 || acme.PINHash != f.pin(t, "1001") || acme.Notes != "Smaller client" {
			t.Fatalf("Acme after update %+v", acme)
		}
		txs, _ = st.Transactions(ctx, 0, acme.ID, 10)
		if len(txs) != 2 || txs[0].Amount.String() != "4.50" {
			t.Fatalf("balance set transaction %+v", txs)
		}
		if _, ok := f.accounts(t)["Globex"]; !ok {
			t.Fatal("a run without delete removed an account")
		}
		audit, _, err := st.AuditLog(ctx, "accounts.run", 0, 10)
		if err != nil || len(audit) != 3 {
			t.Fatalf("one audit entry per run: %d, %v", len(audit), err)
		}
	})
}

func TestTestWritesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		opts := f.file(t, "a.txt", lines("One", "Two\tSub"))
		r, err := f.svc.Test(context.Background(), admin, opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != accounts.StatusOK || r.RunID != 0 || len(r.Plan.Creates) != 3 || !strings.Contains(r.Text(), "nothing was changed") {
			t.Fatalf("test report %+v\n%s", r, r.Text())
		}
		if n, _ := st.CountAccounts(context.Background()); n != 0 {
			t.Fatalf("test created %d accounts", n)
		}
		if f.lastRun(t) != nil {
			t.Fatal("test recorded a run")
		}
	})
}

func TestOnlyAdminsWithAllAccounts(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	opts := f.file(t, "a.txt", lines("One"))
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"test": func() error { _, err := f.svc.Test(ctx, clerk, opts); return err },
		"run":  func() error { _, err := f.svc.Run(ctx, clerk, opts); return err },
		"import": func() error {
			_, err := f.svc.BatchImport(ctx, clerk, "a.txt", strings.NewReader("One\n"), accounts.Options{})
			return err
		},
		"settings": func() error {
			return f.svc.SaveSettings(ctx, clerk, accounts.Settings{Source: "file", Schedule: "off"})
		},
	} {
		e, ok := core.AsError(call())
		if !ok || e.Code != core.Forbidden || !strings.Contains(e.Msg, "all shared accounts") {
			t.Errorf("%s by a clerk: %v", name, e)
		}
	}
}

func TestDeletionRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.makeAccount(t, "Hand made", nil)
		var all []string
		for i := range 20 {
			all = append(all, "Client "+string(rune('A'+i)))
		}
		opts := f.file(t, "a.txt", lines(all...))
		f.run(t, opts)

		// Without the option nothing is deleted, whatever is missing.
		f.file(t, "a.txt", lines(all[2:]...))
		if r := f.run(t, opts); len(r.Plan.Deletes) != 0 || len(f.accounts(t)) != 21 {
			t.Fatalf("deleted without being asked: %v", r.Plan.Deletes)
		}

		// Two missing of 20 managed is within 20 %; hand-made stays.
		del := opts
		del.DeleteMissing = true
		r := f.run(t, del)
		if r.Status != accounts.StatusOK || len(r.Plan.Deletes) != 2 {
			t.Fatalf("delete run: %s %s %v", r.Status, r.Message, r.Plan.Deletes)
		}
		got := f.accounts(t)
		if _, ok := got["Hand made"]; !ok || len(got) != 19 {
			t.Fatalf("after delete: %d accounts, hand-made kept %v", len(got), ok)
		}

		// A skipped line refuses the whole deleting run.
		f.file(t, "a.txt", lines(append(all[3:], "Bad\t\tmaybe")...))
		before := f.snapshot(t)
		r = f.run(t, del)
		if r.Status != accounts.StatusRefused || !strings.Contains(r.Message, "could not be used") || f.snapshot(t) != before {
			t.Fatalf("skipped line: %s %q", r.Status, r.Message)
		}
		if run := f.lastRun(t); run.Status != accounts.StatusRefused || !strings.Contains(run.Report, "line 18") {
			t.Fatalf("refused run record %+v\n%s", run, run.Report)
		}

		// Over the limit (18 managed → limit 3): stops until that exact number is confirmed.
		f.file(t, "a.txt", lines(all[8:]...))
		r = f.run(t, del)
		if r.Status != accounts.StatusRefused || !r.Plan.NeedsConfirmation || len(r.Plan.Deletes) != 6 || f.snapshot(t) != before {
			t.Fatalf("over limit: %s %q deletes %d", r.Status, r.Message, len(r.Plan.Deletes))
		}
		if !strings.Contains(r.Message, "exactly 6") {
			t.Fatalf("message does not name the number: %q", r.Message)
		}
		del.ConfirmDelete = 5
		if r = f.run(t, del); r.Status != accounts.StatusRefused {
			t.Fatalf("a wrong confirmation went ahead: %s", r.Status)
		}
		del.ConfirmDelete = 6
		if r = f.run(t, del); r.Status != accounts.StatusOK || len(f.accounts(t)) != 13 {
			t.Fatalf("confirmed delete: %s %q, %d left", r.Status, r.Message, len(f.accounts(t)))
		}

		// Deleted accounts come back under their id when the source names them.
		deleted, _, err := st.ListAccounts(ctx, store.AccountFilter{Deleted: true, Search: "Client A"})
		if err != nil || len(deleted) != 1 {
			t.Fatalf("deleted list %v %v", deleted, err)
		}
		f.file(t, "a.txt", lines(all...))
		r = f.run(t, opts)
		if c := r.Counts(); c.Created != 8 || !r.Plan.Creates[0].Restored {
			t.Fatalf("restore counts %+v %+v", c, r.Plan.Creates)
		}
		if a := f.accounts(t)["Client A"]; a == nil || a.ID != deleted[0].ID {
			t.Fatalf("Client A restored as %+v, want id %d", a, deleted[0].ID)
		}
	})
}

func TestDeleteKeepsParentWithHandMadeSubAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		opts := f.file(t, "a.txt", lines("Keep", "Parent", "Parent\tSynced", "Keep 2", "Keep 3", "Keep 4", "Keep 5", "Keep 6", "Keep 7", "Keep 8"))
		f.run(t, opts)
		f.makeAccount(t, `Parent\By hand`, nil)
		f.file(t, "a.txt", lines("Keep", "Keep 2", "Keep 3", "Keep 4", "Keep 5", "Keep 6", "Keep 7", "Keep 8"))
		opts.DeleteMissing = true
		r := f.run(t, opts)
		got := f.accounts(t)
		if r.Status != accounts.StatusOK || got["Parent"] == nil || got[`Parent\By hand`] == nil || got[`Parent\Synced`] != nil {
			t.Fatalf("%s %q; accounts %v", r.Status, r.Message, got)
		}
	})
}

func TestPINRules(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.makeAccount(t, "Manual", &model.Account{PINHash: "900", Enabled: true})
		opts := f.file(t, "a.txt", lines("A\t\t\t100", "B\t\t\t200"))
		f.run(t, opts)
		// Swapping PINs between two accounts in one run works; taking a
		// PIN another account keeps is a skipped line.
		f.file(t, "a.txt", lines("A\t\t\t200", "B\t\t\t100", "C\t\t\t900"))
		r := f.run(t, opts)
		if r.Status != accounts.StatusOK || len(r.Plan.Skipped) != 1 || r.Plan.Skipped[0].Line != 3 || !strings.Contains(r.Plan.Skipped[0].Reason, `"Manual"`) {
			t.Fatalf("%s %q skipped %v", r.Status, r.Message, r.Plan.Skipped)
		}
		got := f.accounts(t)
		if got["A"].PINHash != f.pin(t, "200") || got["B"].PINHash != f.pin(t, "100") || got["C"] != nil {
			t.Fatalf("A %q B %q C %v", got["A"].PINHash, got["B"].PINHash, got["C"])
		}
	})
}

func TestRestoredAccountLosesPINTakenMeanwhile(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		opts := f.file(t, "a.txt", lines("Old\t\t\t555"))
		f.run(t, opts)
		old := f.accounts(t)["Old"]
		if err := st.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAccount(ctx, old.ID) }); err != nil {
			t.Fatal(err)
		}
		f.makeAccount(t, "New", &model.Account{PINHash: "555", Enabled: true})
		f.file(t, "a.txt", lines("Old"))
		r := f.run(t, opts)
		got := f.accounts(t)
		if r.Status != accounts.StatusOK || got["Old"].ID != old.ID || got["Old"].PINHash != "" || got["New"].PINHash != f.pin(t, "555") || len(r.Plan.Warnings) != 1 {
			t.Fatalf("%s %q, warnings %v, accounts %+v", r.Status, r.Message, r.Plan.Warnings, got)
		}
	})
}

func TestHandMadeAccountNamedBySourceIsUpdatedNotAdopted(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	f.makeAccount(t, "Manual", nil)
	f.run(t, f.file(t, "a.txt", lines("Manual\t\tN")))
	if a := f.accounts(t)["Manual"]; a.Enabled || a.SourceID != "" {
		t.Fatalf("Manual = %+v", a)
	}
}

func TestSourceFailuresChangeNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		opts := f.file(t, "a.txt", lines("Kept\t\t\t\t5"))
		f.run(t, opts)
		before := f.snapshot(t)
		for _, c := range []struct {
			name, content, location, want string
		}{
			{"missing", "", f.root + "/nope.txt", "cannot be read"},
			{"empty", "", "", "empty source"},
			{"only comments", "# nothing\n\n", "", "empty source"},
			{"all lines bad", "X\t\tmaybe\n", "", "none of the 1 lines"},
			{"truncated", "Kept\nOther\t\tY\t\t12.3.", "", "truncated"},
			{"outside roots", "", "/etc/passwd", "outside the allowed sync roots"},
			{"relative", "", "a.txt", "not an absolute path"},
			{"a directory", "", f.root, "is a directory"},
		} {
			t.Run(c.name, func(t *testing.T) {
				o := opts
				if c.location != "" {
					o.Location = c.location
				} else {
					o = f.file(t, "a.txt", c.content)
				}
				o.DeleteMissing = true
				r := f.run(t, o)
				if r.Status != accounts.StatusFailed || !strings.Contains(r.Message, c.want) {
					t.Fatalf("status %s message %q, want failed with %q", r.Status, r.Message, c.want)
				}
				if f.snapshot(t) != before {
					t.Fatal("a failed source changed accounts")
				}
				run := f.lastRun(t)
				if run.Status != accounts.StatusFailed || !strings.Contains(run.Report, c.want) || run.FinishedAt == nil {
					t.Fatalf("run record %+v", run)
				}
			})
		}
	})
}

func TestLastLineWithoutNewlineIsFine(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	r := f.run(t, f.file(t, "a.txt", "One\nTwo\t\tY"))
	if r.Status != accounts.StatusOK || len(r.Plan.Creates) != 2 {
		t.Fatalf("%s %q", r.Status, r.Message)
	}
}

func TestDirectoryScan(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		dir := f.root + "/Customers"
		for _, d := range []string{"Client 1/Project 1", "Client 1/Project 2", "Client 2", ".hidden", "Client 2/Deep/Deeper"} {
			mkdirAll(t, dir+"/"+d)
		}
		opts := accounts.Options{Source: accounts.SourceDirectory, Location: dir, SubAccounts: true}
		r := f.run(t, opts)
		got := f.accounts(t)
		if r.Status != accounts.StatusOK || len(got) != 5 || got[`Client 1\Project 2`] == nil || got[`Client 2\Deep`] == nil {
			t.Fatalf("%s %q: %v", r.Status, r.Message, got)
		}
		opts.SubAccounts = false
		if r = f.run(t, opts); len(r.Plan.Unchanged) != 2 || len(r.Plan.Creates) != 0 {
			t.Fatalf("second scan %+v", r.Counts())
		}
	})
}

func TestBatchImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		f.makeAccount(t, "Manual", nil)
		f.run(t, f.file(t, "s.txt", lines("Synced")))
		test, err := f.svc.TestBatchImport(ctx, admin, "upload.txt", strings.NewReader("Imported\t\t\t\t7\n"), accounts.Options{DeleteMissing: true})
		if err != nil || test.Status != accounts.StatusRefused || !test.Plan.NeedsConfirmation || len(test.Plan.Deletes) != 2 || test.RunID != 0 {
			t.Fatalf("test import %+v %v", test, err)
		}
		if len(f.accounts(t)) != 2 {
			t.Fatal("a test import wrote")
		}
		// 2 deletions of 2 live accounts is over 20 %: confirmed exactly.
		r, err := f.svc.BatchImport(ctx, admin, "upload.txt", strings.NewReader("Imported\t\t\t\t7\n"), accounts.Options{DeleteMissing: true, ConfirmDelete: 2})
		if err != nil || r.Status != accounts.StatusOK {
			t.Fatalf("import %+v %v", r, err)
		}
		got := f.accounts(t)
		if len(got) != 1 || got["Imported"].SourceID != "" || got["Imported"].Balance != money.Amount(7_000_000) {
			t.Fatalf("after import %v", got)
		}
		if run := f.lastRun(t); run.Kind != accounts.KindImport || run.Counts.Deleted != 2 {
			t.Fatalf("import run %+v", run)
		}
	})
}

func TestBatchImportPathConfinedForAPI(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	_, err := f.svc.BatchImportPath(context.Background(), admin, "/etc/hostname", true, true, accounts.Options{})
	if e, ok := core.AsError(err); !ok || e.Code != core.Invalid || !strings.Contains(e.Msg, "outside") {
		t.Fatalf("API path outside roots: %v", err)
	}
	o := f.file(t, "in.txt", "One\n")
	r, err := f.svc.BatchImportPath(context.Background(), admin, o.Location, false, true, accounts.Options{})
	if err != nil || r.Status != accounts.StatusOK || len(f.accounts(t)) != 1 {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestOneRunAtATime(t *testing.T) {
	st := openSQLite(t, t.TempDir()+"/ream.db")
	f := newFixture(t, st)
	other := accounts.NewService(st, f.set, []string{f.root}, quiet)
	ctx := context.Background()
	ok, err := st.TryLock(ctx, "account-sync", "another server", -time.Minute)
	if err != nil || !ok {
		t.Fatal(err)
	}
	// A lease that has run out is taken over.
	if _, err := other.Run(ctx, admin, f.file(t, "a.txt", "One\n")); err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
	if ok, _ := st.TryLock(ctx, "account-sync", "another server", time.Hour); !ok {
		t.Fatal("lock not released after the run")
	}
	_, err = f.svc.Run(ctx, admin, f.file(t, "a.txt", "One\n"))
	if !errors.Is(err, accounts.ErrBusy) {
		t.Fatalf("run while another server holds the lock: %v", err)
	}
}
