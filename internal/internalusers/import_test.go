package internalusers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

var admin = core.Actor{Name: "admin", AllAccounts: true}

type harness struct {
	t     *testing.T
	ctx   context.Context
	store *store.Store
	core  *core.Core
	svc   *Service
	root  string // the one allowed sync root
}

// forEachStore runs a test on SQLite and, when configured, PostgreSQL.
func forEachStore(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newHarness(t, false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newHarness(t, true)) })
}

func newHarness(t *testing.T, postgres bool) *harness {
	t.Helper()
	s, c := reamtest.Core(t, postgres)
	root := filepath.Join(t.TempDir(), "imports")
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	c.Config.Sync.AllowedRoots = []string{root}
	return &harness{t: t, ctx: context.Background(), store: s, core: c, svc: New(c), root: root}
}

func (h *harness) importText(text string, opts Options) *Report {
	h.t.Helper()
	rep, err := h.svc.Import(h.ctx, admin, strings.NewReader(text), opts)
	if err != nil {
		h.t.Fatalf("import: %v", err)
	}
	return rep
}

func (h *harness) user(name string) *model.User {
	h.t.Helper()
	u, err := h.store.UserByName(h.ctx, name)
	if err != nil {
		h.t.Fatalf("user %q: %v", name, err)
	}
	return u
}

func (h *harness) verifies(hash, secret string) bool {
	h.t.Helper()
	ok, err := h.core.Hasher.Verify(h.ctx, hash, secret)
	if err != nil {
		h.t.Fatalf("verify: %v", err)
	}
	return ok
}

func (h *harness) directoryUser(name string) {
	h.t.Helper()
	if err := h.core.CreateUser(h.ctx, admin, &model.User{Username: name, FullName: "From LDAP", SourceID: "ldap"}); err != nil {
		h.t.Fatal(err)
	}
}

const (
	pwAlice  = "alice's long passphrase"
	pwBob    = "bob rides a blue bicycle"
	pwNew    = "a completely new passphrase"
	fileBody = "alice\t" + pwAlice + "\t12.50\tY\tAlice Smith\talice@example.org\tScience\tRoom 1\tC100\t1234\tfirst\n" +
		"bob\t" + pwBob + "\t\t\tBob Jones\n"
)

func TestImportCreatesInternalUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		rep := h.importText(fileBody, Options{})
		if rep.Created != 2 || len(rep.Skipped) != 0 {
			t.Fatalf("report:\n%s", rep.Text())
		}
		a := h.user("alice")
		if !a.Internal || a.FullName != "Alice Smith" || a.Email != "alice@example.org" || a.Department != "Science" ||
			a.Office != "Room 1" || a.PrimaryCard != "C100" || a.Notes != "first" || !a.Restricted || a.Balance.String() != "12.50" {
			t.Errorf("alice = %+v", a)
		}
		if !h.verifies(a.PasswordHash, pwAlice) || !h.verifies(a.PINHash, "1234") {
			t.Error("alice's password or PIN does not verify")
		}
		txs, err := h.store.Transactions(h.ctx, a.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(txs) != 1 || txs[0].Amount.String() != "12.50" {
			t.Errorf("transactions = %+v, want one of 12.50", txs)
		}
		if b := h.user("bob"); !b.Internal || b.HasPIN() || !h.verifies(b.PasswordHash, pwBob) {
			t.Errorf("bob = %+v", b)
		}
		if text := rep.Text(); strings.Contains(text, pwAlice) || strings.Contains(text, "1234") {
			t.Errorf("the report repeats a secret:\n%s", text)
		}
		runs, _, err := h.store.ListSyncRuns(h.ctx, RunKind, 0, 10)
		if err != nil || len(runs) != 1 || runs[0].Status != "ok" || runs[0].Counts.Created != 2 {
			t.Errorf("runs = %+v, err %v", runs, err)
		}
	})
}

