package internalusers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/safepath"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// RunKind is the sync run kind of internal user imports (Logs > Sync runs).
const RunKind = "internal-user-import"

// MailKindWelcome is the outbox kind of the mail sent to a new internal user.
const MailKindWelcome = "internal-user-created"

// Options are the choices of an import.
type Options struct {
	OverwritePasswords bool // set the file's password on existing users too
	OverwritePINs      bool // replace existing users' card PINs with the file's
	EmailOnCreation    bool // queue a welcome mail to each new user with an address
	Test               bool // report what would happen and write nothing
}

// Service imports internal users through the shared core.
type Service struct {
	Core *core.Core
}

// New returns the import service over c.
func New(c *core.Core) *Service { return &Service{Core: c} }

// ImportFile imports the file at path on the server. With confine (the
// API) the path must lie under the configuration's sync.allowed-roots.
func (s *Service) ImportFile(ctx context.Context, a core.Actor, path string, opts Options, confine bool) (*Report, error) {
	if confine {
		var roots []string
		if s.Core.Config != nil {
			roots = s.Core.Config.Sync.AllowedRoots
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
	return s.Import(ctx, a, f, opts)
}

// Import reads an internal user import file and applies it in one
// transaction; with opts.Test it goes through the same steps and rolls
// back. Passwords and PINs are hashed before the transaction starts, so a
// long file does not hold the database's write lock while argon2 runs. The
// run is recorded with its report.
func (s *Service) Import(ctx context.Context, a core.Actor, r io.Reader, opts Options) (*Report, error) {
	lines, skipped, err := Parse(r)
	if err != nil {
		return nil, err
	}
	if opts.OverwritePasswords && !a.FullAdmin() {
		// A delegated administrator may not set another administrator's
		// password this way either (core.SetPassword refuses it too).
		kept := lines[:0]
		for _, l := range lines {
			if u, err := s.Core.Store.UserByName(ctx, l.Username); err == nil && l.Password != "" {
				if err := s.Core.MayManageAdmin(ctx, a, u); err != nil {
					msg, _ := core.Message(err)
					skipped = append(skipped, LineError{Line: l.Line, Field: "password", Reason: msg})
					continue
				}
			}
			kept = append(kept, l)
		}
		lines = kept
	}
	run := &model.SyncRun{Kind: RunKind, Source: "file", StartedBy: a.Name, Test: opts.Test, Options: opts.describe(),
		Counts: model.SyncCounts{Read: len(lines) + len(skipped)}}
	if err := s.Core.Store.StartSyncRun(ctx, run); err != nil {
		return nil, err
	}
	rep := &Report{Lines: len(lines) + len(skipped), Skipped: skipped, Test: opts.Test, RunID: run.ID}
	if opts.EmailOnCreation {
		rep.MailFrom = s.mailSender(ctx)
		rep.MailUnconfigured = rep.MailFrom == ""
	}
	err = s.importLines(ctx, a, lines, opts, rep)
	run.Counts = model.SyncCounts{Read: rep.Lines, Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged, Skipped: len(rep.Skipped)}
	run.Report = rep.Text()
	run.Status, run.Message = "ok", strings.SplitN(run.Report, "\n", 2)[0]
	if err != nil {
		run.Status, run.Message = "failed", err.Error()
		run.Counts = model.SyncCounts{Read: rep.Lines}
	}
	if ferr := s.Core.Store.FinishSyncRun(context.WithoutCancel(ctx), run); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func (o Options) describe() string {
	var parts []string
	if o.OverwritePasswords {
		parts = append(parts, "overwrite passwords")
	}
	if o.OverwritePINs {
		parts = append(parts, "overwrite PINs")
	}
	if o.EmailOnCreation {
		parts = append(parts, "email on creation")
	}
	return strings.Join(parts, ", ")
}

// mailSender is the sender address when a mail server is configured, or "".
func (s *Service) mailSender(ctx context.Context) string {
	if s.Core.Settings == nil || strings.TrimSpace(s.Core.Settings.Get(ctx, settings.SMTPHost)) == "" {
		return ""
	}
	return strings.TrimSpace(s.Core.Settings.Get(ctx, settings.SMTPFrom))
}

// errTestRollback undoes a test import's transaction: a test runs the same
// statements as a real import, so it finds the same problems.
var errTestRollback = errors.New("internalusers: test import rolled back")

func (s *Service) importLines(ctx context.Context, a core.Actor, lines []Line, opts Options, rep *Report) error {
	existing, err := s.existingUsers(ctx, lines)
	if err != nil {
		return err
	}
	secrets, err := s.hashSecrets(ctx, lines, existing, opts)
	if err != nil {
		return err
	}
	err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		for _, l := range lines {
			if err := s.applyLine(ctx, tx, a, l, secrets, opts, rep); err != nil {
				return err
			}
		}
		if opts.Test {
			return errTestRollback
		}
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "users.internal-import",
			Detail: fmt.Sprintf("run #%d: %d created, %d updated", rep.RunID, rep.Created, rep.Updated)}))
	})
	if errors.Is(err, errTestRollback) {
		return nil
	}
	return err
}

