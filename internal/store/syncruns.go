package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
)

// StartSyncRun records the start of a sync or import run.
func (s *Store) StartSyncRun(ctx context.Context, r *model.SyncRun) error {
	// Runs whose process died are closed first, so the history never
	// shows two runs "running" where only one can be.
	if _, err := s.RecoverInterruptedRuns(ctx); err != nil {
		return err
	}
	now := s.nowMS()
	if r.Status == "" {
		r.Status = "running"
	}
	// Counts.Read, when known at the start (a parsed batch file), is kept
	// from the start: an interrupted run still says how much it had.
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO sync_runs (kind, source, options, started_by, test, status, started_at, holder, alive_until, n_read)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`), r.Kind, r.Source, r.Options, r.StartedBy, r.Test, r.Status, now,
		ProcessHolder(), now+runHeartbeatTTL.Milliseconds(), r.Counts.Read).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: unable to record sync run: %w", err)
	}
	r.StartedAt = msToTime(now)
	s.startHeartbeat()
	return nil
}

// FinishSyncRun writes the outcome of a run. Called outside the run's own
// transaction so that a failed run is still recorded.
func (s *Store) FinishSyncRun(ctx context.Context, r *model.SyncRun) error {
	s.forgetSyncRunProgress(r.ID)
	now := s.nowMS()
	c := r.Counts
	_, err := s.exec(ctx, `UPDATE sync_runs SET status=$2, message=$3, n_read=$4, n_created=$5, n_updated=$6, n_unchanged=$7,
		n_deleted=$8, n_skipped=$9, n_errors=$10, report=$11, finished_at=$12 WHERE id=$1`,
		r.ID, r.Status, r.Message, c.Read, c.Created, c.Updated, c.Unchanged, c.Deleted, c.Skipped, c.Errors, r.Report, now)
	if err != nil {
		return fmt.Errorf("store: unable to finish sync run #%d: %w", r.ID, err)
	}
	t := msToTime(now)
	r.FinishedAt = &t
	recordSyncMetrics(r)
	return nil
}

// recordSyncMetrics counts a finished run for /metrics. Every sync and
// import of every kind ends here, so this is the one place to count them.
func recordSyncMetrics(r *model.SyncRun) {
	if r.Test {
		return
	}
	metrics.SyncRuns.WithLabelValues(r.Kind, r.Status).Inc()
	if r.FinishedAt != nil && !r.StartedAt.IsZero() {
		metrics.SyncDuration.WithLabelValues(r.Kind).Observe(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	c := r.Counts
	for outcome, n := range map[string]int{"created": c.Created, "updated": c.Updated, "unchanged": c.Unchanged,
		"deleted": c.Deleted, "skipped": c.Skipped, "errors": c.Errors} {
		if n > 0 {
			metrics.SyncItems.WithLabelValues(r.Kind, outcome).Add(float64(n))
		}
	}
}

const syncRunColumns = `id, kind, source, options, started_by, test, status, message, n_read, n_created, n_updated,
	n_unchanged, n_deleted, n_skipped, n_errors, started_at, finished_at`

func scanSyncRun(row rowScanner, withReport bool) (*model.SyncRun, error) {
	var r model.SyncRun
	var started int64
	var finished sql.NullInt64
	dest := []any{&r.ID, &r.Kind, &r.Source, &r.Options, &r.StartedBy, &r.Test, &r.Status, &r.Message,
		&r.Counts.Read, &r.Counts.Created, &r.Counts.Updated, &r.Counts.Unchanged, &r.Counts.Deleted,
		&r.Counts.Skipped, &r.Counts.Errors, &started, &finished}
	if withReport {
		dest = append(dest, &r.Report)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.StartedAt, r.FinishedAt = msToTime(started), msPtr(finished)
	return &r, nil
}

// SyncRunByID returns one run with its report.
func (s *Store) SyncRunByID(ctx context.Context, id int64) (*model.SyncRun, error) {
	r, err := scanSyncRun(s.queryRow(ctx, `SELECT `+syncRunColumns+`, report FROM sync_runs WHERE id = $1`, id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read sync run: %w", err)
	}
	return r, nil
}

// ListSyncRuns lists runs newest first, of one kind when kind is not empty (reports not included).
func (s *Store) ListSyncRuns(ctx context.Context, kind string, offset, limit int) ([]*model.SyncRun, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM sync_runs WHERE $1 = '' OR kind = $1`, kind).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: unable to count sync runs: %w", err)
	}
	rows, err := s.query(ctx, `SELECT `+syncRunColumns+` FROM sync_runs WHERE $1 = '' OR kind = $1 ORDER BY id DESC LIMIT $2 OFFSET $3`, kind, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("store: unable to list sync runs: %w", err)
	}
	defer rows.Close()
	var out []*model.SyncRun
	for rows.Next() {
		r, err := scanSyncRun(rows, false)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// DailyCount is one point of the dashboard chart.
type DailyCount struct {
	Day      string // YYYY-MM-DD, server time
	Users    int
	Accounts int
}

// RecordDailyCounts stores today's user and account counts (idempotent per day).
func (s *Store) RecordDailyCounts(ctx context.Context, day string) error {
	users, err := s.CountUsers(ctx)
	if err != nil {
		return err
	}
	accounts, err := s.CountAccounts(ctx)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, `INSERT INTO stats_daily (day, users, accounts) VALUES ($1,$2,$3)
		ON CONFLICT (day) DO UPDATE SET users = excluded.users, accounts = excluded.accounts`, day, users, accounts)
	return err
}

// DailyCounts returns the last n days of counts, oldest first.
func (s *Store) DailyCounts(ctx context.Context, n int) ([]DailyCount, error) {
	rows, err := s.query(ctx, `SELECT day, users, accounts FROM stats_daily ORDER BY day DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read daily counts: %w", err)
	}
	defer rows.Close()
	var out []DailyCount
	for rows.Next() {
		var d DailyCount
		if err := rows.Scan(&d.Day, &d.Users, &d.Accounts); err != nil {
			return nil, err
		}
		out = append([]DailyCount{d}, out...)
	}
	return out, rows.Err()
}

// LastSuccessfulSyncs returns, per kind, when its last successful ("ok")
// run finished; test runs do not count. It reads the shared table, so
// every server of a site answers for the whole site.
func (s *Store) LastSuccessfulSyncs(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.query(ctx, `SELECT kind, MAX(finished_at) FROM sync_runs WHERE status = 'ok' AND test = $1 AND finished_at IS NOT NULL GROUP BY kind`, false)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the last sync runs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var kind string
		var at int64
		if err := rows.Scan(&kind, &at); err != nil {
			return nil, fmt.Errorf("store: unable to read the last sync runs: %w", err)
		}
		out[kind] = msToTime(at)
	}
	return out, rows.Err()
}
