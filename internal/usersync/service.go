package usersync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
)

// RunKind is the sync run kind of user/group syncs.
const RunKind = "users"

// Service runs user/group syncs, batch user imports and directory logins.
type Service struct {
	Core     *core.Core
	Store    *store.Store
	Settings *settings.Settings
	Config   *config.Config
	Log      *slog.Logger
	// Tasks runs syncs started from the API and the admin page in the
	// background; getTaskStatus reports them.
	Tasks *tasks.Runner
	// Instance names this server for the nightly job lock.
	Instance string

	// BuildSource makes the configured source; tests replace it.
	BuildSource func(ctx context.Context) (*Source, error)

	running sync.Mutex // one sync at a time on this server
	lastDay string     // day of the last scheduled run started here

	statusMu sync.Mutex
	status   RunStatus
}

// RunStatus is how far the sync running on this server has got, for the
// admin page's progress.
type RunStatus struct {
	Running     bool
	Stage       string
	Done, Total int
	RunID       int64 // the run in progress, or the last one run here
}

// Status returns the progress of the sync on this server.
func (s *Service) Status() RunStatus {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.status
}

func (s *Service) setStatus(f func(st *RunStatus)) {
	s.statusMu.Lock()
	f(&s.status)
	s.statusMu.Unlock()
}

// Start runs a sync in the background (as a task that getTaskStatus
// reports) and returns at once; Status follows it.
func (s *Service) Start(ctx context.Context, a core.Actor, opts Options) error {
	if s.Status().Running {
		return core.Errorf(core.Conflict, "a user/group sync is already running on this server")
	}
	if s.Tasks == nil {
		return core.Errorf(core.Invalid, "background tasks are not available")
	}
	_, err := s.Tasks.Start(ctx, "user-sync", "User/group sync started.", func(ctx context.Context, progress tasks.Progress) (string, error) {
		return outcomeText(s.Run(ctx, a, opts, false, lineProgress(progress)))
	})
	return err
}

// TestWith runs a test with a source configuration that is not saved yet
// (the admin page's Test settings).
func (s *Service) TestWith(ctx context.Context, a core.Actor, sc SourceConfig, opts Options) (*Outcome, error) {
	src, err := sc.Build(s.Config)
	if err != nil {
		return nil, err
	}
	return s.execute(ctx, a, job{opts: opts, test: true, src: src}, nil)
}

// New returns a service over core's parts.
func New(c *core.Core, tr *tasks.Runner) *Service {
	s := &Service{Core: c, Store: c.Store, Settings: c.Settings, Config: c.Config, Log: c.Log, Tasks: tr,
		Instance: store.NewHolder()}
	s.BuildSource = s.configuredSource
	return s
}

func (s *Service) configuredSource(ctx context.Context) (*Source, error) {
	sc, err := LoadSourceConfig(ctx, s.Settings)
	if err != nil {
		return nil, err
	}
	return sc.Build(s.Config)
}

// SourceConfigured reports whether a user/group sync source is chosen.
func (s *Service) SourceConfigured(ctx context.Context) bool {
	return s.Settings.Get(ctx, settings.UserSyncSource) != SourceNone
}

// OptionsFromSettings returns the remembered options of a run. Deleting
// is never remembered: DeleteMissing is always false here.
func (s *Service) OptionsFromSettings(ctx context.Context) Options {
	o := Options{
		ImportNew:          s.Settings.Bool(ctx, settings.UserSyncImportNew),
		UpdateDetails:      s.Settings.Bool(ctx, settings.UserSyncUpdate),
		SkipDisabled:       s.Settings.Bool(ctx, settings.UserSyncSkipDisabled),
		DeleteLimitPercent: s.Settings.Int(ctx, settings.DeleteLimitPercent),
		DeleteLimitMax:     s.Settings.Int(ctx, settings.DeleteLimitMax),
	}
	for _, line := range strings.Split(s.Settings.Get(ctx, settings.UserSyncOnlyGroups), "\n") {
		if g := strings.TrimSpace(line); g != "" {
			o.OnlyGroups = append(o.OnlyGroups, g)
		}
	}
	return o
}

// Progress reports a run's stage and, where known, how far it is.
// StageApplying is reported from inside the run's transaction: a Progress
// must not write to the database then.
type Progress func(stage string, done, total int)

// Stages of a run, in order.
const (
	StageReading  = "reading users"
	StagePlanning = "planning"
	StageApplying = "applying"
)

