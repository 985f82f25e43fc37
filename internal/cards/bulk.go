package cards

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// Selection is who a bulk action applies to: the members of a group
// (pseudo-groups such as [All Users] included) or a list of usernames.
type Selection struct {
	Group string
	Users []string
	// OnlyBlank limits the action to users without a primary number;
	// otherwise every chosen user gets a new number, replacing the old one.
	OnlyBlank bool
}

// Validate reports a selection that names nobody, or both a group and users.
func (sel Selection) Validate() error {
	group := strings.TrimSpace(sel.Group)
	users := 0
	for _, u := range sel.Users {
		if strings.TrimSpace(u) != "" {
			users++
		}
	}
	switch {
	case group == "" && users == 0:
		return core.Errorf(core.Invalid, "choose a group or a list of users")
	case group != "" && users > 0:
		return core.Errorf(core.Invalid, "choose a group or a list of users, not both")
	}
	return nil
}

// Describe names the selection for the audit log and reports.
func (sel Selection) Describe() string {
	what := ""
	if g := strings.TrimSpace(sel.Group); g != "" {
		what = "group " + g
	} else {
		what = fmt.Sprintf("%d listed users", len(sel.Users))
	}
	if sel.OnlyBlank {
		return what + " (only where blank)"
	}
	return what
}

// BulkPreview is what the page shows before OK: how many users are chosen
// and how many will be changed.
type BulkPreview struct {
	Selected   int
	WillChange int
	Missing    []string // listed usernames without a live user
}

// BulkResult is the outcome of a bulk generation.
type BulkResult struct {
	Selected int
	Changed  int
	Notified int
	NoEmail  []string // changed users that could not be notified
	Missing  []string // listed usernames without a live user
}

// Summary is the result in one sentence, for the page, the CLI and the audit log.
func (r BulkResult) Summary() string {
	s := fmt.Sprintf("Generated %d primary Card/ID numbers for %d selected users.", r.Changed, r.Selected)
	if r.Notified > 0 || len(r.NoEmail) > 0 {
		s += fmt.Sprintf(" %d notifications queued; %d users have no usable email address.", r.Notified, len(r.NoEmail))
	}
	if len(r.Missing) > 0 {
		s += fmt.Sprintf(" %d listed users do not exist.", len(r.Missing))
	}
	return s
}

// errPreviewOnly rolls back the transaction a preview reads in.
var errPreviewOnly = errors.New("preview only")

// selectUsers loads the chosen live users inside tx.
func (s *Service) selectUsers(ctx context.Context, tx *store.Tx, sel Selection) (users []*model.User, missing []string, err error) {
	if err := sel.Validate(); err != nil {
		return nil, nil, err
	}
	if g := strings.TrimSpace(sel.Group); g != "" {
		users, err = tx.GroupUsers(ctx, g)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, core.Errorf(core.NotFound, "group %q does not exist", g)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cards: unable to select users: %w", err)
		}
		return users, nil, nil
	}
	var names []string
	for _, u := range sel.Users {
		if u = strings.TrimSpace(u); u != "" {
			names = append(names, u)
		}
	}
	ids, missing, err := tx.UserIDsByNames(ctx, names)
	if err != nil {
		return nil, nil, fmt.Errorf("cards: unable to select users: %w", err)
	}
	users, err = tx.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("cards: unable to select users: %w", err)
	}
	return users, missing, nil
}

func targets(users []*model.User, onlyBlank bool) []*model.User {
	if !onlyBlank {
		return users
	}
	out := make([]*model.User, 0, len(users))
	for _, u := range users {
		if u.PrimaryCard == "" {
			out = append(out, u)
		}
	}
	return out
}

// PreviewBulk counts the users a bulk generation would change, changing nothing.
func (s *Service) PreviewBulk(ctx context.Context, sel Selection) (BulkPreview, error) {
	var p BulkPreview
	err := s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		users, missing, err := s.selectUsers(ctx, tx, sel)
		if err != nil {
			return err
		}
		p = BulkPreview{Selected: len(users), WillChange: len(targets(users, sel.OnlyBlank)), Missing: missing}
		return errPreviewOnly
	})
	if errors.Is(err, errPreviewOnly) {
		err = nil
	}
	return p, err
}

// Progress reports a long action: done of total users written.
type Progress func(done, total int)

// maxBulkRetries bounds how often a bulk generation starts over because
// another server took one of its numbers while it ran (PostgreSQL only:
// SQLite has one writer).
const maxBulkRetries = 3

// BulkGenerate gives the chosen users new random primary numbers (all of
// them, or with OnlyBlank those without one) in one transaction with one
// audit entry, and queues their notifications in it when they are on.
// Existing numbers are read once; the new ones are drawn to avoid them and
// each other, and written many per statement.
func (s *Service) BulkGenerate(ctx context.Context, a core.Actor, sel Selection, progress Progress) (BulkResult, error) {
	g, err := s.generator(ctx)
	if err != nil {
		return BulkResult{}, err
	}
	var res BulkResult
	for range maxBulkRetries {
		err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
			res, err = s.bulkGenerateTx(ctx, tx, a, g, sel, progress)
			return err
		})
		if !errors.Is(err, store.ErrCardInUse) {
			break
		}
	}
	if err != nil {
		return BulkResult{}, err
	}
	if res.Notified > 0 {
		s.wake()
	}
	return res, nil
}

func (s *Service) bulkGenerateTx(ctx context.Context, tx *store.Tx, a core.Actor, g *Generator, sel Selection, progress Progress) (BulkResult, error) {
	users, missing, err := s.selectUsers(ctx, tx, sel)
	if err != nil {
		return BulkResult{}, err
	}
	change := targets(users, sel.OnlyBlank)
	res := BulkResult{Selected: len(users), Changed: len(change), Missing: missing}
	taken, err := tx.CardNumbers(ctx)
	if err != nil {
		return BulkResult{}, err
	}
	numbers, err := g.GenerateUnique(len(change), func(n string) bool { _, used := taken[n]; return used })
	if err != nil {
		return BulkResult{}, core.Errorf(core.Conflict, "not enough free Card/ID numbers: %v", err)
	}
	rows := make([]store.UserCard, len(change))
	for i, u := range change {
		rows[i] = store.UserCard{UserID: u.ID, Number: numbers[i]}
		u.PrimaryCard = numbers[i]
	}
	var written func(int)
	if progress != nil {
		written = func(done int) { progress(done, len(change)) }
	}
	if err := tx.SetPrimaryCards(ctx, rows, model.CardOriginBulk, written); err != nil {
		return BulkResult{}, err
	}
	if res.Notified, res.NoEmail, err = s.notifyTx(ctx, tx, change); err != nil {
		return BulkResult{}, err
	}
	detail := res.Summary()
	if len(res.NoEmail) > 0 {
		detail += " Without email: " + listSome(res.NoEmail, 50)
	}
	if len(res.Missing) > 0 {
		detail += " Not found: " + listSome(res.Missing, 50)
	}
	err = tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "cards.bulk-generate", Target: sel.Describe(), Detail: detail}))
	return res, err
}

// listSome joins up to n names and says how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}
