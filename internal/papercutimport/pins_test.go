package papercutimport_test

import (
	"context"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestSharedAccountPINsAsPaperCutShowsThem applies what a PaperCut server
// answers for shared accounts (PaperCut shows PINs, a Ream source does
// not): PINs arrive hashed under the target's key, two accounts swapping
// PINs at the source swap them in Ream, and a PIN held by an account Ream
// made by hand stays there and is reported.
func TestSharedAccountPINsAsPaperCutShowsThem(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx := context.Background()
			target := reamtest.Store(t, db == "postgres")
			key, err := target.AccountPINKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			mustTx(t, target, func(ctx context.Context, tx *store.Tx) error {
				return tx.CreateAccount(ctx, &model.Account{Name: "Made in Ream", Enabled: true, PINHash: auth.AccountPINHash(key, "7777")})
			})
			acc := func(name, pin string) papercutimport.SourceAccount {
				return papercutimport.SourceAccount{Name: name, Props: map[string]string{"balance": "1.5", "pin": pin, "restricted": "false",
					"disabled": "false", "access-users": "", "access-groups": "[All Users]", "invoice-option": "USER_CHOICE_OFF",
					"comment-option": "COMMENT_OPTIONAL", "notes": "", "overdraft-amount": "0.0"}}
			}
			apply := func(accounts ...papercutimport.SourceAccount) *papercutimport.Report {
				t.Helper()
				r, err := papercutimport.Apply(ctx, target, &papercutimport.Snapshot{URL: "https://papercut.example:9192/rpc/api/xmlrpc",
					Groups: map[string][]string{}, Accounts: accounts}, papercutimport.Options{Parts: papercutimport.Parts{Accounts: true}, Actor: core.CLI})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			pinOf := func(name string) string {
				t.Helper()
				a, err := target.AccountByName(ctx, name)
				if err != nil {
					t.Fatal(err)
				}
				return a.PINHash
			}
			r := apply(acc("A", "1111"), acc(`A\Sub`, "2222"), acc("B", "7777"))
			if pinOf("A") != auth.AccountPINHash(key, "1111") || pinOf(`A\Sub`) != auth.AccountPINHash(key, "2222") {
				t.Errorf("PINs were not imported")
			}
			if pinOf("B") != "" || pinOf("Made in Ream") != auth.AccountPINHash(key, "7777") || len(r.Skips) != 1 {
				t.Errorf("a PIN Ream's own account holds: B %q, report %+v", pinOf("B"), r.Skips)
			}
			r = apply(acc("A", "2222"), acc(`A\Sub`, "1111"), acc("B", ""))
			if pinOf("A") != auth.AccountPINHash(key, "2222") || pinOf(`A\Sub`) != auth.AccountPINHash(key, "1111") || r.Accounts.Updated != 2 || r.Accounts.Unchanged != 1 {
				t.Errorf("a PIN swap: updated %d unchanged %d, skips %+v", r.Accounts.Updated, r.Accounts.Unchanged, r.Skips)
			}
		})
	}
}
