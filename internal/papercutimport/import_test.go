package papercutimport_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

const token = "source-token-Kestrel-42"

// source is a second Ream server answering PaperCut's API over real HTTP
// on a loopback port: the import's source in these tests.
type source struct {
	store *store.Store
	core  *core.Core
	url   string
	srv   *httptest.Server
}

func startSource(t *testing.T, postgres bool, allowed ...string) *source {
	return startSourceB(t, postgres, allowed...)
}

func startSourceB(t testing.TB, postgres bool, allowed ...string) *source {
	t.Helper()
	s, c := reamtest.Core(t, postgres)
	cfg := c.Config
	cfg.Auth.WebServices.AuthToken = token
	if len(allowed) == 0 {
		allowed = []string{"127.0.0.0/8", "::1/128"}
	}
	cfg.Auth.WebServices.AllowedAddresses = nil
	for _, a := range allowed {
		cfg.Auth.WebServices.AllowedAddresses = append(cfg.Auth.WebServices.AllowedAddresses, netip.MustParsePrefix(a))
	}
	log := slog.New(slog.DiscardHandler)
	env := commands.Env{Core: c, Store: s, Settings: c.Settings, Tasks: tasks.New(context.Background(), s, log), Features: &commands.Features{}}
	h := &commands.XMLRPCHandler{Table: commands.NewTable(), Env: env, Config: cfg, Log: log}
	mux := http.NewServeMux()
	mux.Handle("POST /rpc/api/xmlrpc", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &source{store: s, core: c, url: srv.URL + "/rpc/api/xmlrpc", srv: srv}
}

func mustTx(t testing.TB, s *store.Store, fn func(ctx context.Context, tx *store.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx *store.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func amount(t *testing.T, s string) money.Amount {
	t.Helper()
	a, err := money.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// seed fills the source as a PaperCut site would be: internal users and
// users a text-file user source brought, groups, shared accounts with
// sub-accounts, PINs, access lists and balances with cents, account
// selections and admin access.
func seed(t *testing.T, src *source, users, accounts int) {
	t.Helper()
	ctx := context.Background()
	mustTx(t, src.store, func(ctx context.Context, tx *store.Tx) error {
		for i := 0; i < users; i++ {
			u := &model.User{Username: fmt.Sprintf("user%04d", i), FullName: fmt.Sprintf("User Number %d", i),
				Email: fmt.Sprintf("user%d@example.org", i), OtherEmails: fmt.Sprintf("u%d@alt.example.org", i),
				Department: []string{"Physics", "Law", "Accounts"}[i%3], Office: fmt.Sprintf("Room %d", i%17),
				Notes: "seeded", Alias: fmt.Sprintf("alias%d", i), HomeFolder: fmt.Sprintf(`\\files\home\user%d`, i),
				PrimaryCard: fmt.Sprintf("9%07d", i), Restricted: i%4 == 0, PrintDisabled: i%9 == 0}
			if i%5 == 1 {
				u.SecondaryCard = fmt.Sprintf("S%06d", i)
			}
			if i%3 == 0 {
				u.Internal, u.PasswordHash = true, "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
			} else {
				u.SourceID = "file" // as the text-file user source brings them
			}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if _, err := tx.AdjustUserBalance(ctx, u.ID, money.Amount(int64(i)*1234567%99999999-500000), true, "seed", "test"); err != nil {
				return err
			}
		}
		for g := 0; g < 5; g++ {
			grp := &model.Group{Name: fmt.Sprintf("Group %d", g), SourceID: "file", Tracked: true}
			if err := tx.CreateGroup(ctx, grp); err != nil {
				return err
			}
			var ids []int64
			for i := g; i < users; i += 5 + g {
				u, err := tx.UserByName(ctx, fmt.Sprintf("user%04d", i))
				if err != nil {
					return err
				}
				ids = append(ids, u.ID)
			}
			if err := tx.SetGroupMembers(ctx, grp.ID, ids); err != nil {
				return err
			}
		}
		return nil
	})
	key, err := src.store.AccountPINKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = key
	mustTx(t, src.store, func(ctx context.Context, tx *store.Tx) error {
		var parent *model.Account
		for i := 0; i < accounts; i++ {
			a := &model.Account{Name: fmt.Sprintf("Client %04d", i), Enabled: i%11 != 0, Restricted: i%2 == 0,
				Overdraft: money.Amount(int64(i%7) * 250000), InvoiceOption: []string{model.InvoiceAlways, model.InvoiceNever, model.InvoiceUserOn, model.InvoiceUserOff}[i%4],
				CommentOption: []string{model.CommentNone, model.CommentOptional, model.CommentRequired}[i%3], Notes: fmt.Sprintf("matter %d", i),
				AccessUsers: []string{fmt.Sprintf("user%04d", i%users)}, AccessGroups: []string{fmt.Sprintf("Group %d", i%5)}}
			if i%10 == 0 {
				a.AccessGroups = []string{model.GroupAllUsers}
			}
			if i%3 == 0 && parent != nil {
				a.ParentID, a.ParentName, a.Name = parent.ID, parent.Name, fmt.Sprintf("Matter %04d", i)
			}
			if i%2 == 1 {
				h, err := src.store.HashAccountPIN(ctx, fmt.Sprintf("%05d", i))
				if err != nil {
					return err
				}
				a.PINHash = h
			}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			if a.ParentID == 0 {
				parent = a
			}
			if _, err := tx.AdjustAccountBalance(ctx, a.ID, money.Amount(int64(i)*70001%50000000), true, "seed", "test"); err != nil {
				return err
			}
		}
		acc, err := tx.AccountByName(ctx, "Client 0001")
		if err != nil {
			return err
		}
		for i := 0; i < users; i += 7 {
			u, err := tx.UserByName(ctx, fmt.Sprintf("user%04d", i))
			if err != nil {
				return err
			}
			sel := model.AccountSelection{Mode: model.SelectAutoShared, AccountID: acc.ID, ChargePersonal: i%2 == 0}
			if i%14 == 0 {
				sel = model.AccountSelection{Mode: model.SelectStandardPopup, AllowPersonal: true, AllowList: true, AllowPIN: true, DefaultAccountID: acc.ID}
			}
			if err := tx.SetAccountSelection(ctx, []int64{u.ID}, sel); err != nil {
				return err
			}
		}
		if err := tx.SetAdminAccess(ctx, "group", "Group 1", true); err != nil {
			return err
		}
		if err := tx.SetAdminAccessRights(ctx, "group", "Group 1", []model.AdminRight{model.RightUsersView, model.RightAccountsView}); err != nil {
			return err
		}
		if err := tx.SetAdminAccess(ctx, "user", "user0003", true); err != nil {
			return err
		}
		return tx.SetAdminAccessScope(ctx, "user", "user0003", model.ScopeAccounts, []int64{acc.ID})
	})
}

// siteState is what an import must carry, in comparable form.
type siteState struct {
	users    map[string]string
	accounts map[string]string
	groups   map[string]string
	admins   []string
	pins     int
}

func state(t *testing.T, s *store.Store) siteState {
	t.Helper()
	st := siteState{users: map[string]string{}, accounts: map[string]string{}, groups: map[string]string{}}
	mustTx(t, s, func(ctx context.Context, tx *store.Tx) error {
		users, err := tx.ImportUsers(ctx)
		if err != nil {
			return err
		}
		byID := map[int64]string{}
		for _, u := range users {
			byID[u.ID] = u.Username
		}
		accs, err := tx.ImportAccounts(ctx)
		if err != nil {
			return err
		}
		accName := map[int64]string{}
		for _, a := range accs {
			accName[a.ID] = a.FullName()
			if a.PINHash != "" {
				st.pins++
			}
			st.accounts[a.FullName()] = fmt.Sprintf("enabled=%t balance=%s overdraft=%s restricted=%t users=%v groups=%v invoice=%s comment=%s notes=%q",
				a.Enabled, a.Balance, a.Overdraft, a.Restricted, a.AccessUsers, a.AccessGroups, a.InvoiceOption, a.CommentOption, a.Notes)
		}
		sels, err := tx.AccountSelections(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			directory := !u.Internal && u.SourceID != ""
			sel, ok := sels[u.ID]
			if !ok {
				sel = model.DefaultAccountSelection()
			}
			st.users[u.Username] = fmt.Sprintf("name=%q email=%q other=%q dept=%q office=%q notes=%q alias=%q home=%q cards=%s/%s balance=%s restricted=%t noprint=%t internal=%t directory=%t sel=%s,%s,%s,%t%t%t%t%t",
				u.FullName, u.Email, u.OtherEmails, u.Department, u.Office, u.Notes, u.Alias, u.HomeFolder, u.PrimaryCard, u.SecondaryCard,
				u.Balance, u.Restricted, u.PrintDisabled, u.Internal, directory,
				sel.Mode, accName[sel.AccountID], accName[sel.DefaultAccountID], sel.AllowPersonal, sel.AllowList, sel.AllowPIN, sel.AllowOtherUser, sel.ChargePersonal)
		}
		groups, err := tx.AllGroups(ctx)
		if err != nil {
			return err
		}
		members, err := tx.GroupMemberships(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			var names []string
			for _, id := range members[g.ID] {
				names = append(names, byID[id])
			}
			sort.Strings(names)
			st.groups[g.Name] = strings.Join(names, ",")
		}
		return nil
	})
	list, err := s.AdminAccessList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		st.admins = append(st.admins, core.AdminAccessLine(a))
	}
	return st
}

func diffMaps(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	n := 0
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s %q missing in the target", what, k)
			n++
		} else if g != w {
			t.Errorf("%s %q:\n source %s\n target %s", what, k, w, g)
			n++
		}
		if n > 10 {
			t.Fatalf("too many differences")
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %q in the target only", what, k)
		}
	}
}

func run(t *testing.T, target *store.Store, url string, o papercutimport.Options) (*papercutimport.Report, error) {
	t.Helper()
	src, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: url, Token: token, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if o.Parts == (papercutimport.Parts{}) {
		o.Parts = papercutimport.AllParts
	}
	if o.Actor.Name == "" {
		o.Actor = core.CLI
	}
	return papercutimport.Run(context.Background(), target, src, o)
}

func mustRun(t *testing.T, target *store.Store, url string, o papercutimport.Options) *papercutimport.Report {
	t.Helper()
	r, err := run(t, target, url, o)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return r
}

func counts(c papercutimport.Counts) string {
	return fmt.Sprintf("read=%d created=%d updated=%d unchanged=%d skipped=%d", c.Read, c.Created, c.Updated, c.Unchanged, c.Skipped)
}

func auditCount(t *testing.T, s *store.Store) int {
	t.Helper()
	_, n, err := s.AuditLog(context.Background(), "", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportFromASecondReamServer(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			pg := db == "postgres"
			src := startSource(t, pg)
			const nUsers, nAccounts = 120, 1000
			seed(t, src, nUsers, nAccounts)
			target := reamtest.Store(t, pg)
			before := state(t, target)
			audits := auditCount(t, target)

			// The dry run reports everything and writes nothing.
			var phases []string
			dry := mustRun(t, target, src.url, papercutimport.Options{DryRun: true, Progress: func(p papercutimport.Progress) {
				if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
					phases = append(phases, p.Phase)
				}
			}})
			if got := counts(dry.Users); got != fmt.Sprintf("read=%d created=%d updated=0 unchanged=0 skipped=0", nUsers, nUsers) {
				t.Errorf("dry run users: %s", got)
			}
			if got := counts(dry.Accounts); got != fmt.Sprintf("read=%d created=%d updated=0 unchanged=0 skipped=0", nAccounts, nAccounts) {
				t.Errorf("dry run accounts: %s", got)
			}
			if !slices.Equal(phases, []string{papercutimport.PhaseReading, papercutimport.PhaseApplying}) {
				t.Errorf("progress phases %v", phases)
			}
			after := state(t, target)
			if len(after.users) != len(before.users) || len(after.accounts) != 0 || auditCount(t, target) != audits {
				t.Fatalf("the dry run wrote: %d users, %d accounts, %d audit entries", len(after.users), len(after.accounts), auditCount(t, target)-audits)
			}

			r := mustRun(t, target, src.url, papercutimport.Options{})
			var b strings.Builder
			if err := r.Write(&b, false); err != nil {
				t.Fatal(err)
			}
			if counts(r.Users) != counts(dry.Users) || counts(r.Accounts) != counts(dry.Accounts) || counts(r.Groups) != counts(dry.Groups) {
				t.Errorf("the real run differs from the dry run:\n%s", b.String())
			}
			if got := counts(r.Groups); got != "read=5 created=5 updated=0 unchanged=0 skipped=0" {
				t.Errorf("groups: %s", got)
			}
			if got := counts(r.Admins); got != "read=2 created=2 updated=0 unchanged=0 skipped=0" {
				t.Errorf("admin access: %s", got)
			}
			if len(r.NoPassword) != nUsers/3 {
				t.Errorf("%d internal users without a password listed, want %d", len(r.NoPassword), nUsers/3)
			}
			for _, want := range []string{"Email a set-password link", "passwords", "print history", "read  created  updated  unchanged  skipped"} {
				if !strings.Contains(b.String(), want) {
					t.Errorf("the report does not say %q:\n%s", want, b.String())
				}
			}

			want, got := state(t, src.store), state(t, target)
			// Users the text-file source brought stay directory users; a
			// Ream source shows no PIN, so none arrives and each is reported.
			diffMaps(t, "user", want.users, got.users)
			diffMaps(t, "shared account", want.accounts, got.accounts)
			diffMaps(t, "group", want.groups, got.groups)
			if !slices.Equal(want.admins, got.admins) {
				t.Errorf("admin access:\n source %q\n target %q", want.admins, got.admins)
			}
			pinSkips := len(r.HiddenPINs)
			if want.pins != nAccounts/2 || got.pins != 0 || pinSkips != want.pins {
				t.Errorf("PINs: source %d, target %d, reported %d", want.pins, got.pins, pinSkips)
			}
			u, err := target.UserByName(context.Background(), "user0001")
			if err != nil || u.SourceID != papercutimport.SourceID || u.Internal {
				t.Errorf("a file-source user arrives as a directory user of source %q: %+v %v", papercutimport.SourceID, u, err)
			}
			// Balances were set, each with a transaction naming the source.
			txs, err := target.Transactions(context.Background(), u.ID, 0, 10)
			if err != nil || len(txs) != 1 || !strings.Contains(txs[0].Comment, src.url) {
				t.Errorf("transactions of user0001: %+v %v", txs, err)
			}
			entries, _, err := target.AuditLog(context.Background(), "user.balance", 0, 5)
			if err != nil || len(entries) == 0 || !strings.Contains(entries[0].Detail, "from 0.00 to") || !strings.Contains(entries[0].Detail, src.url) {
				t.Errorf("balance audit: %+v %v", entries, err)
			}

			// Again, nothing changed: nothing is written.
			audits = auditCount(t, target)
			again := mustRun(t, target, src.url, papercutimport.Options{})
			if again.Users.Unchanged != nUsers || again.Accounts.Unchanged != nAccounts || again.Groups.Unchanged != 5 || again.Admins.Unchanged != 2 {
				t.Errorf("unchanged rerun: users %s, accounts %s, groups %s, admins %s", counts(again.Users), counts(again.Accounts), counts(again.Groups), counts(again.Admins))
			}
			if n := auditCount(t, target) - audits; n != 1 { // the run's own entry
				t.Errorf("an unchanged rerun wrote %d audit entries", n)
			}

			// Change the source; only the changes arrive.
			c := src.core
			ctx := context.Background()
			if _, err := c.AdjustUserBalance(ctx, core.CLI, "user0002", amount(t, "12.34"), true, "x"); err != nil {
				t.Fatal(err)
			}
			if err := c.SetUserProperties(ctx, core.CLI, "user0004", []core.UserPropertyChange{{Name: "department", Value: "Chemistry"}, {Name: "primary-card-number", Value: "A1B2C3"}}); err != nil {
				t.Fatal(err)
			}
			// Two users swap card numbers at the source.
			if err := c.SetUserProperties(ctx, core.CLI, "user0005", []core.UserPropertyChange{{Name: "primary-card-number", Value: ""}}); err != nil {
				t.Fatal(err)
			}
			if err := c.SetUserProperties(ctx, core.CLI, "user0006", []core.UserPropertyChange{{Name: "primary-card-number", Value: "90000005"}}); err != nil {
				t.Fatal(err)
			}
			if err := c.SetAccountProperties(ctx, core.CLI, `Client 0001`, []core.AccountPropertyChange{{Name: "notes", Value: "new notes"}, {Name: "balance", Value: "-3.21"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateAccount(ctx, core.CLI, `Client 0001\New Matter`, nil); err != nil {
				t.Fatal(err)
			}
			if err := c.ChangeGroupMember(ctx, core.CLI, "user0000", "Group 0", false); err != nil {
				t.Fatal(err)
			}
			changed := mustRun(t, target, src.url, papercutimport.Options{})
			if got := counts(changed.Users); got != fmt.Sprintf("read=%d created=0 updated=4 unchanged=%d skipped=0", nUsers, nUsers-4) {
				t.Errorf("users after the change: %s\n%s", got, strings.Join(changed.Changes, "\n"))
			}
			if got := counts(changed.Accounts); got != fmt.Sprintf("read=%d created=1 updated=1 unchanged=%d skipped=0", nAccounts+1, nAccounts-1) {
				t.Errorf("accounts after the change: %s\n%s", got, strings.Join(changed.Changes, "\n"))
			}
			if got := counts(changed.Groups); got != "read=5 created=0 updated=1 unchanged=4 skipped=0" {
				t.Errorf("groups after the change: %s", got)
			}
			want, got = state(t, src.store), state(t, target)
			diffMaps(t, "user", want.users, got.users)
			diffMaps(t, "shared account", want.accounts, got.accounts)
			diffMaps(t, "group", want.groups, got.groups)
		})
	}
}

func TestImportRefusesUsersOfAnotherDirectorySource(t *testing.T) {
	src := startSource(t, false)
	seed(t, src, 10, 10)
	target := reamtest.Store(t, false)
	mustTx(t, target, func(ctx context.Context, tx *store.Tx) error {
		return tx.CreateUser(ctx, &model.User{Username: "user0002", SourceID: "ldap"})
	})
	before := state(t, target)
	_, err := run(t, target, src.url, papercutimport.Options{})
	var conflict *papercutimport.ConflictError
	if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "user0002 (source ldap)") || !strings.Contains(err.Error(), "Nothing was imported") {
		t.Fatalf("want a conflict naming user0002, got %v", err)
	}
	after := state(t, target)
	if len(after.users) != len(before.users) || len(after.accounts) != 0 || len(after.groups) != 0 {
		t.Errorf("a refused import wrote: %d users, %d accounts, %d groups", len(after.users), len(after.accounts), len(after.groups))
	}
	// Leaving users out is the way through, as the message says.
	r := mustRun(t, target, src.url, papercutimport.Options{Parts: papercutimport.Parts{Groups: true, Accounts: true}})
	if r.Accounts.Created != 10 || r.Users.Read != 0 {
		t.Errorf("--only groups,accounts: users %s accounts %s", counts(r.Users), counts(r.Accounts))
	}
}

func TestImportSourceErrorsNameTheCause(t *testing.T) {
	src := startSource(t, false)
	target := reamtest.Store(t, false)
	check := func(name string, o papercutimport.SourceOptions, cause string, words ...string) {
		t.Helper()
		s, err := papercutimport.NewSource(o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer s.Close()
		_, err = papercutimport.Run(context.Background(), target, s, papercutimport.Options{Parts: papercutimport.AllParts, Actor: core.CLI})
		var se *papercutimport.SourceError
		if !errors.As(err, &se) || se.Cause != cause {
			t.Errorf("%s: want cause %s, got %v", name, cause, err)
			return
		}
		for _, w := range words {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: the message does not say %q: %v", name, w, err)
			}
		}
	}
	check("wrong token", papercutimport.SourceOptions{URL: src.url, Token: "wrong"}, "token", "auth token", "auth.webservices.auth-token")
	refusing := startSource(t, false, "10.9.8.0/24")
	check("address", papercutimport.SourceOptions{URL: refusing.url, Token: token}, "address", "allowed-addresses", "127.0.0.1")
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome to nginx!</body></html>")
	}))
	defer html.Close()
	check("not PaperCut", papercutimport.SourceOptions{URL: html.URL, Token: token}, "not-papercut", "did not answer as PaperCut", "/rpc/api/xmlrpc")
	check("not found", papercutimport.SourceOptions{URL: src.srv.URL + "/other", Token: token}, "not-papercut", "404")
	tlsSrv := httptest.NewTLSServer(src.srv.Config.Handler)
	defer tlsSrv.Close()
	check("TLS trust", papercutimport.SourceOptions{URL: tlsSrv.URL + "/rpc/api/xmlrpc", Token: token}, "tls", "not trusted", "--ca-file")
	check("TLS to a plain port", papercutimport.SourceOptions{URL: strings.Replace(src.url, "http://", "https://", 1), Token: token}, "tls", "does not speak TLS")
	// With the CA the same server is read.
	ca := filepath.Join(t.TempDir(), "ca.pem")
	writeCert(t, tlsSrv, ca)
	s, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: tlsSrv.URL + "/rpc/api/xmlrpc", Token: token, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := papercutimport.Run(context.Background(), target, s, papercutimport.Options{Parts: papercutimport.AllParts, Actor: core.CLI, DryRun: true}); err != nil {
		t.Errorf("with --ca-file: %v", err)
	}
	if _, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: src.url}); err == nil || !strings.Contains(err.Error(), "REAM_PAPERCUT_TOKEN") {
		t.Errorf("no token: %v", err)
	}
	if _, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: "ftp://x", Token: "t"}); err == nil {
		t.Errorf("ftp:// accepted")
	}
}

func writeCert(t *testing.T, srv *httptest.Server, file string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	enc := srv.Certificate().Raw
	s := base64Std(enc)
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n-----END CERTIFICATE-----\n")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}
