package papercutimport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Options are one run's choices.
type Options struct {
	Parts  Parts
	DryRun bool
	Actor  core.Actor
	// Progress (may be nil) is told how far the run is, from the run's
	// goroutines, never two calls at once.
	Progress func(Progress)
}

// cannotMove is what the API cannot carry, said in every report.
var cannotMove = []string{
	"internal users' passwords: PaperCut's API cannot read them (the internal users are listed above)",
	"card PINs of users: PaperCut's API can set them but never reads them back; users set them again in the portal, or import a card file with PINs",
	"print history, printers, device and print settings: Ream does no printing yet",
}

// Run reads the source and writes what it read into Ream, in one
// transaction: a run stopped at any point (Ctrl-C, a lost connection, a
// killed process) leaves Ream as it was, and a rerun does the whole move.
// A dry run does the same work and rolls it back.
func Run(ctx context.Context, st *store.Store, src *Source, o Options) (*Report, error) {
	started := time.Now()
	serial := serialProgress(o.Progress)
	snap, err := src.Read(ctx, o.Parts, serial)
	if err != nil {
		return nil, err
	}
	r, err := Apply(ctx, st, snap, o)
	if r != nil {
		r.Duration = time.Since(started)
	}
	return r, err
}

// serialProgress stamps each phase's start and serialises the calls.
func serialProgress(fn func(Progress)) func(Progress) {
	if fn == nil {
		return nil
	}
	ch := make(chan struct{}, 1)
	ch <- struct{}{}
	var phase string
	var start time.Time
	var last time.Time
	return func(p Progress) {
		<-ch
		defer func() { ch <- struct{}{} }()
		now := time.Now()
		if p.Phase != phase {
			phase, start = p.Phase, now
		} else if p.Done < p.Total && now.Sub(last) < 100*time.Millisecond {
			return
		}
		last = now
		p.Started = start
		fn(p)
	}
}

// Apply writes a snapshot into Ream in one transaction (rolled back for a
// dry run) and returns the report.
func Apply(ctx context.Context, st *store.Store, snap *Snapshot, o Options) (*Report, error) {
	report := &Report{Source: snap.URL, DryRun: o.DryRun}
	report.CannotMove = append(report.CannotMove, cannotMove...)
	if snap.AdminsNote != "" {
		report.CannotMove = append(report.CannotMove, snap.AdminsNote)
	}
	var pinKey []byte
	if o.Parts.Accounts && slices.ContainsFunc(snap.Accounts, func(a SourceAccount) bool { return a.Props["pin"] != "" }) {
		var err error
		if pinKey, err = importPINKey(ctx, st, o.DryRun); err != nil {
			return nil, err
		}
	}
	total := 0
	if o.Parts.Users {
		total += len(snap.Users)
	}
	if o.Parts.Groups || o.Parts.Users {
		total += len(snap.Groups)
	}
	if o.Parts.Accounts {
		total += len(snap.Accounts)
	}
	progress := serialProgress(o.Progress)
	ap := &applier{snap: snap, parts: o.Parts, actor: o.Actor, report: report, now: time.Now(), pinKey: pinKey,
		comment: "import from PaperCut at " + snap.URL}
	if progress != nil {
		ap.progress = func(done int) { progress(Progress{Phase: PhaseApplying, Done: done, Total: total}) }
	}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		ap.tx = tx
		if err := ap.load(ctx); err != nil {
			return err
		}
		if o.Parts.Users {
			if err := ap.conflicts(); err != nil {
				return err
			}
		}
		if o.Parts.Accounts {
			if err := ap.applyAccounts(ctx); err != nil {
				return err
			}
		}
		if o.Parts.Users {
			if err := ap.applyUsers(ctx); err != nil {
				return err
			}
		}
		if o.Parts.Groups || o.Parts.Users {
			if err := ap.applyGroups(ctx); err != nil {
				return err
			}
		}
		// Admin entries name users and groups: they come with either part.
		if snap.Admins != nil && (o.Parts.Users || o.Parts.Groups) {
			if err := ap.applyAdmins(ctx); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(Progress{Phase: PhaseApplying, Done: total, Total: total})
		}
		if err := ap.audit(ctx, "papercut.import", snap.URL, summary(report)); err != nil {
			return err
		}
		if err := ap.flush(ctx); err != nil {
			return err
		}
		if o.DryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if !o.DryRun {
		recordRun(ctx, st, o.Actor, report)
	}
	return report, nil
}

// importPINKey is the site's key for shared-account PIN hashes. A dry run
// does not make it: with none yet, no account in Ream has a PIN, and a
// throwaway key compares the source's PINs among themselves as well.
func importPINKey(ctx context.Context, st *store.Store, dry bool) ([]byte, error) {
	if dry {
		key, ok, err := st.ExistingAccountPINKey(ctx)
		if err != nil || ok {
			return key, err
		}
		key = make([]byte, 32)
		_, err = rand.Read(key)
		return key, err
	}
	return st.AccountPINKey(ctx)
}

func summary(r *Report) string {
	return fmt.Sprintf("users %d read, %d created, %d updated; groups %d read, %d created, %d updated; shared accounts %d read, %d created, %d updated",
		r.Users.Read, r.Users.Created, r.Users.Updated, r.Groups.Read, r.Groups.Created, r.Groups.Updated,
		r.Accounts.Read, r.Accounts.Created, r.Accounts.Updated)
}

// recordRun keeps the run in Logs > Sync runs. It comes after the commit
// (on SQLite the import's transaction is the only writer); the audit entry
// written inside the transaction is the record that cannot be lost.
func recordRun(ctx context.Context, st *store.Store, actor core.Actor, r *Report) {
	var b strings.Builder
	_ = r.Write(&b, true)
	run := &model.SyncRun{Kind: "papercut-import", Source: r.Source, StartedBy: actor.Name}
	if err := st.StartSyncRun(ctx, run); err != nil {
		return
	}
	run.Status = "ok"
	run.Message = summary(r)
	run.Report = b.String()
	c := func(n ...int) (s int) {
		for _, v := range n {
			s += v
		}
		return
	}
	run.Counts = model.SyncCounts{
		Read:      c(r.Users.Read, r.Groups.Read, r.Accounts.Read),
		Created:   c(r.Users.Created, r.Groups.Created, r.Accounts.Created),
		Updated:   c(r.Users.Updated, r.Groups.Updated, r.Accounts.Updated),
		Unchanged: c(r.Users.Unchanged, r.Groups.Unchanged, r.Accounts.Unchanged),
		Skipped:   c(r.Users.Skipped, r.Groups.Skipped, r.Accounts.Skipped),
	}
	_ = st.FinishSyncRun(ctx, run)
}
