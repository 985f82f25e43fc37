package accounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/accounts/source"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/safepath"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// Options are one run's choices. DeleteMissing applies to this run only: it
// is never saved and a scheduled run never sets it.
type Options struct {
	Source        string // SourceFile or SourceDirectory
	Location      string // server path, under sync.allowed-roots
	SubAccounts   bool   // directory scan: subdirectories are sub-accounts
	DeleteMissing bool
	ConfirmDelete int // the exact number of deletions confirmed; 0: none
	// Progress (may be nil) is called during the run, from inside its
	// transaction and from the goroutine reading the source. It must
	// return quickly and must not use the database: on SQLite the run
	// holds the only write connection until it ends.
	Progress func(Progress)
}

func (o *Options) report(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// describe says what the run reads and how, for the report and the run record.
func (o *Options) describe() (src, opts string) {
	switch o.Source {
	case SourceFile:
		src = "text file " + o.Location
	case SourceDirectory:
		src = "directory scan of " + o.Location
	default:
		src = o.Source
	}
	var parts []string
	if o.Source == SourceDirectory && o.SubAccounts {
		parts = append(parts, "subdirectories are sub-accounts")
	}
	if o.DeleteMissing {
		parts = append(parts, "delete accounts not in the source")
		if o.ConfirmDelete > 0 {
			parts = append(parts, fmt.Sprintf("confirmed %d deletions", o.ConfirmDelete))
		}
	}
	return src, strings.Join(parts, "; ")
}

// Settings are the saved choices of Accounts > Shared Account Sync.
type Settings struct {
	Source      string // SourceNone, SourceFile or SourceDirectory
	Location    string
	SubAccounts bool
	Schedule    string // ScheduleOff, ScheduleHourly or ScheduleOvernight
}

// Schedules, as the account-sync.schedule setting names them.
const (
	ScheduleOff       = "off"
	ScheduleHourly    = "hourly"
	ScheduleOvernight = "overnight"
)

// Service is the shared account sync and batch import, used by the admin
// pages, the CLI and the API alike.
type Service struct {
	store    *store.Store
	settings *settings.Settings
	roots    []string
	log      *slog.Logger
	holder   string
	now      func() time.Time

	running    sync.Mutex // one run at a time in this process
	scheduled  chan struct{}
	background backgroundRun
}

// lockName is the database lock that keeps two servers from syncing at once.
const lockName = "account-sync"

// lockTTL is how long a run's lock lasts without renewal; a server that
// dies mid-run frees it this soon.
const lockTTL = 2 * time.Minute

// NewService returns the service. allowedRoots is sync.allowed-roots.
func NewService(st *store.Store, set *settings.Settings, allowedRoots []string, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: st, settings: set, roots: allowedRoots, log: log, now: time.Now,
		holder: store.NewHolder(), scheduled: make(chan struct{}, 1)}
}

// SetClock replaces the clock, for tests of the schedule.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

func requireAllAccounts(actor core.Actor) error {
	if !actor.AllAccounts {
		return core.Errorf(core.Forbidden, "shared account sync and batch import need access to all shared accounts, which %s does not have", actor.Name)
	}
	return nil
}

// Settings returns the saved sync settings.
func (s *Service) Settings(ctx context.Context) Settings {
	return Settings{
		Source:      s.settings.Get(ctx, settings.AccountSyncSource),
		Location:    s.settings.Get(ctx, settings.AccountSyncLocation),
		SubAccounts: s.settings.Bool(ctx, settings.AccountSyncSubs),
		Schedule:    s.settings.Get(ctx, settings.AccountSyncSchedule),
	}
}

// Options returns a run's options from the saved settings (never deleting).
func (st Settings) Options() Options {
	return Options{Source: st.Source, Location: st.Location, SubAccounts: st.SubAccounts}
}

