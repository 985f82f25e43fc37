package usersync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// pageSource is a source that hands over each page of users as it is read
// (directory.LDAPSource).
type pageSource interface {
	ReadPages(ctx context.Context, opts directory.ReadOptions, progress func(n int), page func([]directory.UserRecord) error) (*directory.Result, error)
}

// loadedSnapshot is the outcome of loading a snapshot in the background.
type loadedSnapshot struct {
	snap *Snapshot
	err  error
}

// readOutcome is the outcome of a read in the background.
type readOutcome struct {
	res *directory.Result
	err error
}

// errStreamedDiffers stops a run whose users created during the read turn
// out not to be exactly those the plan creates; the run is then applied
// again from the start without streaming.
var errStreamedDiffers = errors.New("usersync: the users created during the read differ from the plan")

// pageBuffer is how many pages the read may run ahead of the inserts. The
// read keeps every user for the plan anyway, so it should never wait: not
// while Ream's users load, nor while inserts catch up.
const pageBuffer = 4096

// runStreaming runs a sync whose new users are inserted while later pages
// of the directory are still being read. Until a page brings a new user
// nothing is written and no transaction is open. From then on every write
// is in one transaction that is rolled back when the read fails or comes
// back empty, when the plan of the whole read is refused (the delete limit
// needs every user) or when it fails to apply: nothing changes unless the
// whole run does. The plan of the whole read stays the authority: the
// users created early must be exactly users it creates, or the run is
// applied again without streaming.
func (s *Service) runStreaming(ctx context.Context, a core.Actor, src *Source, ps pageSource, opts Options, readOpts directory.ReadOptions, readProgress func(int), loaded <-chan loadedSnapshot, run *model.SyncRun, progress Progress) (*Plan, error) {
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []directory.UserRecord, pageBuffer)
	done := make(chan readOutcome, 1)
	go func() {
		res, err := ps.ReadPages(readCtx, readOpts, readProgress, func(users []directory.UserRecord) error {
			select {
			case pages <- users:
				return nil
			case <-readCtx.Done():
				return readCtx.Err()
			}
		})
		close(pages)
		done <- readOutcome{res, err}
	}()
	var read readOutcome
	finished := false
	finish := func() readOutcome {
		if !finished {
			for range pages { // drained so that a stopped reader is never blocked
			}
			read, finished = <-done, true
		}
		return read
	}
	defer func() {
		cancel()
		finish()
	}()

	before := <-loaded
	if before.err != nil {
		return nil, before.err
	}
	st := newStreamer(src, before.snap)
	var first []directory.UserRecord
	for users := range pages {
		if st.anyNew(users) {
			first = users
			break
		}
	}
	if first == nil {
		// No new users: plan the whole read like any other run.
		out := finish()
		if plan, err := readFailure(src, out.res, out.err); err != nil {
			return plan, err
		}
		return s.planAndApply(ctx, a, src, false, opts, out.res, before.snap, run, progress)
	}

	var plan *Plan
	why := fmt.Sprintf("created by user/group sync run #%d from %s", run.ID, src.Name())
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		snap, err := s.snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if !sameSnapshot(before.snap, snap) {
			st = newStreamer(src, snap)
		}
		for batch := [][]directory.UserRecord{first}; batch != nil; batch = nextPages(pages) {
			if err := st.create(ctx, s.Core, tx, a, batch, why); err != nil {
				return err
			}
		}
		out := finish()
		if p, err := readFailure(src, out.res, out.err); err != nil {
			plan = p
			return err
		}
		progress(StagePlanning, len(out.res.Users), len(out.res.Users))
		plan = BuildPlan(src, out.res, snap, opts)
		if plan.Refusal != "" {
			return &DeleteLimitError{Deletes: len(plan.Delete), Limit: plan.DeleteLimit, Reason: plan.Refusal}
		}
		if !st.matches(plan) {
			return errStreamedDiffers
		}
		return s.apply(ctx, tx, a, plan, run, progress)
	})
	if !errors.Is(err, errStreamedDiffers) {
		return plan, err
	}
	s.Log.Warn("user sync: users created during the read differ from the plan; applying the plan again without streaming", "run", run.ID)
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		snap, err := s.snapshot(ctx, tx)
		if err != nil {
			return err
		}
		plan = BuildPlan(src, read.res, snap, opts)
		if plan.Refusal != "" {
			return &DeleteLimitError{Deletes: len(plan.Delete), Limit: plan.DeleteLimit, Reason: plan.Refusal}
		}
		return s.apply(ctx, tx, a, plan, run, progress)
	})
	return plan, err
}

// nextPages waits for the next page and takes with it every page already
// waiting, so that inserts that fall behind the read catch up in bigger
// statements. It returns nil when the read has ended.
func nextPages(pages <-chan []directory.UserRecord) [][]directory.UserRecord {
	users, ok := <-pages
	if !ok {
		return nil
	}
	batch := [][]directory.UserRecord{users}
	for {
		select {
		case more, ok := <-pages:
			if !ok {
				return batch
			}
			batch = append(batch, more)
		default:
			return batch
		}
	}
}

// streamer creates, page by page, the new users whose record the rest of
// the read cannot change: a username Ream does not have and card numbers
// nobody holds. Anything less certain is left to the plan.
type streamer struct {
	src       *Source
	known     map[string]bool // usernames of the snapshot's users
	cardOwner *cardOwners     // card numbers taken, by the snapshot's users or created ones
	pending   int64           // owner of the cards of a user not created yet
	created   map[string]*model.User
}

func newStreamer(src *Source, snap *Snapshot) *streamer {
	st := &streamer{src: src, known: make(map[string]bool, len(snap.Users)), cardOwner: &cardOwners{users: snap.Users},
		pending: -1, created: make(map[string]*model.User)}
	for _, u := range snap.Users {
		st.known[u.Username] = true
	}
	return st
}

// anyNew reports whether a page has a user Ream does not have.
func (st *streamer) anyNew(users []directory.UserRecord) bool {
	for _, r := range users {
		if !st.known[r.Username] {
			return true
		}
	}
	return false
}

// create inserts the new users of some pages (with the new-user hooks)
// inside tx.
func (st *streamer) create(ctx context.Context, c *core.Core, tx *store.Tx, a core.Actor, pages [][]directory.UserRecord, why string) error {
	var out []*model.User
	for _, page := range pages {
		for _, r := range page {
			if st.known[r.Username] || st.created[r.Username] != nil {
				continue
			}
			u := &model.User{Username: r.Username, SourceID: st.src.Name()}
			uc := UserChange{User: u, Line: r.Line}
			var scratch Plan
			applyRecord(&scratch, st.src, &uc, r, st.cardOwner, st.pending, true)
			st.pending--
			if len(scratch.Warnings) > 0 || uc.PIN != "" {
				continue
			}
			st.created[r.Username] = u
			out = append(out, u)
		}
	}
	if err := c.CreateUsersTx(ctx, tx, a, out, why); err != nil {
		return fmt.Errorf("usersync: unable to create the new users: %w", err)
	}
	return nil
}

// matches reports whether every user created during the read is created,
// exactly so, by the plan; the plan's entries then refer to them.
func (st *streamer) matches(p *Plan) bool {
	found := 0
	for i := range p.Create {
		uc := &p.Create[i]
		u := st.created[uc.User.Username]
		if u == nil {
			continue
		}
		made := *u
		made.ID, made.CreatedAt, made.UpdatedAt = 0, time.Time{}, time.Time{}
		if uc.PIN != "" || made != *uc.User {
			return false
		}
		uc.User = u
		found++
	}
	return found == len(st.created)
}
