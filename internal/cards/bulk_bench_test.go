package cards_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// benchUsers creates n users without numbers in one transaction.
func benchUsers(b *testing.B, s *store.Store, n int) {
	b.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		for i := range n {
			u := &model.User{Username: fmt.Sprintf("user%06d", i), Email: fmt.Sprintf("user%06d@example.org", i)}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBulkGenerate100k is SPEC §11's "Generate primary card numbers for
// 100,000 users (bulk action)": ≤ 5 s, zero duplicates. Each iteration
// replaces every user's number, in one transaction.
func BenchmarkBulkGenerate100k(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			const n = 100_000
			s := reamtest.Store(b, db == "postgres")
			svc := newService(b, s, nil)
			benchUsers(b, s, n)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				res, err := svc.BulkGenerate(ctx, admin, cards.Selection{Group: model.GroupAllUsers}, nil)
				if err != nil || res.Changed != n {
					b.Fatalf("BulkGenerate: %+v, %v", res, err)
				}
			}
			b.StopTimer()
			if got, err := s.CountUsersWithCards(ctx); err != nil || got != n {
				b.Fatalf("%d users hold a number, want %d (%v)", got, n, err)
			}
			b.ReportMetric(float64(n), "users/op")
		})
	}
}
