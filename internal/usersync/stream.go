package usersync

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	st := newStreamer(src, before.snap, opts)
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
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		snap, err := s.snapshot(ctx, tx)
		if err != nil {
			return err
		}
		if !sameSnapshot(before.snap, snap) {
			st = newStreamer(src, snap, opts)
		}
		defer st.close()
		for batch := [][]directory.UserRecord{first}; batch != nil; batch = nextPages(pages) {
			if err := st.create(ctx, s.Core, tx, batch); err != nil {
				return err
			}
		}
		if err := st.flush(ctx, tx); err != nil {
			return err
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
// nobody holds. Anything less certain is left to the plan. It also adds
// them to the groups the plan would add them to, as far as each record's
// groups hint tells: a tracked group Ream has, or a chosen group Ream does
// not have yet, which it creates as the plan would.
type streamer struct {
	src       *Source
	known     map[string]bool // usernames of the snapshot's users
	cardOwner *cardOwners     // card numbers taken, by the snapshot's users or created ones
	pending   int64           // owner of the cards of a user not created yet
	created   map[string]*model.User

	groups  map[string]*streamGroup // by lower-cased name: the groups new users join
	joins   []store.Membership      // memberships not inserted yet
	members *store.UserSyncWriter   // prepared on the first membership
}

// streamGroup is a group that new users are added to during the read.
type streamGroup struct {
	id     int64 // 0 until created
	create bool  // a chosen group that Ream does not have: created on first use
	added  map[string]bool
}

// joinBatch is how many memberships are inserted at once: a page of
// users brings a few for each of many groups.
const joinBatch = 1024

func newStreamer(src *Source, snap *Snapshot, opts Options) *streamer {
	st := &streamer{src: src, known: make(map[string]bool, len(snap.Users)), cardOwner: &cardOwners{users: snap.Users},
		pending: -1, created: make(map[string]*model.User), groups: make(map[string]*streamGroup)}
	for _, u := range snap.Users {
		st.known[u.Username] = true
	}
	// The groups planGroups adds new users to: every tracked group, and
	// each chosen group that Ream lacks (created by the run). An untracked
	// group is never touched.
	exists := make(map[string]bool, len(snap.Groups))
	for _, g := range snap.Groups {
		key := strings.ToLower(g.Name)
		exists[key] = true
		if g.Tracked {
			st.groups[key] = &streamGroup{id: g.ID, added: make(map[string]bool)}
		}
	}
	for _, name := range opts.OnlyGroups {
		key := strings.ToLower(strings.TrimSpace(name))
		if key != "" && !exists[key] && st.groups[key] == nil {
			st.groups[key] = &streamGroup{create: true, added: make(map[string]bool)}
		}
	}
	return st
}

// close releases the membership statements.
func (st *streamer) close() {
	if st.members != nil {
		st.members.Close()
	}
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
// inside tx, and adds them to their groups.
func (st *streamer) create(ctx context.Context, c *core.Core, tx *store.Tx, pages [][]directory.UserRecord) error {
	var out []*model.User
	var groupsOf [][]string
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
			groupsOf = append(groupsOf, r.Groups)
		}
	}
	// One audit entry for the whole run is written when the plan is
	// applied (apply), not one per batch.
	if err := c.CreateUsersUnauditedTx(ctx, tx, out); err != nil {
		return fmt.Errorf("usersync: unable to create the new users: %w", err)
	}
	return st.join(ctx, tx, out, groupsOf)
}

// join adds the users just created to the groups their records name.
// The memberships are inserted in batches of joinBatch; flush inserts the
// rest.
func (st *streamer) join(ctx context.Context, tx *store.Tx, users []*model.User, groupsOf [][]string) error {
	if len(st.groups) == 0 {
		return nil
	}
	for i, u := range users {
		for _, name := range groupsOf[i] {
			g := st.groups[strings.ToLower(name)]
			if g == nil || g.added[u.Username] {
				continue
			}
			if g.create && g.id == 0 {
				ng := &model.Group{Name: name, SourceID: st.src.Name(), Tracked: true}
				if err := tx.CreateGroup(ctx, ng); err != nil {
					return fmt.Errorf("usersync: unable to create group %q: %w", name, err)
				}
				g.id = ng.ID
			}
			g.added[u.Username] = true
			st.joins = append(st.joins, store.Membership{GroupID: g.id, UserID: u.ID})
		}
	}
	if len(st.joins) < joinBatch {
		return nil
	}
	return st.insertJoins(ctx, tx, len(st.joins)/joinBatch*joinBatch)
}

// flush inserts the memberships still waiting.
func (st *streamer) flush(ctx context.Context, tx *store.Tx) error {
	return st.insertJoins(ctx, tx, len(st.joins))
}

func (st *streamer) insertJoins(ctx context.Context, tx *store.Tx, n int) error {
	if n == 0 {
		return nil
	}
	if st.members == nil {
		w, err := tx.NewUserSyncWriter(ctx)
		if err != nil {
			return err
		}
		st.members = w
	}
	if err := st.members.AddMemberships(ctx, st.joins[:n]); err != nil {
		return err
	}
	st.joins = append(st.joins[:0], st.joins[n:]...)
	return nil
}

// matches reports whether every user created during the read is created,
// exactly so, by the plan, and every membership added is one the plan
// adds; the plan's entries then refer to them, and what was done is not
// done again.
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
	if found != len(st.created) {
		return false
	}
	matched := 0
	for i := range p.Groups {
		gc := &p.Groups[i]
		g := st.groups[strings.ToLower(gc.Name)]
		if g == nil || len(g.added) == 0 {
			continue
		}
		if gc.NotInSource || (g.create && gc.GroupID != 0) || (!g.create && gc.GroupID != g.id) {
			return false
		}
		n := 0
		for _, m := range gc.Add {
			if g.added[m] {
				n++
			}
		}
		if n != len(g.added) {
			return false
		}
		gc.streamed = g.added
		if g.create {
			gc.streamedID = g.id
		}
		matched++
	}
	used := 0
	for _, g := range st.groups {
		if len(g.added) > 0 {
			used++
		}
	}
	return matched == used
}
