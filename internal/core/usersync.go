package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// CreateUsersTx is the bulk form of CreateUserTx, for user sync and batch
// import of many users in the caller's transaction: the rows are inserted
// with prepared statements, then NewUserHooks run for each user exactly as
// CreateUserTx runs them, and one audit entry names the count (the run's
// own report lists every user). Usernames must already be validated.
func (c *Core) CreateUsersTx(ctx context.Context, tx *store.Tx, a Actor, users []*model.User, why string) error {
	if err := c.CreateUsersUnauditedTx(ctx, tx, users); err != nil {
		return err
	}
	return c.AuditUsersCreated(ctx, tx, a, users, why)
}

// CreateUsersUnauditedTx is CreateUsersTx without the audit entry, for one
// operation that creates its users in several batches (a user sync
// inserting each page of the directory as it arrives): it writes one
// entry for them all with AuditUsersCreated.
func (c *Core) CreateUsersUnauditedTx(ctx context.Context, tx *store.Tx, users []*model.User) error {
	if len(users) == 0 {
		return nil
	}
	if err := tx.CreateUsers(ctx, users); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict):
			return Errorf(Conflict, "%v", err)
		case errors.Is(err, store.ErrCardInUse):
			return Errorf(Conflict, "%v", err)
		}
		return err
	}
	for _, u := range users {
		for _, hook := range c.NewUserHooks {
			if err := hook(ctx, tx, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// AuditUsersCreated writes the one audit entry for users created in bulk:
// the username of a single user, else the count.
func (c *Core) AuditUsersCreated(ctx context.Context, tx *store.Tx, a Actor, users []*model.User, why string) error {
	if len(users) == 0 {
		return nil
	}
	target := users[0].Username
	if len(users) > 1 {
		target = fmt.Sprintf("%d users", len(users))
	}
	return audit(ctx, tx, a, "user.create", target, why)
}