// Outcome is the result of a run: the plan and its recorded run.
type Outcome struct {
	Plan *Plan
	Run  *model.SyncRun
}

// DeleteLimitError is returned when a run stops before changing anything
// because it would delete more users than the limit, or deletes while
// source entries were skipped.
type DeleteLimitError struct {
	Deletes int
	Limit   int
	Reason  string
}

func (e *DeleteLimitError) Error() string { return "user sync refused: " + e.Reason }

// Run reads the source, plans and, unless test, applies the plan in one
// transaction. Every run is recorded; a failed or refused one changes
// nothing. progress may be nil.
func (s *Service) Run(ctx context.Context, a core.Actor, opts Options, test bool, progress Progress) (*Outcome, error) {
	return s.execute(ctx, a, job{opts: opts, test: test}, progress)
}

// job is one run: a whole sync, or the import or refresh of one group.
type job struct {
	opts  Options
	test  bool
	group string // "": every user; else only this group and its members
	// createGroup lets a group run create the group when Ream lacks it.
	createGroup bool
	src         *Source // nil: the configured source
}

func (s *Service) execute(ctx context.Context, a core.Actor, j job, progress Progress) (*Outcome, error) {
	opts, test := j.opts, j.test
	if !s.running.TryLock() {
		return nil, core.Errorf(core.Conflict, "a user/group sync is already running on this server")
	}
	defer s.running.Unlock()
	src := j.src
	if src == nil {
		var err error
		if src, err = s.BuildSource(ctx); err != nil {
			return nil, err
		}
	}
	report := progress
	var run *model.SyncRun
	read := 0
	progress = func(stage string, done, total int) {
		s.setStatus(func(st *RunStatus) { st.Stage, st.Done, st.Total = stage, done, total })
		if stage == StageReading {
			read = done
		}
		// Kept with the run, so a run whose process dies says how far it got.
		s.Store.NoteSyncRunProgress(run.ID, read, progressNote(stage, done, total))
		if report != nil {
			report(stage, done, total)
		}
	}
	run = &model.SyncRun{Kind: RunKind, Source: src.Name(), Options: describeOptions(opts), StartedBy: a.Name, Test: test}
	if j.group != "" {
		run.Options = "group " + j.group + "; " + run.Options
	}
	if err := s.Store.StartSyncRun(ctx, run); err != nil {
		return nil, err
	}
	s.setStatus(func(st *RunStatus) { *st = RunStatus{Running: true, Stage: StageReading, RunID: run.ID} })
	defer s.setStatus(func(st *RunStatus) { st.Running = false })
	out := &Outcome{Run: run}
	plan, err := s.run(ctx, a, src, j, run, progress)
	out.Plan = plan
	if plan != nil {
		run.Counts = plan.Counts()
		run.Report = plan.Report()
	}
	var refused *DeleteLimitError
	switch {
	case errors.As(err, &refused):
		run.Status, run.Message = "refused", refused.Reason
	case err != nil:
		run.Status, run.Message = "failed", err.Error()
		if plan != nil && !test {
			run.Counts = model.SyncCounts{Read: plan.Read, Skipped: len(plan.Skipped)}
		}
	default:
		run.Status, run.Message = "ok", summary(plan, test)
	}
	// The outcome is recorded even when the caller has gone away.
	if ferr := s.Store.FinishSyncRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		s.Log.Warn("user sync did not complete", "run", run.ID, "status", run.Status, "err", err)
	} else {
		s.Log.Info("user sync done", "run", run.ID, "test", test, "created", run.Counts.Created,
			"updated", run.Counts.Updated, "deleted", run.Counts.Deleted)
	}
	return out, err
}

func (s *Service) run(ctx context.Context, a core.Actor, src *Source, j job, run *model.SyncRun, progress Progress) (*Plan, error) {
	opts := j.opts
	progress(StageReading, 0, 0)
	readOpts := directory.ReadOptions{Groups: opts.OnlyGroups, IncludeDisabled: !opts.SkipDisabled}
	readProgress := func(n int) { progress(StageReading, n, 0) }
	if j.group != "" {
		res, err := src.Read(ctx, readOpts, readProgress)
		if plan, err := readFailure(src, res, err); err != nil {
			return plan, err
		}
		return s.runGroup(ctx, a, src, j, res, run, progress)
	}
	// Ream's users load while the source is read: the two halves of a
	// run's reading, on two cores.
	loaded := make(chan loadedSnapshot, 1)
	go func() {
		snap, err := s.snapshot(ctx, nil)
		loaded <- loadedSnapshot{snap, err}
	}()
	if pages, ok := src.Source.(pageSource); ok && !j.test && opts.ImportNew {
		return s.runStreaming(ctx, a, src, pages, opts, readOpts, readProgress, loaded, run, progress)
	}
	res, err := src.Read(ctx, readOpts, readProgress)
	before := <-loaded // never leave the loader running past the run
	if plan, err := readFailure(src, res, err); err != nil {
		return plan, err
	}
	if before.err != nil {
		return nil, before.err
	}
	return s.planAndApply(ctx, a, src, j.test, opts, res, before.snap, run, progress)
}

