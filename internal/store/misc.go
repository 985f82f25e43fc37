package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
)

// Audit records one administrative change.
func (t *Tx) Audit(ctx context.Context, e model.AuditEntry) error {
	kind := e.ActorKind
	if kind == "" {
		kind = model.ActorSystem
	}
	var userID any
	if e.ActorUserID != 0 {
		userID = e.ActorUserID
	}
	_, err := t.exec(ctx, `INSERT INTO audit_log (actor, actor_kind, actor_user_id, address, action, target, detail, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		e.Actor, kind, userID, e.Address, e.Action, e.Target, truncate(e.Detail, 4000), t.s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to write audit log: %w", err)
	}
	return nil
}

// Audit records one administrative change in its own transaction.
func (s *Store) Audit(ctx context.Context, e model.AuditEntry) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.Audit(ctx, e) })
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// AuditLog lists audit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, search string, offset, limit int) ([]model.AuditEntry, int, error) {
	where, args := `1=1`, []any{}
	if search != "" {
		args = append(args, likePattern(search))
		where = `(LOWER(actor) LIKE $1 ESCAPE '\' OR LOWER(action) LIKE $1 ESCAPE '\' OR LOWER(target) LIKE $1 ESCAPE '\' OR LOWER(detail) LIKE $1 ESCAPE '\')`
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count audit log: %w", err)
	}
	args = append(args, limit, offset)
	rows, err := s.query(ctx, fmt.Sprintf(`SELECT id, actor, actor_kind, COALESCE(actor_user_id, 0), address, action, target, detail, created_at FROM audit_log WHERE %s ORDER BY id DESC LIMIT $%d OFFSET $%d`, where, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to read audit log: %w", err)
	}
	defer rows.Close()
	var out []model.AuditEntry
	for rows.Next() {
		var e model.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Actor, &e.ActorKind, &e.ActorUserID, &e.Address, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, 0, err
		}
		e.CreatedAt = msToTime(at)
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// Setting returns a stored setting value, or ok=false when it was never set.
func (s *Store) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.queryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: unable to read setting %q: %w", key, err)
	}
	return value, true, nil
}

// AllSettings returns every stored setting.
func (s *Store) AllSettings(ctx context.Context) (map[string]string, error) {
	rows, err := s.query(ctx, `SELECT key, value FROM settings`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read settings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// SetSetting stores a setting value (validation is the settings package's job).
func (t *Tx) SetSetting(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, t.s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to save setting %q: %w", key, err)
	}
	return nil
}

// Setting reads a setting inside the transaction.
func (t *Tx) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = t.queryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// Session is a logged-in browser session. Only the token's hash is stored.
// It belongs to a user by id; an admin-area session with UserID 0 is the
// built-in admin's, so a user who is called "admin" is someone else.
type Session struct {
	TokenHash  string
	Kind       string // "admin" or "user"
	UserID     int64  // 0: the built-in admin
	Username   string // as it was at login, for display
	CSRFSecret string
	Address    string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se *Session) error {
	var userID any
	if se.UserID != 0 {
		userID = se.UserID
	} else if se.Kind != "admin" {
		return fmt.Errorf("store: a %s session needs a user", se.Kind)
	}
	_, err := s.exec(ctx, `INSERT INTO sessions (token_hash, kind, user_id, username, csrf_secret, address, created_at, last_seen_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$8)`, se.TokenHash, se.Kind, userID, se.Username, se.CSRFSecret, se.Address, s.nowMS(), se.ExpiresAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: unable to create session: %w", err)
	}
	return nil
}

// SessionByTokenHash returns a live (unexpired) session.
func (s *Store) SessionByTokenHash(ctx context.Context, hash string) (*Session, error) {
	var se Session
	var created, seen, expires int64
	err := s.w.QueryRowContext(ctx, s.q(`SELECT token_hash, kind, COALESCE(user_id, 0), username, csrf_secret, address, created_at, last_seen_at, expires_at
		FROM sessions WHERE token_hash = $1 AND expires_at > $2`), hash, s.nowMS()).
		Scan(&se.TokenHash, &se.Kind, &se.UserID, &se.Username, &se.CSRFSecret, &se.Address, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read session: %w", err)
	}
	se.CreatedAt, se.LastSeenAt, se.ExpiresAt = msToTime(created), msToTime(seen), msToTime(expires)
	return &se, nil
}

// TouchSession records activity on a session (callers throttle it).
func (s *Store) TouchSession(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1`, hash, s.nowMS())
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	_, err := s.exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
	return err
}

// EndSessions ends the sessions of the user with id userID (of one kind
// when kind is not empty), except the one whose hash is keep. The built-in
// admin's sessions are ended with EndBuiltInAdminSessions.
func (t *Tx) EndSessions(ctx context.Context, kind string, userID int64, keep string) error {
	_, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2 = '' OR kind = $2) AND token_hash <> $3`,
		userID, kind, keep)
	if err != nil {
		return fmt.Errorf("store: unable to end the sessions of user #%d: %w", userID, err)
	}
	return nil
}

// EndSessions ends a user's sessions in its own transaction.
func (s *Store) EndSessions(ctx context.Context, kind string, userID int64, keep string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.EndSessions(ctx, kind, userID, keep) })
}

