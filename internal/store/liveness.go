package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Crash recovery. Every process that runs syncs, imports or scheduled jobs
// has one identity, ProcessHolder: "host/pid/nonce". Job locks and running
// sync runs are stamped with it, and a running run's row carries a
// heartbeat (alive_until) this process renews while it lives. A run, or a
// lock, whose holder is gone is recovered at once when the holder was on
// this host and its process is dead, and when its heartbeat or lease
// expired when it was on another host: the run becomes "interrupted" and
// the lock may be taken.

// RunStatusInterrupted is the status of a run whose process stopped
// before it finished.
const RunStatusInterrupted = "interrupted"

const (
	// runHeartbeatTTL is how long a running run is taken as alive after
	// its process last renewed it; it is renewed every runHeartbeatEvery.
	runHeartbeatTTL   = 2 * time.Minute
	runHeartbeatEvery = 30 * time.Second
	// runProgressEvery is how often noted progress is written (a run on
	// SQLite that holds the writer has it written once it lets go).
	runProgressEvery = 2 * time.Second
)

var (
	holderOnce sync.Once
	holderID   string
	hostName   string
)

// ProcessHolder names this process for its sync runs.
func ProcessHolder() string {
	holderOnce.Do(func() { holderID = NewHolder() })
	return holderID
}

// NewHolder is a fresh lock-holder name of this process, for a component
// that must exclude others even in the same process (tests run several
// services in one): host and PID, so HolderGone can judge it, and a nonce.
func NewHolder() string {
	host()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", hostName, os.Getpid(), hex.EncodeToString(b[:]))
}

var hostOnce sync.Once

func host() string {
	hostOnce.Do(func() { hostName, _ = os.Hostname() })
	return hostName
}

// HolderGone reports whether holder is known to be gone: a process of this
// host that no longer runs. A holder on another host, or one this process
// cannot judge, is not known to be gone (its lease or heartbeat decides).
func HolderGone(holder string) bool {
	if holder == "" || holder == ProcessHolder() {
		return false
	}
	parts := strings.Split(holder, "/")
	if len(parts) != 3 || parts[0] != host() {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		// This process's own locks and runs (other nonces belong to other
		// services of this process, alive as long as it is).
		return false
	}
	return !processAlive(pid)
}

