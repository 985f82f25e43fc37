package store

import (
	"context"
	"slices"
	"testing"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv"
)

// TestMigration9KeepsWhatAdminsHad: an entry of before migration 9 keeps
// every right and all shared accounts; one that did not cover all accounts
// is limited to its access lists, never given more.
func TestMigration9KeepsWhatAdminsHad(t *testing.T) {
	for _, url := range []string{"", "postgres"} {
		name := "sqlite"
		if url != "" {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			if url != "" {
				url = testenv.PostgresURL(t)
			}
			ctx := context.Background()
			s := openAtVersion(t, url, 8)
			for _, e := range []struct {
				kind, name string
				all        bool
			}{{"user", "carol", true}, {"group", "staff", true}, {"user", "dave", false}} {
				if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO admin_access (kind, name, all_accounts, created_at) VALUES ($1, $2, $3, 0)`), e.kind, e.name, e.all); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := s.migrateTo(ctx, 9); err != nil || n != 1 {
				t.Fatalf("migration 9: %d steps, %v", n, err)
			}
			list, err := s.AdminAccessList(ctx)
			if err != nil {
				t.Fatal(err)
			}
			type got struct {
				kind, name, scope string
				all, everyRight   bool
			}
			var have []got
			for _, e := range list {
				have = append(have, got{e.Kind, e.Name, e.Scope, e.AllAccounts, slices.Equal(e.Rights, model.AllAdminRights())})
			}
			want := []got{{"user", "carol", "all", true, true}, {"user", "dave", "access-list", false, true}, {"group", "staff", "all", true, true}}
			if !slices.Equal(have, want) {
				t.Fatalf("entries after migration 9:\n got %v\nwant %v", have, want)
			}
		})
	}
}

// TestAdminAccessRightsAndScope: rights and scope are kept per entry, the
// scope's accounts follow a renamed user and go with a removed entry.
func TestAdminAccessRightsAndScope(t *testing.T) {
	for _, url := range []string{"", "postgres"} {
		name := "sqlite"
		if url != "" {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			if url != "" {
				url = testenv.PostgresURL(t)
			}
			ctx := context.Background()
			s := openAtVersion(t, url, SchemaVersion())
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (id, username, created_at, updated_at) VALUES (1, 'erin', 0, 0)`)); err != nil {
				t.Fatal(err)
			}
			for i, acc := range []string{"Physics", "Chemistry"} {
				if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO accounts (id, name, name_key, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)`), i+1, acc, AccountKey(acc)); err != nil {
					t.Fatal(err)
				}
			}
			err := s.InTx(ctx, func(tx *Tx) error {
				if err := tx.SetAdminAccess(ctx, "user", "Erin", true); err != nil {
					return err
				}
				if err := tx.SetAdminAccessRights(ctx, "user", "erin", []model.AdminRight{model.RightLogs, model.RightAccountsBalance}); err != nil {
					return err
				}
				return tx.SetAdminAccessScope(ctx, "user", "erin", model.ScopeAccounts, []int64{2, 1})
			})
			if err != nil {
				t.Fatal(err)
			}
			check := func(wantName string, wantAccounts []string) {
				t.Helper()
				list, err := s.AdminAccessList(ctx)
				if err != nil || len(list) != 1 {
					t.Fatalf("admin list: %v, %v", list, err)
				}
				e := list[0]
				if e.Name != wantName || e.AllAccounts || e.Scope != model.ScopeAccounts ||
					!slices.Equal(e.Rights, []model.AdminRight{model.RightAccountsBalance, model.RightLogs}) || !slices.Equal(e.Accounts, wantAccounts) {
					t.Fatalf("entry: %+v", e)
				}
			}
			check("erin", []string{"Chemistry", "Physics"})
			if err := s.InTx(ctx, func(tx *Tx) error { return tx.RenameUser(ctx, 1, "erin2") }); err != nil {
				t.Fatal(err)
			}
			check("erin2", []string{"Chemistry", "Physics"})
			if n := lines(t, s, `SELECT name FROM admin_access_accounts ORDER BY account_id`); !slices.Equal(n, []string{"erin2", "erin2"}) {
				t.Fatalf("scope rows after the rename: %q", n)
			}
			err = s.InTx(ctx, func(tx *Tx) error { return tx.SetAdminAccessRights(ctx, "user", "nobody", nil) })
			if err != ErrNotFound {
				t.Fatalf("rights of a missing entry: %v", err)
			}
			if err := s.InTx(ctx, func(tx *Tx) error { return tx.SetAdminAccess(ctx, "user", "erin2", false) }); err != nil {
				t.Fatal(err)
			}
			if n := lines(t, s, `SELECT name FROM admin_access_accounts`); len(n) != 0 {
				t.Fatalf("scope rows after removing the entry: %q", n)
			}
		})
	}
}
