package store

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/auth"
)

// LoginJournal is the auth.Journal of servers sharing one database: each
// records its login outcomes in login_events and, before a login decision,
// replays the rows the others wrote since it last looked (one indexed
// query). Several servers behind a load balancer thus count an account's
// and an address's failures together.
//
// Replay follows ids; on PostgreSQL a row whose id was drawn before a
// later one but committed after it is missed, which can only make a limit
// a failure or two more lenient, never refuse a login wrongly.
type LoginJournal struct {
	s      *Store
	holder string
	scope  string
	log    *slog.Logger
	mu     sync.Mutex
	last   int64
}

// loginJournalHistory is how far back a starting server reads the others'
// events: the longest lockout and window of the login limiter.
const loginJournalHistory = time.Hour

// Journal scopes: which limiter's events a journal shares.
const (
	JournalLogins        = "login"         // the login limiter (and current-password checks)
	JournalResetRequests = "reset-request" // "Forgot your password?" requests
	JournalCardAttempts  = "card-attempt"  // the portal's card/ID self-registration attempts
)

// NewLoginJournal starts a journal of the login limiter for this server,
// with the last hour of the other servers' events still to replay.
func NewLoginJournal(ctx context.Context, s *Store, log *slog.Logger) (*LoginJournal, error) {
	return NewLimiterJournal(ctx, s, log, JournalLogins)
}

// NewLimiterJournal is NewLoginJournal for the limiter of scope (a
// Journal… constant): each limiter replays only its own kind of events.
func NewLimiterJournal(ctx context.Context, s *Store, log *slog.Logger, scope string) (*LoginJournal, error) {
	j := &LoginJournal{s: s, holder: NewHolder(), scope: scope, log: log}
	var first int64
	err := s.queryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM login_events WHERE at >= $1 AND scope = $2`,
		s.nowMS()-loginJournalHistory.Milliseconds(), scope).Scan(&first)
	if err != nil {
		return nil, err
	}
	if first > 0 {
		j.last = first - 1
	} else if err := s.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM login_events`).Scan(&j.last); err != nil {
		return nil, err
	}
	return j, nil
}

// Record implements auth.Journal.
func (j *LoginJournal) Record(e auth.LoginEvent) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := j.s.exec(ctx, `INSERT INTO login_events (holder, failure, account, client, familiar, at, scope) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		j.holder, e.Failure, e.Account, e.Client, e.Familiar, e.At.UnixMilli(), j.scope); err != nil {
		j.log.Warn("login limiter: unable to share a login outcome with the other servers", "err", err)
	}
}

// Replay implements auth.Journal.
func (j *LoginJournal) Replay(fn func(auth.LoginEvent)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rows, err := j.s.query(ctx, `SELECT id, failure, account, client, familiar, at FROM login_events
		WHERE id > $1 AND holder <> $2 AND scope = $3 ORDER BY id LIMIT 10000`, j.last, j.holder, j.scope)
	if err != nil {
		j.log.Warn("login limiter: unable to read the other servers' login outcomes", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var e auth.LoginEvent
		var id, at int64
		if err := rows.Scan(&id, &e.Failure, &e.Account, &e.Client, &e.Familiar, &at); err != nil {
			j.log.Warn("login limiter: unable to read the other servers' login outcomes", "err", err)
			return
		}
		e.At = msToTime(at)
		j.last = id
		fn(e)
	}
}

// PurgeLoginEvents forgets login outcomes older than the limiter's longest
// memory (a day).
func (s *Store) PurgeLoginEvents(ctx context.Context) error {
	_, err := s.exec(ctx, `DELETE FROM login_events WHERE at < $1`, s.nowMS()-(24*time.Hour).Milliseconds())
	return err
}