func TestImportKeepsPasswordsAndPINsUnlessTold(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		h.importText(fileBody, Options{})
		again := "alice\t" + pwNew + "\t\t\tAlice B. Smith\t\t\t\t\t9999\n" + "bob\t" + pwNew + "\t\t\t\t\t\t\t\t5555\n"

		rep := h.importText(again, Options{})
		if rep.Updated != 2 || !strings.Contains(rep.Text(), "existing password and card PIN kept") {
			t.Fatalf("report:\n%s", rep.Text())
		}
		a, b := h.user("alice"), h.user("bob")
		if a.FullName != "Alice B. Smith" || !h.verifies(a.PasswordHash, pwAlice) || !h.verifies(a.PINHash, "1234") {
			t.Errorf("without the overwrite flags alice's password or PIN changed: %+v", a)
		}
		// Bob had no PIN: setting one overwrites nothing.
		if !h.verifies(b.PasswordHash, pwBob) || !h.verifies(b.PINHash, "5555") {
			t.Errorf("bob's password changed or PIN not set")
		}

		h.importText(again, Options{OverwritePasswords: true})
		a = h.user("alice")
		if !h.verifies(a.PasswordHash, pwNew) || !h.verifies(a.PINHash, "1234") {
			t.Error("OverwritePasswords did not set the password only")
		}
		h.importText(again, Options{OverwritePINs: true})
		if a = h.user("alice"); !h.verifies(a.PINHash, "9999") {
			t.Error("OverwritePINs did not set the PIN")
		}
	})
}

func TestImportOverwritingAPasswordEndsSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		h.importText(fileBody, Options{})
		alice, err := h.store.UserByName(h.ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		se := &store.Session{TokenHash: "tok", Kind: "user", UserID: alice.ID, Username: "alice", CSRFSecret: "x", ExpiresAt: time.Now().Add(time.Hour)}
		if err := h.store.CreateSession(h.ctx, se); err != nil {
			t.Fatal(err)
		}
		h.importText("alice\t"+pwNew+"\n", Options{})
		if _, err := h.store.SessionByTokenHash(h.ctx, "tok"); err != nil {
			t.Fatalf("a kept password ended the session: %v", err)
		}
		h.importText("alice\t"+pwNew+"\n", Options{OverwritePasswords: true})
		if _, err := h.store.SessionByTokenHash(h.ctx, "tok"); err == nil {
			t.Fatal("the session outlived the password it was opened with")
		}
	})
}

func TestImportSkipsWithReasons(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		h.directoryUser("dora")
		h.importText("owner\t"+pwBob+"\t\t\t\t\t\t\tTAKEN\n", Options{})
		file := "dora\t" + pwNew + "\t5.00\n" +
			"nopass\n" +
			"thief\t" + pwAlice + "\t\t\t\t\t\t\tTAKEN\n" +
			"bad/name\t" + pwAlice + "\n" +
			"weak\tshort\n" +
			"fine\t" + pwAlice + "\n"
		rep := h.importText(file, Options{OverwritePasswords: true})
		if rep.Created != 1 || len(rep.Skipped) != 5 {
			t.Fatalf("report:\n%s", rep.Text())
		}
		want := map[int]string{1: "directory user", 2: "required for a new internal user", 3: "already belongs to another user",
			4: "must not contain '/'", 5: "at least 8 characters"}
		for _, s := range rep.Skipped {
			if !strings.Contains(s.Error(), want[s.Line]) {
				t.Errorf("line %d: %q, want it to say %q", s.Line, s.Error(), want[s.Line])
			}
		}
		d := h.user("dora")
		if d.Internal || d.PasswordHash != "" || d.Balance != 0 || d.FullName != "From LDAP" {
			t.Errorf("the directory user was changed: %+v", d)
		}
		for _, name := range []string{"nopass", "thief", "weak"} {
			if _, err := h.store.UserByName(h.ctx, name); err == nil {
				t.Errorf("%s was created", name)
			}
		}
		if strings.Contains(rep.Text(), "short") {
			t.Errorf("the report repeats a password:\n%s", rep.Text())
		}
	})
}

func TestTestImportWritesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		h.importText("bob\t"+pwBob+"\n", Options{})
		before := h.user("bob")
		rep := h.importText(fileBody+"bob\t"+pwNew+"\t3.00\n", Options{Test: true, OverwritePasswords: true})
		if !rep.Test || rep.Created != 1 || rep.Updated != 1 || !strings.HasPrefix(rep.Text(), "Test only, nothing written") {
			t.Fatalf("report:\n%s", rep.Text())
		}
		if _, err := h.store.UserByName(h.ctx, "alice"); err == nil {
			t.Error("a test import created a user")
		}
		after := h.user("bob")
		if after.PasswordHash != before.PasswordHash || after.Balance != before.Balance || after.FullName != before.FullName {
			t.Errorf("a test import changed bob: %+v", after)
		}
		if n, _ := h.store.CountUsers(h.ctx); n != 1 {
			t.Errorf("%d users after a test import, want 1", n)
		}
	})
}

func TestEmailOnCreation(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		rep := h.importText(fileBody, Options{EmailOnCreation: true})
		if !rep.MailUnconfigured || !strings.Contains(rep.Text(), "no mail server is configured") {
			t.Fatalf("without a mail server the report should say so:\n%s", rep.Text())
		}
		if msgs, _, _ := h.store.ListOutbox(h.ctx, "", 0, 10); len(msgs) != 0 {
			t.Fatalf("mail queued without a mail server: %d", len(msgs))
		}

		err := h.store.InTx(h.ctx, func(tx *store.Tx) error {
			if err := h.core.Settings.Set(h.ctx, tx, settings.SMTPHost, "mail.example.org"); err != nil {
				return err
			}
			return h.core.Settings.Set(h.ctx, tx, settings.SMTPFrom, "ream@example.org")
		})
		if err != nil {
			t.Fatal(err)
		}
		rep = h.importText("carol\t"+pwNew+"\t\t\tCarol\tcarol@example.org\ndan\t"+pwNew+"\n", Options{EmailOnCreation: true})
		if rep.MailsQueued != 1 || len(rep.NoEmail) != 1 || rep.NoEmail[0] != "dan" {
			t.Fatalf("report:\n%s", rep.Text())
		}
		msgs, _, err := h.store.ListOutbox(h.ctx, "", 0, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox = %v, %v", msgs, err)
		}
		m := msgs[0]
		if m.Recipient != "carol@example.org" || m.Kind != MailKindWelcome || !strings.Contains(m.Body, "carol") || strings.Contains(m.Body, pwNew) {
			t.Errorf("welcome mail = %+v", m)
		}
	})
}

func TestImportFileIsConfinedOverTheAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, h *harness) {
		inside := filepath.Join(h.root, "users.tsv")
		if err := os.WriteFile(inside, []byte(fileBody), 0o600); err != nil {
			t.Fatal(err)
		}
		outside := filepath.Join(t.TempDir(), "users.tsv")
		if err := os.WriteFile(outside, []byte(fileBody), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.ImportFile(h.ctx, admin, outside, Options{}, true); err == nil {
			t.Fatal("a file outside sync.allowed-roots was read over the API")
		}
		if n, _ := h.store.CountUsers(h.ctx); n != 0 {
			t.Fatalf("%d users after a refused import", n)
		}
		tr := tasks.New(h.ctx, h.store, h.core.Log)
		text, err := h.svc.ImportFileTask(h.ctx, tr, admin, inside, Options{}, true)
		if err != nil || !strings.Contains(text, "2 internal users created") {
			t.Fatalf("import: %q, %v", text, err)
		}
		tr.Wait()
		st, err := tr.Poll(h.ctx)
		if err != nil || !st.Completed || !strings.Contains(st.Message, "2 internal users created") {
			t.Errorf("task status = %+v, %v", st, err)
		}
		// The CLI reads any path the operator names.
		if _, err := h.svc.ImportFile(h.ctx, admin, outside, Options{}, false); err != nil {
			t.Errorf("the CLI could not read %s: %v", outside, err)
		}
	})
}
