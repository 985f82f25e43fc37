package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// States of an outbox message. A message is queued until a worker hands it
// to the SMTP server (sent) or gives up on it (failed, with the reason).
const (
	MailQueued = "queued"
	MailSent   = "sent"
	MailFailed = "failed"
)

// MailStates lists the outbox states in display order.
var MailStates = []string{MailQueued, MailSent, MailFailed}

// OutboxMessage is one mail in the durable outbox.
type OutboxMessage struct {
	ID            int64
	Kind          string // what caused it: "card-generated", "test"
	Recipient     string
	Subject       string
	Body          string
	MessageID     string // stable across retries, so a resend is recognisable
	State         string
	Attempts      int // claims so far, including one in progress
	NextAttemptAt time.Time
	ClaimedBy     string
	ClaimedUntil  time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
}

const outboxColumns = `id, kind, recipient, subject, body, message_id, state, attempts, next_attempt_at,
	claimed_by, claimed_until, last_error, created_at, sent_at`

func scanOutbox(row rowScanner) (*OutboxMessage, error) {
	var m OutboxMessage
	var next, until, created int64
	var sent sql.NullInt64
	if err := row.Scan(&m.ID, &m.Kind, &m.Recipient, &m.Subject, &m.Body, &m.MessageID, &m.State, &m.Attempts,
		&next, &m.ClaimedBy, &until, &m.LastError, &created, &sent); err != nil {
		return nil, err
	}
	m.NextAttemptAt, m.ClaimedUntil, m.CreatedAt, m.SentAt = msToTime(next), msToTime(until), msToTime(created), msPtr(sent)
	return &m, nil
}

// outboxInsertBatch rows per INSERT: 6 parameters each stays far below
// SQLite's parameter limit.
const outboxInsertBatch = 500

// QueueMail puts messages in the outbox inside the transaction that causes
// them, so they exist exactly when the change does. Each needs a unique
// MessageID; ID, State, CreatedAt and NextAttemptAt are filled in.
func (t *Tx) QueueMail(ctx context.Context, msgs ...*OutboxMessage) error {
	now := t.s.nowMS()
	for start := 0; start < len(msgs); start += outboxInsertBatch {
		batch := msgs[start:min(start+outboxInsertBatch, len(msgs))]
		var sb strings.Builder
		sb.WriteString(`INSERT INTO outbox (kind, recipient, subject, body, message_id, state, next_attempt_at, created_at) VALUES `)
		args := make([]any, 0, len(batch)*5+1)
		args = append(args, now)
		for i, m := range batch {
			if m.MessageID == "" || m.Recipient == "" {
				return fmt.Errorf("store: unable to queue mail %q: recipient and message id are required", m.Subject)
			}
			if i > 0 {
				sb.WriteByte(',')
			}
			n := len(args)
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,'queued',$1,$1)", n+1, n+2, n+3, n+4, n+5)
			args = append(args, m.Kind, m.Recipient, m.Subject, m.Body, m.MessageID)
		}
		if _, err := t.exec(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("store: unable to queue %d mail(s): %w", len(batch), err)
		}
		for _, m := range batch {
			m.State, m.CreatedAt, m.NextAttemptAt = MailQueued, msToTime(now), msToTime(now)
		}
	}
	return nil
}

// QueueMail queues messages in their own transaction.
func (s *Store) QueueMail(ctx context.Context, msgs ...*OutboxMessage) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.QueueMail(ctx, msgs...) })
}