// SaveSettings stores the page's choices and restarts the schedule.
func (s *Service) SaveSettings(ctx context.Context, actor core.Actor, st Settings) error {
	if err := requireAllAccounts(actor); err != nil {
		return err
	}
	values := [][2]string{
		{settings.AccountSyncSource, st.Source},
		{settings.AccountSyncLocation, st.Location},
		{settings.AccountSyncSubs, map[bool]string{true: "Y", false: "N"}[st.SubAccounts]},
		{settings.AccountSyncSchedule, st.Schedule},
	}
	for _, v := range values {
		if _, err := settings.Normalize(v[0], v[1]); err != nil {
			return core.Errorf(core.Invalid, "%v", err)
		}
	}
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		for _, v := range values {
			if err := s.settings.Set(ctx, tx, v[0], v[1]); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, actor.Stamp(model.AuditEntry{Action: "account-sync.settings",
			Target: st.Source, Detail: fmt.Sprintf("location %q, subdirectories as sub-accounts %v, schedule %s", st.Location, st.SubAccounts, st.Schedule)}))
	})
	if err != nil {
		return fmt.Errorf("accounts: unable to save the sync settings: %w", err)
	}
	s.restartSchedule()
	return nil
}

// Test reads the source and plans against the current accounts, writing
// nothing at all (not even a run record), and returns the report.
func (s *Service) Test(ctx context.Context, actor core.Actor, opts Options) (*Report, error) {
	if err := requireAllAccounts(actor); err != nil {
		return nil, err
	}
	r := s.newReport(KindSync, &opts, true)
	res, err := readSource(ctx, s.roots, &opts)
	if err != nil {
		return s.sourceFailed(r, err)
	}
	return s.testPlan(ctx, r, res, s.syncPlanOptions(ctx, &opts))
}

// Run synchronizes for real: the plan is made and applied in one database
// transaction, the run is recorded with its report, and one audit entry
// sums it up. A source that cannot be used, or a refused deletion, changes
// nothing; both are reported (Status) rather than returned as errors.
func (s *Service) Run(ctx context.Context, actor core.Actor, opts Options) (*Report, error) {
	if err := requireAllAccounts(actor); err != nil {
		return nil, err
	}
	r := s.newReport(KindSync, &opts, false)
	return s.run(ctx, actor, r, s.syncPlanOptions(ctx, &opts), &opts, func() (*source.Result, error) {
		return readSource(ctx, s.roots, &opts)
	})
}

// BatchImport imports a one-off file (Accounts > Batch Import / Update, the
// API's batchImportSharedAccounts). Accounts it creates are not
// source-managed: an administrator's file is hand-made work, and a later
// sync never deletes them. With deleteMissing, every live account not in
// the file may be deleted — source-managed or not — under the same delete
// limit (measured against all live accounts) and skipped-line rule.
func (s *Service) BatchImport(ctx context.Context, actor core.Actor, name string, r io.Reader, opts Options) (*Report, error) {
	if err := requireAllAccounts(actor); err != nil {
		return nil, err
	}
	opts.Source, opts.Location = SourceFile, name
	rep := s.newReport(KindImport, &opts, false)
	rep.Source = "import file " + name
	plan := s.importPlanOptions(ctx, &opts)
	read := func() (*source.Result, error) { return ReadImport(r, opts.report) }
	return s.run(ctx, actor, rep, plan, &opts, read)
}

// TestBatchImport plans an import file and writes nothing.
func (s *Service) TestBatchImport(ctx context.Context, actor core.Actor, name string, r io.Reader, opts Options) (*Report, error) {
	if err := requireAllAccounts(actor); err != nil {
		return nil, err
	}
	opts.Source, opts.Location = SourceFile, name
	rep := s.newReport(KindImport, &opts, true)
	rep.Source = "import file " + name
	res, err := ReadImport(r, opts.report)
	if err != nil {
		return s.sourceFailed(rep, err)
	}
	return s.testPlan(ctx, rep, res, s.importPlanOptions(ctx, &opts))
}

// BatchImportPath imports the file at path on the server. confine is true
// for callers that must stay under sync.allowed-roots (the API); the CLI is
// for whoever can read the server's configuration and may name any file.
func (s *Service) BatchImportPath(ctx context.Context, actor core.Actor, path string, test, confine bool, opts Options) (*Report, error) {
	if err := requireAllAccounts(actor); err != nil {
		return nil, err
	}
	real := path
	if confine {
		var err error
		if real, err = safepath.Resolve(s.roots, path); err != nil {
			return nil, core.Errorf(core.Invalid, "%v", err)
		}
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, core.Errorf(core.Invalid, "the import file %q cannot be read: %v", path, unwrapPath(err))
	}
	defer f.Close()
	if test {
		return s.TestBatchImport(ctx, actor, path, f, opts)
	}
	return s.BatchImport(ctx, actor, path, f, opts)
}