// EndBuiltInAdminSessions ends the built-in admin's sessions but keep.
func (t *Tx) EndBuiltInAdminSessions(ctx context.Context, keep string) error {
	_, err := t.exec(ctx, `DELETE FROM sessions WHERE kind = 'admin' AND user_id IS NULL AND token_hash <> $1`, keep)
	if err != nil {
		return fmt.Errorf("store: unable to end the built-in admin's sessions: %w", err)
	}
	return nil
}

// RecordFamiliarAddress notes that account logged in successfully from
// address now; the limiter trusts such an address for a while.
func (s *Store) RecordFamiliarAddress(ctx context.Context, account, address string) error {
	_, err := s.exec(ctx, `INSERT INTO login_familiar (account, address, last_success) VALUES ($1, $2, $3)
		ON CONFLICT (account, address) DO UPDATE SET last_success = excluded.last_success`, account, address, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to record a familiar login address: %w", err)
	}
	return nil
}

// FamiliarAddress reports whether account logged in successfully from
// address at or after since.
func (s *Store) FamiliarAddress(ctx context.Context, account, address string, since time.Time) (bool, error) {
	var n int
	err := s.queryRow(ctx, `SELECT COUNT(*) FROM login_familiar WHERE account = $1 AND address = $2 AND last_success >= $3`,
		account, address, since.UnixMilli()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: unable to check a familiar login address: %w", err)
	}
	return n > 0, nil
}

// PurgeFamiliarAddresses forgets addresses not used for a login since cutoff.
func (s *Store) PurgeFamiliarAddresses(ctx context.Context, cutoff time.Time) error {
	_, err := s.exec(ctx, `DELETE FROM login_familiar WHERE last_success < $1`, cutoff.UnixMilli())
	return err
}