// stealLockFromGone hands the named lock to holder when its present holder
// is gone (HolderGone); TryLock calls it when the lock is taken.
func (s *Store) stealLockFromGone(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var current string
	if err := s.queryRow(ctx, `SELECT holder FROM job_locks WHERE name = $1`, name).Scan(&current); err != nil {
		return false, nil // released meanwhile, or unreadable: the caller tries again later
	}
	if !HolderGone(current) {
		return false, nil
	}
	res, err := s.exec(ctx, `UPDATE job_locks SET holder = $3, expires_at = $4 WHERE name = $1 AND holder = $2`,
		name, current, holder, s.nowMS()+ttl.Milliseconds())
	if err != nil {
		return false, fmt.Errorf("store: unable to take lock %q from a stopped process: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecoverInterruptedRuns marks every running run whose process is gone as
// interrupted, keeping the counts it recorded, completes every unfinished
// background task of such a process with a line saying so (getTaskStatus
// then answers completed), and returns how many runs and tasks it closed. It runs at start, before every new run, and on the scheduler's
// tick, so a run killed with its process never blocks or misleads for long.
func (s *Store) RecoverInterruptedRuns(ctx context.Context) (int, error) {
	rows, err := s.query(ctx, `SELECT id, holder, alive_until FROM sync_runs WHERE status = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("store: unable to read running sync runs: %w", err)
	}
	type running struct {
		id         int64
		holder     string
		aliveUntil int64
	}
	var all []running
	for rows.Next() {
		var r running
		if err := rows.Scan(&r.id, &r.holder, &r.aliveUntil); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: unable to read running sync runs: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	now := s.nowMS()
	n, err := s.recoverInterruptedTasks(ctx, now)
	if err != nil {
		return 0, err
	}
	for _, r := range all {
		why := goneReason(r.holder, r.aliveUntil, now)
		if why == "" {
			continue
		}
		res, err := s.exec(ctx, `UPDATE sync_runs SET status = $2, finished_at = $3,
			message = CASE WHEN message = '' THEN $4 ELSE message || ' ' || $4 END WHERE id = $1 AND status = 'running'`,
			r.id, RunStatusInterrupted, now, "Interrupted: "+why+".")
		if err != nil {
			return n, fmt.Errorf("store: unable to mark sync run #%d interrupted: %w", r.id, err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			n++
			if run, err := s.SyncRunByID(ctx, r.id); err == nil {
				recordSyncMetrics(run)
			}
		}
	}
	return n, nil
}

// heartbeat renews alive_until of this process's running runs while the
// store is open; started by the first run.
type heartbeat struct {
	once sync.Once
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	progress map[int64]runProgress // by run id, written with the next beat
}

// runProgress is how far a running run has got, in its own words.
type runProgress struct {
	read int
	note string
}

// NoteSyncRunProgress remembers how far a running run has got: the number
// of entries read and a short note ("applying 45000 of 100000"). The
// heartbeat writes it to the run's row, so a run whose process dies is
// recorded as interrupted with the counts and stage it had reached. It
// costs a map write, so runs may call it for every page they read.
func (s *Store) NoteSyncRunProgress(id int64, read int, note string) {
	s.beat.mu.Lock()
	defer s.beat.mu.Unlock()
	if s.beat.progress == nil {
		s.beat.progress = map[int64]runProgress{}
	}
	s.beat.progress[id] = runProgress{read: read, note: note}
}

// forgetSyncRunProgress drops a finished run's progress.
func (s *Store) forgetSyncRunProgress(id int64) {
	s.beat.mu.Lock()
	defer s.beat.mu.Unlock()
	delete(s.beat.progress, id)
}

// writeProgress writes the noted progress of running runs.
func (s *Store) writeProgress(ctx context.Context) {
	s.beat.mu.Lock()
	noted := make(map[int64]runProgress, len(s.beat.progress))
	for id, p := range s.beat.progress {
		noted[id] = p
	}
	s.beat.progress = nil
	s.beat.mu.Unlock()
	for id, p := range noted {
		msg := ""
		if note := strings.TrimRight(p.note, "…."); note != "" {
			msg = "Reached: " + note + "."
		}
		_, _ = s.exec(ctx, `UPDATE sync_runs SET n_read = $2, message = $3 WHERE id = $1 AND status = 'running'`, id, p.read, msg)
	}
}

func (s *Store) startHeartbeat() {
	s.beat.once.Do(func() {
		s.beat.stop, s.beat.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(s.beat.done)
			t := time.NewTicker(runHeartbeatEvery)
			defer t.Stop()
			p := time.NewTicker(runProgressEvery)
			defer p.Stop()
			for {
				select {
				case <-s.beat.stop:
					return
				case <-p.C:
					ctx, cancel := context.WithTimeout(context.Background(), runProgressEvery)
					s.writeProgress(ctx)
					cancel()
				case <-t.C:
					ctx, cancel := context.WithTimeout(context.Background(), runHeartbeatEvery)
					until := s.nowMS() + runHeartbeatTTL.Milliseconds()
					_, _ = s.exec(ctx, `UPDATE sync_runs SET alive_until = $1 WHERE status = 'running' AND holder = $2`, until, ProcessHolder())
					_, _ = s.exec(ctx, `UPDATE tasks SET alive_until = $1 WHERE completed = $3 AND holder = $2`, until, ProcessHolder(), false)
					cancel()
				}
			}
		}()
	})
}

func (s *Store) stopHeartbeat() {
	if s.beat.stop != nil {
		select {
		case <-s.beat.stop:
		default:
			close(s.beat.stop)
			<-s.beat.done
		}
	}
}

// goneReason says why the holder of a running run or task is taken as
// gone, or "" when it may still be working.
func goneReason(holder string, aliveUntil, now int64) string {
	switch {
	case holder == ProcessHolder():
		return ""
	case holder == "":
		return "it was running when Ream was upgraded or restarted, and no process runs it now"
	case HolderGone(holder):
		return "the process running it (" + holder + ") stopped before it finished"
	case aliveUntil < now:
		return "the server running it (" + holder + ") stopped answering before it finished"
	}
	return ""
}

// recoverInterruptedTasks completes every unfinished background task whose
// process is gone, with a last line saying so, so that getTaskStatus
// pollers stop waiting; it returns how many.
func (s *Store) recoverInterruptedTasks(ctx context.Context, now int64) (int, error) {
	rows, err := s.query(ctx, `SELECT id, holder, alive_until FROM tasks WHERE completed = $1`, false)
	if err != nil {
		return 0, fmt.Errorf("store: unable to read unfinished tasks: %w", err)
	}
	type task struct {
		id, aliveUntil int64
		holder         string
	}
	var open []task
	for rows.Next() {
		var t task
		if err := rows.Scan(&t.id, &t.holder, &t.aliveUntil); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: unable to read unfinished tasks: %w", err)
		}
		open = append(open, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, t := range open {
		why := goneReason(t.holder, t.aliveUntil, now)
		if why == "" {
			continue
		}
		if err := s.AppendTaskMessage(ctx, t.id, "Interrupted: "+why+".", true); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
