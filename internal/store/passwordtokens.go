package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reamprint/ream/internal/model"
)

// PasswordToken is a link that sets or resets an internal user's password.
// Only the hash of its token is stored: the link itself is in the user's
// mail, never in the database or the logs.
type PasswordToken struct {
	TokenHash string
	UserID    int64
	Purpose   string // "reset" (the user asked) or "set" (an admin sent it)
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// Usable reports whether the link may still set a password at now.
func (p *PasswordToken) Usable(now time.Time) bool {
	return p.UsedAt == nil && now.Before(p.ExpiresAt)
}

// CreatePasswordToken stores a new link's token hash for a user.
func (t *Tx) CreatePasswordToken(ctx context.Context, p *PasswordToken) error {
	_, err := t.exec(ctx, `INSERT INTO password_tokens (token_hash, user_id, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		p.TokenHash, p.UserID, p.Purpose, p.ExpiresAt.UnixMilli(), t.s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to store a password link for user #%d: %w", p.UserID, err)
	}
	return nil
}

const passwordTokenColumns = `token_hash, user_id, purpose, expires_at, used_at, created_at`

func scanPasswordToken(row rowScanner) (*PasswordToken, error) {
	var p PasswordToken
	var expires, created int64
	var used sql.NullInt64
	if err := row.Scan(&p.TokenHash, &p.UserID, &p.Purpose, &expires, &used, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: unable to read a password link: %w", err)
	}
	p.ExpiresAt, p.CreatedAt = msToTime(expires), msToTime(created)
	if used.Valid {
		at := msToTime(used.Int64)
		p.UsedAt = &at
	}
	return &p, nil
}

// PasswordTokenByHash returns the link with this token hash, used or not
// (ErrNotFound when there is none).
func (s *Store) PasswordTokenByHash(ctx context.Context, hash string) (*PasswordToken, error) {
	return scanPasswordToken(s.queryRow(ctx, `SELECT `+passwordTokenColumns+` FROM password_tokens WHERE token_hash = $1`, hash))
}

// UsePasswordToken spends the link with this token hash inside tx, once:
// of two servers using the same link at the same moment, one gets it and
// the other finds it used. It returns the link as it was before (check
// Usable: a used or expired link is returned unchanged, not spent) and,
// when it was spent, also ends every other open link of the same user,
// since the password they were sent to set has now been chosen.
func (t *Tx) UsePasswordToken(ctx context.Context, hash string, now time.Time) (*PasswordToken, error) {
	p, err := scanPasswordToken(t.queryRow(ctx, `SELECT `+passwordTokenColumns+` FROM password_tokens WHERE token_hash = $1`, hash))
	if err != nil || !p.Usable(now) {
		return p, err
	}
	res, err := t.exec(ctx, `UPDATE password_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL`, hash, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: unable to spend a password link: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		// Another server spent it between the read and the update.
		at := now
		p.UsedAt = &at
		return p, err
	}
	if _, err := t.exec(ctx, `UPDATE password_tokens SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, p.UserID, now.UnixMilli()); err != nil {
		return nil, fmt.Errorf("store: unable to end the other password links of user #%d: %w", p.UserID, err)
	}
	return p, nil
}

// PurgePasswordTokens forgets links that expired more than a day ago (a
// day, so that a late click still hears "expired" rather than "unknown").
func (s *Store) PurgePasswordTokens(ctx context.Context) error {
	_, err := s.exec(ctx, `DELETE FROM password_tokens WHERE expires_at < $1`, s.nowMS()-(24*time.Hour).Milliseconds())
	return err
}

// UserByID returns a user by id, deleted or not, inside the transaction.
func (t *Tx) UserByID(ctx context.Context, id int64) (*model.User, error) {
	return t.s.getUser(ctx, t.tx, `u.id = $1`, id)
}