// ClaimMail leases up to limit due messages to worker for lease: queued,
// due, and not leased to anyone (or leased by someone whose lease ran out,
// e.g. a server that died mid-send). The claim counts as an attempt. Two
// workers never hold the same message: the lease is taken by a conditional
// UPDATE that only one of them can win.
func (s *Store) ClaimMail(ctx context.Context, worker string, lease time.Duration, limit int) ([]*OutboxMessage, error) {
	if worker == "" || limit <= 0 {
		return nil, fmt.Errorf("store: unable to claim mail: a worker name and a positive limit are required")
	}
	now := s.nowMS()
	lock := ""
	if s.flavor == Postgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	var out []*OutboxMessage
	err := s.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= $3 AND claimed_until < $3
				ORDER BY next_attempt_at, id LIMIT $4`+lock+`)
			AND state = 'queued' AND claimed_until < $3
			RETURNING `+outboxColumns, worker, now+lease.Milliseconds(), now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim mail: %w", err)
	}
	return out, nil
}

// ErrLeaseLost is returned when a worker reports on a message it no longer
// holds (its lease ran out and another worker took it).
var ErrLeaseLost = errors.New("outbox lease lost")

// finishMail changes a message the worker holds; ErrLeaseLost when it does
// not hold it any more.
func (s *Store) finishMail(ctx context.Context, id int64, worker, set string, args ...any) error {
	args = append([]any{id, worker}, args...)
	res, err := s.exec(ctx, `UPDATE outbox SET `+set+`, claimed_by = '', claimed_until = 0
		WHERE id = $1 AND claimed_by = $2 AND state = 'queued'`, args...)
	if err != nil {
		return fmt.Errorf("store: unable to update mail #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: mail #%d: %w", id, ErrLeaseLost)
	}
	return nil
}

// MarkMailSent records that the SMTP server accepted the message. It is a
// single-row UPDATE so that the window between acceptance and this record
// (where a crash would lead to a resend) is as short as it can be.
// A mail of a kind in SecretMailKinds loses its body once sent: it held a
// live password link, which the database should keep only as a hash.
func (s *Store) MarkMailSent(ctx context.Context, id int64, worker string) error {
	return s.finishMail(ctx, id, worker, `state = 'sent', sent_at = $3, last_error = '',
		body = CASE WHEN kind IN ('`+strings.Join(SecretMailKinds, "', '")+`') THEN '' ELSE body END`, s.nowMS())
}

// SecretMailKinds are the outbox kinds whose body is a secret (the
// password links' mails, passwordlink.MailKindReset and MailKindSet).
var SecretMailKinds = []string{"password-reset", "password-set"}

// RetryMailLater puts a message back in the queue, due after delay, with the
// reason it could not go now.
func (s *Store) RetryMailLater(ctx context.Context, id int64, worker string, delay time.Duration, reason string) error {
	return s.finishMail(ctx, id, worker, `next_attempt_at = $3, last_error = $4`, s.nowMS()+delay.Milliseconds(), truncate(reason, 1000))
}

// MarkMailFailed gives up on a message, keeping the reason for the admin page.
func (s *Store) MarkMailFailed(ctx context.Context, id int64, worker string, reason string) error {
	return s.finishMail(ctx, id, worker, `state = 'failed', last_error = $3`, truncate(reason, 1000))
}

// RequeueMail puts a failed message back in the queue (an admin's retry),
// with a fresh count of attempts.
func (s *Store) RequeueMail(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_attempt_at = $2, claimed_by = '', claimed_until = 0
		WHERE id = $1 AND state = 'failed'`, id, s.nowMS())
	if err != nil {
		return fmt.Errorf("store: unable to requeue mail #%d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// OutboxMessageByID returns one outbox message.
func (s *Store) OutboxMessageByID(ctx context.Context, id int64) (*OutboxMessage, error) {
	m, err := scanOutbox(s.queryRow(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read mail #%d: %w", id, err)
	}
	return m, nil
}

// ListOutbox returns one page of outbox messages in one state ("" for all),
// newest first, and the total in that state.
func (s *Store) ListOutbox(ctx context.Context, state string, offset, limit int) ([]*OutboxMessage, int, error) {
	where, args := `1=1`, []any{}
	if state != "" {
		where, args = `state = $1`, append(args, state)
	}
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count mail: %w", err)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	args = append(args, limit, max(offset, 0))
	n := len(args)
	rows, err := s.query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE `+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d OFFSET $%d`, n-1, n), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to list mail: %w", err)
	}
	defer rows.Close()
	var out []*OutboxMessage
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("store: unable to read mail: %w", err)
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// OutboxCounts returns the number of messages in each state.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("store: unable to count mail: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for _, st := range MailStates {
		out[st] = 0
	}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("store: unable to count mail: %w", err)
		}
		out[state] = n
	}
	return out, rows.Err()
}

// NextMailDue returns when the earliest queued message is due (zero when
// none is queued), so a worker can sleep until then.
func (s *Store) NextMailDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := s.queryRow(ctx, `SELECT MIN(CASE WHEN claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END)
		FROM outbox WHERE state = 'queued'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("store: unable to read the mail queue: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return msToTime(next.Int64), nil
}
