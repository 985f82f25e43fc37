package usersync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/safepath"
	"github.com/reamprint/ream/internal/store"
)

// ImportRunKind is the sync run kind of batch user imports.
const ImportRunKind = "user-import"

// BatchOptions are the choices of a batch user import.
type BatchOptions struct {
	CreateNew bool // create users the file names and Ream lacks
	Test      bool // report what would happen and write nothing
}

// BatchReport is the outcome of a batch user import.
type BatchReport struct {
	Created, Updated, Unchanged int
	Lines                       int // lines with a user on them
	Skipped                     []directory.LineError
	Items                       []string // one line per created or updated user
	Test                        bool
	RunID                       int64
}

// Text is the line-numbered report.
func (r *BatchReport) Text() string {
	var b strings.Builder
	verb := "Imported"
	if r.Test {
		verb = "Test only, nothing written"
	}
	fmt.Fprintf(&b, "%s: %d lines; %d users created, %d updated, %d unchanged, %d lines skipped.\n",
		verb, r.Lines, r.Created, r.Updated, r.Unchanged, len(r.Skipped))
	for _, it := range r.Items {
		b.WriteString(it)
		b.WriteByte('\n')
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(&b, "skipped %s\n", s.Error())
	}
	return b.String()
}

// BatchImportFile imports the file at path on the server. With confine
// (the API) the path must lie under sync.allowed-roots.
func (s *Service) BatchImportFile(ctx context.Context, a core.Actor, path string, opts BatchOptions, confine bool) (*BatchReport, error) {
	if confine {
		var roots []string
		if s.Config != nil {
			roots = s.Config.Sync.AllowedRoots
		}
		resolved, err := safepath.Resolve(roots, path)
		if err != nil {
			return nil, core.Errorf(core.Invalid, "file: %v", err)
		}
		path = resolved
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, core.Errorf(core.Invalid, "file %q cannot be opened: %v", path, err)
	}
	defer f.Close()
	return s.BatchImport(ctx, a, f, opts)
}

// BatchImport reads a batch user import file (SPEC §4.1) and applies it in
// one transaction; with opts.Test it only reports. The run is recorded.
func (s *Service) BatchImport(ctx context.Context, a core.Actor, r io.Reader, opts BatchOptions) (*BatchReport, error) {
	lines, skipped, err := ParseBatchUsers(r)
	if err != nil {
		return nil, err
	}
	run := &model.SyncRun{Kind: ImportRunKind, Source: "file", StartedBy: a.Name, Test: opts.Test,
		Counts: model.SyncCounts{Read: len(lines) + len(skipped)}}
	if opts.CreateNew {
		run.Options = "create new users"
	}
	if err := s.Store.StartSyncRun(ctx, run); err != nil {
		return nil, err
	}
	rep := &BatchReport{Lines: len(lines) + len(skipped), Skipped: skipped, Test: opts.Test, RunID: run.ID}
	err = s.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := s.importLines(ctx, tx, a, lines, opts, rep); err != nil {
			return err
		}
		if opts.Test {
			return errTestRollback
		}
		return tx.Audit(ctx, auditEntry(a, "users.batch-import", "", fmt.Sprintf("run #%d: %d created, %d updated", run.ID, rep.Created, rep.Updated)))
	})
	if errors.Is(err, errTestRollback) {
		err = nil
	}
	run.Counts = model.SyncCounts{Read: rep.Lines, Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged, Skipped: len(rep.Skipped)}
	run.Report = rep.Text()
	run.Status, run.Message = "ok", strings.SplitN(run.Report, "\n", 2)[0]
	if err != nil {
		run.Status, run.Message = "failed", err.Error()
		run.Counts = model.SyncCounts{Read: rep.Lines}
	}
	if ferr := s.Store.FinishSyncRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// errTestRollback undoes a test import's transaction: the test goes through
// the same statements as a real import, so it finds the same problems.
var errTestRollback = errors.New("usersync: test import rolled back")

func (s *Service) importLines(ctx context.Context, tx *store.Tx, a core.Actor, lines []BatchLine, opts BatchOptions, rep *BatchReport) error {
	for _, bl := range lines {
		u, err := tx.UserByName(ctx, bl.Username)
		isNew := errors.Is(err, store.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if isNew && !opts.CreateNew {
			rep.Skipped = append(rep.Skipped, directory.LineError{Line: bl.Line, Field: "username",
				Reason: fmt.Sprintf("user %q does not exist (tick Create new users to create it)", bl.Username)})
			continue
		}
		if reason, err := cardProblem(ctx, tx, u, bl); err != nil {
			return err
		} else if reason != nil {
			rep.Skipped = append(rep.Skipped, *reason)
			continue
		}
		if isNew {
			if err := core.NewUsernameProblem(ctx, tx, bl.Username, 0, true); err != nil {
				if msg, ok := core.Message(err); ok {
					rep.Skipped = append(rep.Skipped, directory.LineError{Line: bl.Line, Field: "username", Reason: msg})
					continue
				}
				return err
			}
			if err := s.createFromLine(ctx, tx, a, bl); err != nil {
				return err
			}
			rep.Created++
			rep.Items = append(rep.Items, fmt.Sprintf("line %d: created %s", bl.Line, bl.Username))
			continue
		}
		changed, err := s.updateFromLine(ctx, tx, a, u, bl)
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			rep.Unchanged++
			continue
		}
		rep.Updated++
		rep.Items = append(rep.Items, fmt.Sprintf("line %d: updated %s: %s", bl.Line, bl.Username, strings.Join(changed, ", ")))
	}
	return nil
}