// PurgeExpiredSessions deletes sessions past their expiry.
func (s *Store) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, s.nowMS())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// TryLock takes or renews the named job lock for holder until ttl from now.
// Only one holder can have a lock at a time; an expired lock can be taken over.
// This is how scheduled jobs run on exactly one of several servers.
func (s *Store) TryLock(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.nowMS()
	res, err := s.exec(ctx, `INSERT INTO job_locks (name, holder, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE job_locks.holder = excluded.holder OR job_locks.expires_at < $4`, name, holder, now+ttl.Milliseconds(), now)
	if err != nil {
		return false, fmt.Errorf("store: unable to take lock %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return s.stealLockFromGone(ctx, name, holder, ttl)
}

// Unlock releases the named lock if holder has it.
func (s *Store) Unlock(ctx context.Context, name, holder string) error {
	_, err := s.exec(ctx, `DELETE FROM job_locks WHERE name = $1 AND holder = $2`, name, holder)
	return err
}

// CreateTask starts a background task record.
func (s *Store) CreateTask(ctx context.Context, kind, message string) (int64, error) {
	var id int64
	now := s.nowMS()
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO tasks (kind, message, updated_at, holder, alive_until) VALUES ($1, $2, $3, $4, $5) RETURNING id`),
		kind, message, now, ProcessHolder(), now+runHeartbeatTTL.Milliseconds()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: unable to create task: %w", err)
	}
	s.startHeartbeat()
	return id, nil
}

// AppendTaskMessage adds a line to a task's message, optionally completing it.
func (s *Store) AppendTaskMessage(ctx context.Context, id int64, line string, completed bool) error {
	_, err := s.exec(ctx, `UPDATE tasks SET message = CASE WHEN message = '' THEN $2 ELSE message || $3 || $2 END,
		completed = $4, updated_at = $5 WHERE id = $1`, id, line, "\n", completed, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to update task: %w", err)
	}
	return nil
}

// SetTaskMessage replaces a task's whole message (idempotent, so a retry
// after a busy database is harmless).
func (s *Store) SetTaskMessage(ctx context.Context, id int64, message string, completed bool) error {
	_, err := s.exec(ctx, `UPDATE tasks SET message = $2, completed = $3, updated_at = $4 WHERE id = $1`, id, message, completed, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to save task #%d: %w", id, err)
	}
	return nil
}

// LatestTask returns the newest task (PaperCut's getTaskStatus has no task id).
func (s *Store) LatestTask(ctx context.Context) (*model.Task, error) {
	var t model.Task
	var at int64
	err := s.queryRow(ctx, `SELECT id, kind, completed, message, updated_at FROM tasks ORDER BY id DESC LIMIT 1`).
		Scan(&t.ID, &t.Kind, &t.Completed, &t.Message, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read task: %w", err)
	}
	t.UpdatedAt = msToTime(at)
	return &t, nil
}

// TaskByID returns a task.
func (s *Store) TaskByID(ctx context.Context, id int64) (*model.Task, error) {
	var t model.Task
	var at int64
	err := s.queryRow(ctx, `SELECT id, kind, completed, message, updated_at FROM tasks WHERE id = $1`, id).
		Scan(&t.ID, &t.Kind, &t.Completed, &t.Message, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read task: %w", err)
	}
	t.UpdatedAt = msToTime(at)
	return &t, nil
}

// accountPINKeySetting is where the key of shared-account PIN hashes is
// kept. It is no runtime setting: nothing lists, shows or changes it.
const accountPINKeySetting = "secret.account-pin-key"

// AccountPINKey returns the site's key for shared-account PIN hashes,
// making it on first use. Several servers may race to make it: the first
// one stored wins and every server reads that one.
func (s *Store) AccountPINKey(ctx context.Context) ([]byte, error) {
	s.pinKeyMu.Lock()
	defer s.pinKeyMu.Unlock()
	if s.pinKey != nil {
		return s.pinKey, nil
	}
	var key []byte
	err := s.InTx(ctx, func(tx *Tx) error {
		k, err := tx.accountPINKey(ctx)
		key = k
		return err
	})
	if err != nil {
		return nil, err
	}
	s.pinKey = key
	return key, nil
}

func (t *Tx) accountPINKey(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("store: unable to make the account PIN key: %w", err)
	}
	if _, err := t.exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`,
		accountPINKeySetting, hex.EncodeToString(fresh), t.s.nowMS()); err != nil {
		return nil, fmt.Errorf("store: unable to store the account PIN key: %w", err)
	}
	v, ok, err := t.Setting(ctx, accountPINKeySetting)
	if err != nil || !ok {
		return nil, fmt.Errorf("store: unable to read the account PIN key: %v", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("store: the account PIN key in the settings table is damaged")
	}
	return key, nil
}

// HashAccountPIN is auth.AccountPINHash under the site's key.
func (s *Store) HashAccountPIN(ctx context.Context, pin string) (string, error) {
	if pin == "" {
		return "", nil
	}
	key, err := s.AccountPINKey(ctx)
	if err != nil {
		return "", err
	}
	return auth.AccountPINHash(key, pin), nil
}
