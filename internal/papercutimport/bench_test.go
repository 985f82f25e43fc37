package papercutimport_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// seedLarge fills the source quickly: n users (a third internal) and n
// shared accounts (every fourth a parent of three sub-accounts), with cards,
// balances and access lists.
func seedLarge(b *testing.B, src *source, n int) {
	mustTx(b, src.store, func(ctx context.Context, tx *store.Tx) error {
		users := make([]*model.User, n)
		for i := range users {
			users[i] = &model.User{Username: fmt.Sprintf("u%06d", i), FullName: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("u%d@example.org", i),
				Department: "Dept", PrimaryCard: fmt.Sprintf("8%07d", i), Balance: money.Amount(int64(i) * 10001), Internal: i%3 == 0}
			if !users[i].Internal {
				users[i].SourceID = "file"
			}
		}
		if err := tx.CreateUsers(ctx, users); err != nil {
			return err
		}
		var parent *model.Account
		for i := 0; i < n; i++ {
			a := &model.Account{Name: fmt.Sprintf("Client %06d", i), Enabled: true, Balance: money.Amount(int64(i) * 70001),
				AccessUsers: []string{fmt.Sprintf("u%06d", i)}, InvoiceOption: model.InvoiceAlways, CommentOption: model.CommentRequired}
			if i%4 != 0 {
				a.ParentID, a.ParentName, a.Name = parent.ID, parent.Name, fmt.Sprintf("Matter %d", i)
			}
			if err := tx.CreateAccount(ctx, a); err != nil {
				return err
			}
			if a.ParentID == 0 {
				parent = a
			}
		}
		return nil
	})
}

// BenchmarkImport10k imports 10,000 users and 10,000 shared accounts from a
// second Ream server on loopback (SPEC §11: ≤ 60 s), and beside it times
// the plain limit: the same number of getUserProperties and
// getSharedAccountProperties calls, the same properties, over the same
// number of keep-alive connections, doing nothing with the answers.
// REAM_BENCH_N changes the size; REAM_BENCH_POSTGRES=1 targets PostgreSQL.
func BenchmarkImport10k(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("REAM_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	pg := os.Getenv("REAM_BENCH_POSTGRES") == "1"
	src := startSourceB(b, pg)
	seedLarge(b, src, n)
	ctx := context.Background()
	users, accounts := listAll(b, src, "listUserAccounts"), listAll(b, src, "listSharedAccounts")
	b.ResetTimer()
	for range b.N {
		// The plain limit: the calls alone.
		start := time.Now()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, MaxConnsPerHost: 4}}
		var next atomic.Int64
		var wg sync.WaitGroup
		total := len(users) + len(accounts)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= total {
						return
					}
					var err error
					if i < len(users) {
						_, err = xmlrpc.Call(ctx, client, src.url, "api.getUserProperties", token, users[i], papercutimport.UserProps())
					} else {
						_, err = xmlrpc.Call(ctx, client, src.url, "api.getSharedAccountProperties", token, accounts[i-len(users)], papercutimport.AccountProps())
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		raw := time.Since(start)

		target := reamtest.Store(b, pg)
		s, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: src.url, Token: token, Concurrency: 4})
		if err != nil {
			b.Fatal(err)
		}
		var readDone time.Duration
		start = time.Now()
		r, err := papercutimport.Run(ctx, target, s, papercutimport.Options{Parts: papercutimport.AllParts, Actor: core.CLI,
			Progress: func(p papercutimport.Progress) {
				if p.Phase == papercutimport.PhaseApplying && readDone == 0 {
					readDone = time.Since(start)
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		whole := time.Since(start)
		if r.Users.Created != n || r.Accounts.Created != n {
			b.Fatalf("created %d users and %d accounts, want %d each", r.Users.Created, r.Accounts.Created, n)
		}
		b.Logf("%d users + %d shared accounts: plain calls %.2f s (%.0f calls/s); import %.2f s (read %.2f s, write %.2f s) = %.2f× the plain calls",
			n, n, raw.Seconds(), float64(total)/raw.Seconds(), whole.Seconds(), readDone.Seconds(), (whole - readDone).Seconds(), whole.Seconds()/raw.Seconds())
		b.ReportMetric(whole.Seconds(), "import-s")
		b.ReportMetric(raw.Seconds(), "plain-calls-s")
	}
}

func listAll(b *testing.B, src *source, method string) []string {
	var out []string
	for off := 0; ; off += 10000 {
		v, err := xmlrpc.Call(context.Background(), nil, src.url, "api."+method, token, off, 10000)
		if err != nil {
			b.Fatal(err)
		}
		page := v.([]any)
		for _, p := range page {
			out = append(out, p.(string))
		}
		if len(page) < 10000 {
			return out
		}
	}
}