func (s *Service) newReport(kind string, opts *Options, test bool) *Report {
	src, o := opts.describe()
	return &Report{Kind: kind, Source: src, Options: o, Test: test, Started: s.now()}
}

func (s *Service) limits(ctx context.Context) (pct, max int) {
	return s.settings.Int(ctx, settings.DeleteLimitPercent), s.settings.Int(ctx, settings.DeleteLimitMax)
}

func (s *Service) syncPlanOptions(ctx context.Context, opts *Options) PlanOptions {
	pct, lim := s.limits(ctx)
	return PlanOptions{SourceID: SourceSync, DeleteMissing: opts.DeleteMissing, ConfirmDelete: opts.ConfirmDelete,
		LimitPercent: pct, LimitMax: lim, Comment: "shared account sync"}
}

func (s *Service) importPlanOptions(ctx context.Context, opts *Options) PlanOptions {
	pct, lim := s.limits(ctx)
	return PlanOptions{SourceID: "", DeleteMissing: opts.DeleteMissing, DeleteAll: true, ConfirmDelete: opts.ConfirmDelete,
		LimitPercent: pct, LimitMax: lim, Comment: "batch account import"}
}

// sourceFailed turns a source that cannot be used into a failed report.
func (s *Service) sourceFailed(r *Report, err error) (*Report, error) {
	var se *SourceError
	if !errors.As(err, &se) {
		return nil, err
	}
	r.Status, r.Message, r.Finished = StatusFailed, se.Reason, s.now()
	if se.Result != nil {
		r.Plan = &Plan{Read: se.Result.Count() + len(se.Result.Skipped), Skipped: se.Result.Skipped, Warnings: se.Result.Warnings}
	}
	return r, nil
}

func (s *Service) testPlan(ctx context.Context, r *Report, res *source.Result, po PlanOptions) (*Report, error) {
	var err error
	if po.PINKey, err = s.store.AccountPINKey(ctx); err != nil {
		return nil, err
	}
	current, err := s.store.SyncAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var names *store.AccessNames
	if hasAccessLists(res) {
		if names, err = s.store.AccessNames(ctx); err != nil {
			return nil, err
		}
	}
	r.Plan = Build(res, current, names, po)
	r.Plan.write = planWrites{} // a test's plan is only shown
	r.Status, r.Finished = StatusOK, s.now()
	if r.Plan.Refusal != "" {
		r.Status, r.Message = StatusRefused, r.Plan.Refusal
	}
	return r, nil
}

func hasAccessLists(res *source.Result) bool {
	if res.Packed != nil && res.Packed.HasAccessLists() {
		return true
	}
	for i := range res.Records {
		if res.Records[i].Users != nil || res.Records[i].Groups != nil {
			return true
		}
	}
	return false
}

// errRefused and errSourceFailed roll back a run whose plan was refused
// or whose source could not be used.
var (
	errRefused      = errors.New("accounts: run refused")
	errSourceFailed = errors.New("accounts: source failed")
)

// ErrBusy is returned when another sync or import is running.
var ErrBusy = core.Errorf(core.Conflict, "another shared account sync or batch import is running; try again when it has finished")