// readFailure turns a failed or empty read into the run's error.
func readFailure(src *Source, res *directory.Result, err error) (*Plan, error) {
	if err != nil {
		return nil, fmt.Errorf("usersync: the source could not be read, nothing was changed: %w%s", err, directoryHint(err))
	}
	if len(res.Users) == 0 {
		return &Plan{Source: src.Name(), Skipped: res.Skipped}, fmt.Errorf("usersync: nothing was changed: %w", directory.ErrEmptySource)
	}
	return nil, nil
}

// planAndApply plans a whole read against before, Ream's users loaded
// outside any transaction, and applies the plan unless test.
func (s *Service) planAndApply(ctx context.Context, a core.Actor, src *Source, test bool, opts Options, res *directory.Result, before *Snapshot, run *model.SyncRun, progress Progress) (*Plan, error) {
	progress(StagePlanning, len(res.Users), len(res.Users))
	plan := BuildPlan(src, res, before, opts)
	if test {
		return plan, nil
	}
	if plan.Refusal != "" {
		return plan, &DeleteLimitError{Deletes: len(plan.Delete), Limit: plan.DeleteLimit, Reason: plan.Refusal}
	}
	if !plan.writes() {
		// Nothing to change: the run is recorded, the database is not touched.
		return plan, nil
	}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		// The plan was made from users loaded outside this transaction;
		// it stands only if they are still the same now that nobody else
		// can change them.
		snap, err := s.snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if !sameSnapshot(before, snap) {
			plan = BuildPlan(src, res, snap, opts)
			if plan.Refusal != "" {
				return &DeleteLimitError{Deletes: len(plan.Delete), Limit: plan.DeleteLimit, Reason: plan.Refusal}
			}
			if !plan.writes() {
				return nil
			}
		}
		return s.apply(ctx, tx, a, plan, run, progress)
	})
	return plan, err
}

// runGroup applies the import or refresh of one group in one transaction.
func (s *Service) runGroup(ctx context.Context, a core.Actor, src *Source, j job, res *directory.Result, run *model.SyncRun, progress Progress) (*Plan, error) {
	res, err := onlyGroup(res, j.group)
	if err != nil {
		return nil, err
	}
	opts := j.opts
	opts.OnlyGroups, opts.DeleteMissing = []string{res.Groups[0].Name}, false
	progress(StagePlanning, len(res.Users), len(res.Users))
	if j.test {
		snap, err := s.snapshot(ctx, nil)
		if err != nil {
			return nil, err
		}
		return BuildPlan(src, res, snap, opts), nil
	}
	var plan *Plan
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := trackGroup(ctx, tx, j.group, src.Name(), j.createGroup); err != nil {
			return err
		}
		snap, err := s.snapshot(ctx, tx)
		if err != nil {
			return err
		}
		// A group run refreshes that group alone.
		for i := range snap.Groups {
			snap.Groups[i].Tracked = strings.EqualFold(snap.Groups[i].Name, j.group)
		}
		plan = BuildPlan(src, res, snap, opts)
		if plan.Refusal != "" {
			return &DeleteLimitError{Deletes: len(plan.Delete), Limit: plan.DeleteLimit, Reason: plan.Refusal}
		}
		return s.apply(ctx, tx, a, plan, run, progress)
	})
	return plan, err
}

// sameSnapshot reports whether two snapshots hold the same users (balances
// aside: a sync never writes them), groups and tracked members.
func sameSnapshot(a, b *Snapshot) bool {
	if len(a.Users) != len(b.Users) || len(a.Groups) != len(b.Groups) || len(a.TrackedMembers) != len(b.TrackedMembers) {
		return false
	}
	for i, u := range a.Users {
		x, y := *u, *b.Users[i]
		x.Balance, y.Balance = 0, 0
		if x != y {
			return false
		}
	}
	for i, g := range a.Groups {
		if g != b.Groups[i] {
			return false
		}
	}
	for id, members := range a.TrackedMembers {
		if !slices.Equal(members, b.TrackedMembers[id]) {
			return false
		}
	}
	return true
}

