package accounts

import (
	"context"
	"fmt"

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
	for i := range w.creates {
		w.creates[i].ID = ids[i]
	}
	for i, pi := range w.parentIndex {
		if pi >= 0 {
			w.creates[i].ParentID = ids[pi]
		}
	}
	if err := insertInChunks(ctx, tx, w.creates, step); err != nil {
		return err
	}
	txs := make([]store.AccountTransaction, len(w.balances))
	for i, b := range w.balances {
		id := b.id
		comment := "balance set by the " + plan.comment
		if b.create >= 0 {
			id = w.creates[b.create].ID
			comment = "initial balance from the " + plan.comment
		}
		txs[i] = store.AccountTransaction{AccountID: id, Amount: b.delta, BalanceAfter: b.balance, Comment: comment, Actor: actor}
	}
	if err := tx.InsertAccountTransactions(ctx, txs); err != nil {
		return err
	}
	step(len(txs))
	return nil
}

// insertInChunks inserts new accounts a slice at a time so that a long
// first import reports progress.
func insertInChunks(ctx context.Context, tx *store.Tx, creates []store.SyncAccount, step func(int)) error {
	const chunk = 20_000
	for start := 0; start < len(creates); start += chunk {
		part := creates[start:min(start+chunk, len(creates))]
		if err := tx.InsertSyncAccounts(ctx, part); err != nil {
			return err
		}
		step(len(part))
	}
	return nil
}