// run records, reads, plans and applies one real run.
func (s *Service) run(ctx context.Context, actor core.Actor, r *Report, po PlanOptions, opts *Options, read func() (*source.Result, error)) (*Report, error) {
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Before the run's transaction: on SQLite it holds the one writer.
	if po.PINKey, err = s.store.AccountPINKey(ctx); err != nil {
		return nil, err
	}

	rec := &model.SyncRun{Kind: r.Kind, Source: r.Source, Options: r.Options, StartedBy: actor.Name}
	if err := s.store.StartSyncRun(ctx, rec); err != nil {
		return nil, err
	}
	r.RunID, r.Started = rec.ID, rec.StartedAt
	// Progress is kept with the run too, so a run whose process dies says
	// how far it got.
	report, linesRead := opts.Progress, 0
	opts.Progress = func(p Progress) {
		if p.Phase == PhaseReading {
			linesRead = p.Done
		}
		s.store.NoteSyncRunProgress(rec.ID, linesRead, p.String())
		if report != nil {
			report(p)
		}
	}
	defer func() { opts.Progress = report }()

	// The source is read while the current accounts load: the two halves
	// of a run's reading, on two cores.
	type readResult struct {
		res *source.Result
		err error
	}
	readDone := make(chan readResult, 1)
	go func() {
		res, err := read()
		readDone <- readResult{res, err}
	}()
	var src readResult
	waited := false
	waitSource := func() readResult {
		if !waited {
			src, waited = <-readDone, true
		}
		return src
	}
	defer waitSource() // never leave the reader running past the run
	err = s.store.InTx(ctx, func(tx *store.Tx) error {
		current, err := tx.SyncAccounts(ctx)
		if err != nil {
			return err
		}
		if waitSource().err != nil {
			return errSourceFailed
		}
		res := src.res
		opts.report(Progress{Phase: PhasePlanning})
		var names *store.AccessNames
		if hasAccessLists(res) {
			if names, err = tx.AccessNames(ctx); err != nil {
				return err
			}
		}
		r.Plan = Build(res, current, names, po)
		// The plan holds what it needs (the packed records for the new
		// accounts); the current accounts can go before the writes start.
		current = nil
		if r.Plan.Refusal != "" {
			return errRefused
		}
		err = Apply(ctx, tx, r.Plan, actor.Name, func(done, total int) {
			opts.report(Progress{Phase: PhaseApplying, Done: done, Total: total})
		})
		if err != nil {
			return err
		}
		c := r.Plan.Counts()
		return tx.Audit(ctx, actor.Stamp(model.AuditEntry{Action: r.Kind + ".run", Target: r.Source,
			Detail: fmt.Sprintf("run #%d: created %d, updated %d, unchanged %d, deleted %d, skipped %d lines",
				rec.ID, c.Created, c.Updated, c.Unchanged, c.Deleted, c.Skipped)}))
	})
	r.Finished = s.now()
	switch {
	case errors.Is(err, errSourceFailed):
		if _, ferr := s.sourceFailed(r, src.err); ferr != nil {
			return nil, s.finish(ctx, rec, r, ferr)
		}
		return r, s.finish(ctx, rec, r, nil)
	case errors.Is(err, errRefused):
		r.Status, r.Message = StatusRefused, r.Plan.Refusal
		return r, s.finish(ctx, rec, r, nil)
	case err != nil:
		r.Status, r.Message = StatusFailed, "the changes could not be saved, so none were made: "+err.Error()
		return r, s.finish(ctx, rec, r, err)
	}
	r.Status = StatusOK
	return r, s.finish(ctx, rec, r, nil)
}

// finish records the run's outcome, even when the run's context was
// cancelled, and returns runErr (or the recording error).
func (s *Service) finish(ctx context.Context, rec *model.SyncRun, r *Report, runErr error) error {
	rec.Status, rec.Message, rec.Counts, rec.Report = r.Status, r.Message, r.Counts(), r.Text()
	if err := s.store.FinishSyncRun(context.WithoutCancel(ctx), rec); err != nil {
		s.log.Error("sync run outcome not recorded", "run", rec.ID, "err", err)
		if runErr == nil {
			runErr = err
		}
	}
	if r.Status != StatusOK {
		s.log.Warn("shared account run did not apply", "kind", r.Kind, "run", rec.ID, "status", r.Status, "reason", r.Message)
	} else {
		c := rec.Counts
		s.log.Info("shared account run done", "kind", r.Kind, "run", rec.ID, "created", c.Created, "updated", c.Updated,
			"deleted", c.Deleted, "skipped", c.Skipped, "seconds", r.Finished.Sub(r.Started).Seconds())
	}
	return runErr
}

// lock takes the in-process lock and the database lease that keeps other
// servers sharing the database from running a sync at the same time. The
// lease is renewed while the run lasts.
func (s *Service) lock(ctx context.Context) (unlock func(), err error) {
	if !s.running.TryLock() {
		return nil, ErrBusy
	}
	ok, err := s.store.TryLock(ctx, lockName, s.holder, lockTTL)
	if err != nil || !ok {
		s.running.Unlock()
		if err != nil {
			return nil, err
		}
		return nil, ErrBusy
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lockTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if _, err := s.store.TryLock(context.WithoutCancel(ctx), lockName, s.holder, lockTTL); err != nil {
					s.log.Warn("sync lock not renewed", "err", err)
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		if err := s.store.Unlock(context.WithoutCancel(ctx), lockName, s.holder); err != nil {
			s.log.Warn("sync lock not released", "err", err)
		}
		s.running.Unlock()
	}, nil
}
