package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/store"
)

// AdminPasswordKey is where the built-in admin's password hash is kept
// (a store setting outside the settings table of options: never shown).
const AdminPasswordKey = "internal.admin-password-hash"

// SetAdminPassword sets the built-in admin's password (ream admin
// set-password, REAM_ADMIN_PASSWORD, changeInternalAdminPassword) and ends
// the built-in admin's sessions.
func (c *Core) SetAdminPassword(ctx context.Context, a Actor, password string) error {
	if err := auth.CheckPassword(password); err != nil {
		return invalidInput(err)
	}
	hash, err := c.Hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetSetting(ctx, AdminPasswordKey, hash); err != nil {
			return err
		}
		if err := tx.EndBuiltInAdminSessions(ctx, ""); err != nil {
			return err
		}
		return audit(ctx, tx, a, "admin.password", "admin", "built-in admin password changed")
	})
}

// CheckAdminPassword verifies the built-in admin's password.
func (c *Core) CheckAdminPassword(ctx context.Context, password string) (bool, error) {
	hash, ok, err := c.Store.Setting(ctx, AdminPasswordKey)
	if err != nil {
		return false, err
	}
	if !ok {
		c.Hasher.VerifyDummy(ctx, password)
		return false, nil
	}
	return c.Hasher.Verify(ctx, hash, password)
}

// EnsureAdminPassword makes sure the built-in admin has a password at start:
// from REAM_ADMIN_PASSWORD / admin.password when given, otherwise, on first
// start only, a generated one that is returned to be printed once.
func (c *Core) EnsureAdminPassword(ctx context.Context, fromConfig string) (generated string, err error) {
	_, ok, err := c.Store.Setting(ctx, AdminPasswordKey)
	if err != nil {
		return "", err
	}
	if fromConfig != "" {
		// Only rewrite when it differs: each start would otherwise log a change.
		if ok {
			if same, err := c.CheckAdminPassword(ctx, fromConfig); err == nil && same {
				return "", nil
			}
		}
		if err := c.SetAdminPassword(ctx, Actor{Name: "REAM_ADMIN_PASSWORD"}, fromConfig); err != nil {
			return "", fmt.Errorf("admin.password / REAM_ADMIN_PASSWORD: %w", err)
		}
		return "", nil
	}
	if ok {
		return "", nil
	}
	pw, err := GeneratePassword(20)
	if err != nil {
		return "", err
	}
	if err := c.SetAdminPassword(ctx, Actor{Name: "first start"}, pw); err != nil {
		return "", err
	}
	return pw, nil
}

// GeneratePassword returns a random password of n characters from an
// alphabet without look-alikes.
func GeneratePassword(n int) (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	for i := range b {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", errors.New("core: no randomness available")
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b), nil
}
