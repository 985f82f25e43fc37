package accounts

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/store"
)

// Apply writes a plan inside tx: deletions first (they free names and
// PINs), then PINs that move are cleared, then updates and restores, then
// new accounts in bulk, then the balance transactions. The caller's
// transaction makes it all or nothing. actor is recorded on the balance
// transactions; progress (may be nil) is told how many writes are done.
func Apply(ctx context.Context, tx *store.Tx, plan *Plan, actor string, progress func(done, total int)) error {
	w := &plan.write
	if plan.Refusal != "" {
		return fmt.Errorf("accounts: a refused plan cannot be applied: %s", plan.Refusal)
	}
	if plan.applied {
		return fmt.Errorf("accounts: a plan is applied once")
	}
	total := len(w.deletes) + len(w.updates) + len(w.creates) + len(w.balances)
	done := 0
	step := func(n int) {
		done += n
		if progress != nil {
			progress(done, total)
		}
	}
	if err := tx.MarkAccountsDeleted(ctx, w.deletes); err != nil {
		return err
	}
	step(len(w.deletes))
	if err := tx.ClearAccountPINs(ctx, w.clearPINs); err != nil {
		return err
	}
	if err := tx.UpdateSyncAccounts(ctx, w.updates); err != nil {
		return err
	}
	step(len(w.updates))
	ids, err := tx.ReserveAccountIDs(ctx, len(w.creates))
	if err != nil {
		return err
	}
	// New accounts are made from their records and written a batch at a
	// time: a million-account first import holds one batch of rows, not a
	// million.
	batch := make([]store.SyncAccount, 0, min(len(w.creates), writeBatch))
	var row source.Row
	for start := 0; start < len(w.creates); start += writeBatch {
		batch = batch[:0]
		for i := start; i < min(start+writeBatch, len(w.creates)); i++ {
			c := &w.creates[i]
			a := w.row(c, &row)
			a.ID = ids[i]
			if c.parent >= 0 {
				a.ParentID = ids[c.parent]
			}
			batch = append(batch, a)
		}
		if err := tx.InsertSyncAccounts(ctx, batch); err != nil {
			return err
		}
		step(len(batch))
	}
	batch = nil
	setComment, initialComment := "balance set by the "+plan.comment, "initial balance from the "+plan.comment
	txs := make([]store.AccountTransaction, 0, min(len(w.balances), writeBatch))
	for start := 0; start < len(w.balances); start += writeBatch {
		txs = txs[:0]
		for _, b := range w.balances[start:min(start+writeBatch, len(w.balances))] {
			id, comment := b.id, setComment
			if b.create >= 0 {
				id, comment = ids[b.create], initialComment
			}
			txs = append(txs, store.AccountTransaction{AccountID: id, Amount: b.delta, BalanceAfter: b.balance, Comment: comment, Actor: actor})
		}
		if err := tx.InsertAccountTransactions(ctx, txs); err != nil {
			return err
		}
		step(len(txs))
	}
	// The lists stay for the report; what was written goes.
	plan.write, plan.applied = planWrites{}, true
	return nil
}

// writeBatch is how many rows Apply writes at once: enough to keep the
// database busy, few enough that a batch's rows and arguments stay small
// (20,000 rows are about 4 MB) and progress is reported often.
const writeBatch = 20_000