// existingUsers reads, before the transaction, the users the file names,
// to know which passwords and PINs will need hashing.
func (s *Service) existingUsers(ctx context.Context, lines []Line) (map[string]*model.User, error) {
	out := make(map[string]*model.User)
	for _, l := range lines {
		u, err := s.Core.Store.UserByName(ctx, l.Username)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("internalusers: unable to read user %q: %w", l.Username, err)
		}
		out[l.Username] = u
	}
	return out, nil
}

// hashedSecrets are the hashes of a line's password and PIN, by line number.
type hashedSecrets map[int]*lineSecrets

type lineSecrets struct{ password, pin string }

// testHash stands in for a hash in a test import, which is rolled back:
// hashing thousands of passwords only to throw them away would make Test as
// slow as Import.
const testHash = "test-import"

// hashSecrets hashes what the import will store: the password of a new user
// (or of every user with OverwritePasswords) and the PIN of a new user, of a
// user without one, or of every user with OverwritePINs. The hasher bounds
// how many run at once.
func (s *Service) hashSecrets(ctx context.Context, lines []Line, existing map[string]*model.User, opts Options) (hashedSecrets, error) {
	out := make(hashedSecrets)
	type job struct {
		line     int
		secret   string
		password bool
	}
	var jobs []job
	for _, l := range lines {
		u := existing[l.Username]
		if u != nil && !u.Internal {
			continue
		}
		out[l.Line] = &lineSecrets{}
		if l.Password != "" && (u == nil || opts.OverwritePasswords || u.PasswordHash == "") {
			jobs = append(jobs, job{l.Line, l.Password, true})
		}
		if l.PIN != nil && (u == nil || opts.OverwritePINs || !u.HasPIN()) {
			jobs = append(jobs, job{l.Line, *l.PIN, false})
		}
	}
	if opts.Test {
		for _, j := range jobs {
			if j.password {
				out[j.line].password = testHash
			} else {
				out[j.line].pin = testHash
			}
		}
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	// A few workers keep the hasher's slots busy; the hasher itself caps
	// memory, so more workers would only queue.
	work := make(chan job)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				hash, err := s.Core.Hasher.Hash(ctx, j.secret)
				mu.Lock()
				switch {
				case err != nil && firstErr == nil:
					firstErr = fmt.Errorf("internalusers: line %d: %w", j.line, err)
					cancel()
				case err == nil && j.password:
					out[j.line].password = hash
				case err == nil:
					out[j.line].pin = hash
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- j
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("internalusers: hashing stopped: %w", err)
	}
	return out, nil
}

// applyLine plans and applies one line inside the import's transaction.
func (s *Service) applyLine(ctx context.Context, tx *store.Tx, a core.Actor, l Line, secrets hashedSecrets, opts Options, rep *Report) error {
	skip := func(field, format string, args ...any) error {
		rep.Skipped = append(rep.Skipped, LineError{Line: l.Line, Field: field, Reason: fmt.Sprintf(format, args...)})
		return nil
	}
	u, err := tx.UserByName(ctx, l.Username)
	isNew := errors.Is(err, store.ErrNotFound)
	if err != nil && !isNew {
		return fmt.Errorf("internalusers: line %d: %w", l.Line, err)
	}
	if !isNew && !u.Internal {
		return skip("username", "%q is a directory user; its password is managed in the directory, so it was left unchanged", l.Username)
	}
	sec := secrets[l.Line]
	if sec == nil {
		// The user was a directory user when the file was read and is
		// not one now: the hashes this line needs were not made.
		return skip("username", "%q changed while the file was being read; run the import again", l.Username)
	}
	if l.PrimaryCard != nil && (isNew || *l.PrimaryCard != u.PrimaryCard && *l.PrimaryCard != u.SecondaryCard) {
		inUse, err := tx.CardInUse(ctx, *l.PrimaryCard)
		if err != nil {
			return fmt.Errorf("internalusers: line %d: unable to check the card/ID number: %w", l.Line, err)
		}
		if inUse {
			return skip("primary card/ID", "%q already belongs to another user", *l.PrimaryCard)
		}
	}
	if isNew {
		if l.Password == "" {
			return skip("password", "is required for a new internal user")
		}
		if sec.password == "" || (l.PIN != nil && sec.pin == "") {
			return skip("username", "%q changed while the file was being read; run the import again", l.Username)
		}
		if err := core.NewUsernameProblem(ctx, tx, l.Username, 0, true); err != nil {
			if msg, ok := core.Message(err); ok {
				return skip("username", "%s", msg)
			}
			return err
		}
		return s.create(ctx, tx, a, l, sec, opts, rep)
	}
	return s.update(ctx, tx, a, u, l, sec, opts, rep)
}

func (s *Service) create(ctx context.Context, tx *store.Tx, a core.Actor, l Line, sec *lineSecrets, opts Options, rep *Report) error {
	u := &model.User{Username: l.Username, Internal: true, PasswordHash: sec.password, PINHash: sec.pin}
	setDetails(u, l)
	if l.PrimaryCard != nil {
		u.PrimaryCard = *l.PrimaryCard
	}
	if l.Restricted != nil {
		u.Restricted = *l.Restricted
	}
	if err := s.Core.CreateUserTx(ctx, tx, a, u); err != nil {
		return fmt.Errorf("line %d: %w", l.Line, err)
	}
	if l.Balance != nil && *l.Balance != 0 {
		if _, err := tx.AdjustUserBalance(ctx, u.ID, *l.Balance, true, "internal user import", a.Name); err != nil {
			return fmt.Errorf("line %d: unable to set the balance: %w", l.Line, err)
		}
	}
	rep.Created++
	item := fmt.Sprintf("line %d: created %s", l.Line, u.Username)
	if opts.EmailOnCreation && !rep.MailUnconfigured {
		if mail.CheckRecipient(u.Email) != nil {
			rep.NoEmail = append(rep.NoEmail, u.Username)
		} else {
			if err := mail.Queue(ctx, tx, rep.MailFrom, welcomeMail(u)); err != nil {
				return fmt.Errorf("line %d: %w", l.Line, err)
			}
			rep.MailsQueued++
			item += "; welcome email queued"
		}
	}
	rep.Items = append(rep.Items, item)
	return nil
}

// setDetails copies the line's text fields that are not blank and names
// the ones that changed.
func setDetails(u *model.User, l Line) []string {
	var changed []string
	for _, f := range []struct {
		name string
		dst  *string
		v    *string
	}{
		{"full name", &u.FullName, l.FullName}, {"email", &u.Email, l.Email}, {"department", &u.Department, l.Department},
		{"office", &u.Office, l.Office}, {"notes", &u.Notes, l.Notes},
	} {
		if f.v != nil && *f.v != *f.dst {
			*f.dst = *f.v
			changed = append(changed, f.name)
		}
	}
	return changed
}

func (s *Service) update(ctx context.Context, tx *store.Tx, a core.Actor, old *model.User, l Line, sec *lineSecrets, opts Options, rep *Report) error {
	u := *old
	changed := setDetails(&u, l)
	if l.Restricted != nil && *l.Restricted != u.Restricted {
		u.Restricted = *l.Restricted
		changed = append(changed, "restricted")
	}
	if len(changed) > 0 {
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return fmt.Errorf("line %d: %w", l.Line, err)
		}
	}
	if l.PrimaryCard != nil && *l.PrimaryCard != old.PrimaryCard {
		if err := tx.SetUserCard(ctx, u.ID, store.PrimaryCard, *l.PrimaryCard, model.CardOriginAdmin); err != nil {
			return fmt.Errorf("line %d: primary card/ID: %w", l.Line, err)
		}
		changed = append(changed, "primary card/ID")
	}
	var kept []string
	switch {
	case l.Password == "":
	case sec.password != "":
		if err := tx.SetUserPassword(ctx, u.ID, sec.password); err != nil {
			return fmt.Errorf("line %d: unable to set the password: %w", l.Line, err)
		}
		// A new password ends the sessions opened with the old one.
		if err := tx.EndSessions(ctx, "", u.ID, ""); err != nil {
			return fmt.Errorf("line %d: %w", l.Line, err)
		}
		changed = append(changed, "password")
	case !opts.OverwritePasswords:
		kept = append(kept, "password")
	}
	switch {
	case l.PIN == nil:
	case sec.pin != "":
		if err := tx.SetUserPIN(ctx, u.ID, sec.pin); err != nil {
			return fmt.Errorf("line %d: unable to set the card PIN: %w", l.Line, err)
		}
		changed = append(changed, "card PIN")
	case !opts.OverwritePINs:
		kept = append(kept, "card PIN")
	}
	if l.Balance != nil && *l.Balance != old.Balance {
		if _, err := tx.AdjustUserBalance(ctx, u.ID, *l.Balance, true, "internal user import", a.Name); err != nil {
			return fmt.Errorf("line %d: unable to set the balance: %w", l.Line, err)
		}
		changed = append(changed, "balance")
	}
	suffix := ""
	if len(kept) > 0 {
		suffix = fmt.Sprintf(" (existing %s kept)", strings.Join(kept, " and "))
	}
	if len(changed) == 0 {
		rep.Unchanged++
		if suffix != "" {
			rep.Items = append(rep.Items, fmt.Sprintf("line %d: unchanged %s%s", l.Line, u.Username, suffix))
		}
		return nil
	}
	if err := tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "user.update", Target: u.Username,
		Detail: "internal user import: " + strings.Join(changed, ", ")})); err != nil {
		return err
	}
	rep.Updated++
	rep.Items = append(rep.Items, fmt.Sprintf("line %d: updated %s: %s%s", l.Line, u.Username, strings.Join(changed, ", "), suffix))
	return nil
}