// cardProblem reports a card number on the line that belongs to another user.
func cardProblem(ctx context.Context, tx *store.Tx, u *model.User, bl BatchLine) (*directory.LineError, error) {
	for _, c := range []struct {
		field string
		v     *string
	}{{"primary card/ID", bl.PrimaryCard}, {"secondary card/ID", bl.SecondaryCard}} {
		if c.v == nil || (u != nil && (*c.v == u.PrimaryCard || *c.v == u.SecondaryCard)) {
			continue
		}
		inUse, err := tx.CardInUse(ctx, *c.v)
		if err != nil {
			return nil, fmt.Errorf("usersync: unable to check card/ID number: %w", err)
		}
		if inUse {
			return &directory.LineError{Line: bl.Line, Field: c.field, Reason: fmt.Sprintf("%q already belongs to another user", *c.v)}, nil
		}
	}
	return nil, nil
}

func (s *Service) createFromLine(ctx context.Context, tx *store.Tx, a core.Actor, bl BatchLine) error {
	u := &model.User{Username: bl.Username}
	setDetails(u, bl)
	if bl.PrimaryCard != nil {
		u.PrimaryCard = *bl.PrimaryCard
	}
	if bl.SecondaryCard != nil {
		u.SecondaryCard = *bl.SecondaryCard
	}
	if bl.Restricted != nil {
		u.Restricted = *bl.Restricted
	}
	if bl.PIN != nil {
		hash, err := s.Core.Hasher.HashPIN(ctx, *bl.PIN)
		if err != nil {
			return err
		}
		u.PINHash = hash
	}
	if err := s.Core.CreateUserTx(ctx, tx, a, u); err != nil {
		return fmt.Errorf("line %d: %w", bl.Line, err)
	}
	if bl.Balance != nil && *bl.Balance != 0 {
		if _, err := tx.AdjustUserBalance(ctx, u.ID, *bl.Balance, true, "batch user import", a.Name); err != nil {
			return fmt.Errorf("line %d: unable to set the balance: %w", bl.Line, err)
		}
	}
	return nil
}

// setDetails copies the line's text fields that are not blank.
func setDetails(u *model.User, bl BatchLine) []string {
	var changed []string
	for _, f := range []struct {
		name string
		dst  *string
		v    *string
	}{
		{"full name", &u.FullName, bl.FullName}, {"email", &u.Email, bl.Email}, {"department", &u.Department, bl.Department},
		{"office", &u.Office, bl.Office}, {"notes", &u.Notes, bl.Notes}, {"other emails", &u.OtherEmails, bl.OtherEmails},
		{"username alias", &u.Alias, bl.Alias}, {"home folder", &u.HomeFolder, bl.HomeFolder},
	} {
		if f.v != nil && *f.v != *f.dst {
			*f.dst = *f.v
			changed = append(changed, f.name)
		}
	}
	return changed
}

func (s *Service) updateFromLine(ctx context.Context, tx *store.Tx, a core.Actor, old *model.User, bl BatchLine) ([]string, error) {
	u := *old
	changed := setDetails(&u, bl)
	if bl.Restricted != nil && *bl.Restricted != u.Restricted {
		u.Restricted = *bl.Restricted
		changed = append(changed, "restricted")
	}
	if len(changed) > 0 {
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return nil, fmt.Errorf("line %d: %w", bl.Line, err)
		}
	}
	for _, c := range []struct {
		name string
		slot int
		cur  string
		v    *string
	}{{"primary card/ID", store.PrimaryCard, old.PrimaryCard, bl.PrimaryCard}, {"secondary card/ID", store.SecondaryCard, old.SecondaryCard, bl.SecondaryCard}} {
		if c.v == nil || *c.v == c.cur {
			continue
		}
		if err := tx.SetUserCard(ctx, u.ID, c.slot, *c.v, model.CardOriginAdmin); err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", bl.Line, c.name, err)
		}
		changed = append(changed, c.name)
	}
	if bl.PIN != nil {
		hash, err := s.Core.Hasher.HashPIN(ctx, *bl.PIN)
		if err != nil {
			return nil, err
		}
		if err := tx.SetUserPIN(ctx, u.ID, hash); err != nil {
			return nil, fmt.Errorf("line %d: unable to set the card PIN: %w", bl.Line, err)
		}
		changed = append(changed, "card PIN")
	}
	if bl.Balance != nil && *bl.Balance != old.Balance {
		if _, err := tx.AdjustUserBalance(ctx, u.ID, *bl.Balance, true, "batch user import", a.Name); err != nil {
			return nil, fmt.Errorf("line %d: unable to set the balance: %w", bl.Line, err)
		}
		changed = append(changed, "balance")
	}
	return changed, nil
}