// snapshot reads Ream's side of a plan, inside tx when tx is not nil.
func (s *Service) snapshot(ctx context.Context, tx *store.Tx) (*Snapshot, error) {
	snap := &Snapshot{}
	var err error
	if tx == nil {
		if snap.Users, err = s.Store.LiveUsers(ctx); err != nil {
			return nil, err
		}
		if snap.Groups, err = s.Store.AllGroups(ctx); err != nil {
			return nil, err
		}
		snap.TrackedMembers, err = s.Store.TrackedGroupMembers(ctx)
		return snap, err
	}
	if snap.Users, err = tx.LiveUsers(ctx); err != nil {
		return nil, err
	}
	if snap.Groups, err = tx.AllGroups(ctx); err != nil {
		return nil, err
	}
	snap.TrackedMembers, err = tx.TrackedGroupMembers(ctx)
	return snap, err
}

func describeOptions(o Options) string {
	var parts []string
	flag := func(on bool, name string) {
		if on {
			parts = append(parts, name)
		}
	}
	flag(o.ImportNew, "import new users")
	flag(o.UpdateDetails, "update details")
	flag(o.SkipDisabled, "skip disabled accounts")
	flag(o.DeleteMissing, "delete missing users")
	if len(o.OnlyGroups) > 0 {
		parts = append(parts, "only members of "+strings.Join(o.OnlyGroups, ", "))
	}
	if o.ConfirmDelete > 0 {
		parts = append(parts, fmt.Sprintf("%d deletions confirmed", o.ConfirmDelete))
	}
	return strings.Join(parts, "; ")
}

func summary(p *Plan, test bool) string {
	c := p.Counts()
	verb := "Synchronized"
	if test {
		verb = "Test only, nothing written"
	}
	return fmt.Sprintf("%s: %d read, %d created, %d updated, %d unchanged, %d deleted, %d skipped.",
		verb, c.Read, c.Created, c.Updated, c.Unchanged, c.Deleted, c.Skipped)
}

// lockTTL keeps the nightly lock for the rest of the day, so that a server
// whose clock is a little late does not run the same night's sync again.
const lockTTL = 36 * time.Hour

// NextRun returns when the nightly sync next runs after now, or the zero
// time when the schedule is off or no source is configured.
func (s *Service) NextRun(ctx context.Context, now time.Time) time.Time {
	if s.Settings.Get(ctx, settings.UserSyncSchedule) != "nightly" || !s.SourceConfigured(ctx) {
		return time.Time{}
	}
	return nextAt(now, s.Settings.Get(ctx, settings.UserSyncTime))
}

// nextAt is the first time strictly after now at clock (HH:MM) in now's zone.
func nextAt(now time.Time, clock string) time.Time {
	t, err := time.Parse("15:04", clock)
	if err != nil {
		t, _ = time.Parse("15:04", "00:55")
	}
	at := time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), 0, 0, now.Location())
	if !at.After(now) {
		at = time.Date(now.Year(), now.Month(), now.Day()+1, t.Hour(), t.Minute(), 0, 0, now.Location())
	}
	return at
}

// RunScheduled runs the nightly sync, on exactly one of the servers that
// share the database: the first to take that day's job lock. It never
// deletes. It returns nil without running when the schedule is off, no
// source is set, or another server has the lock.
func (s *Service) RunScheduled(ctx context.Context) error {
	if s.Settings.Get(ctx, settings.UserSyncSchedule) != "nightly" || !s.SourceConfigured(ctx) {
		return nil
	}
	day := time.Now().Format("2006-01-02")
	if s.lastDay == day {
		return nil
	}
	ok, err := s.Store.TryLock(ctx, "user-sync:"+day, s.Instance, lockTTL)
	if err != nil || !ok {
		return err
	}
	s.lastDay = day
	opts := s.OptionsFromSettings(ctx)
	opts.DeleteMissing = false
	_, err = s.Run(ctx, core.Scheduler, opts, false, nil)
	return err
}

// progressNote says how far a run got, for its record.
func progressNote(stage string, done, total int) string {
	if total > 0 {
		return fmt.Sprintf("%s, %d of %d", stage, done, total)
	}
	return fmt.Sprintf("%s, %d so far", stage, done)
}
