package cards

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// ImportReport is the outcome of a batch card import, line by line where
// something was not done.
type ImportReport struct {
	Records   int // accepted lines
	Updated   int // users whose primary number changed
	Unchanged int // users who already had that number
	PINsSet   int
	PINsKept  int         // PINs given but not written (the user had one, overwrite off)
	Skipped   []LineError // lines not applied, with the reason
}

// String is the report as text, for the task status and the CLI.
func (r ImportReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Batch card import: %d lines read, %d card numbers set, %d unchanged, %d PINs set",
		r.Records+len(r.Skipped), r.Updated, r.Unchanged, r.PINsSet)
	if r.PINsKept > 0 {
		fmt.Fprintf(&b, ", %d existing PINs kept", r.PINsKept)
	}
	fmt.Fprintf(&b, ", %d lines skipped.", len(r.Skipped))
	for _, e := range r.Skipped {
		b.WriteString("\n")
		b.WriteString(e.Error())
	}
	return b.String()
}

// checkImportPIN is core.SetPIN's rule (4 to 32 printable ASCII
// characters), applied here so that a bad PIN skips its line rather than
// failing the whole import.
func checkImportPIN(pin string) error {
	if len(pin) < 4 || len(pin) > 32 {
		return errors.New("card PIN must be 4 to 32 characters; skipped")
	}
	return nil
}

// Import applies a batch card import file ("username<TAB>card[<TAB>PIN]")
// in one transaction: each user's primary number is set; a number that
// belongs to someone else is skipped and reported, never taken, and the
// report does not say whose it is. A PIN replaces an existing one only with
// overwritePINs. PINs are stored hashed.
func (s *Service) Import(ctx context.Context, a core.Actor, r io.Reader, overwritePINs bool) (ImportReport, error) {
	records, problems, err := ParseCardImport(r)
	if err != nil {
		return ImportReport{}, err
	}
	rep := ImportReport{Skipped: problems}
	// PINs are hashed before the transaction: argon2 is slow by design,
	// and a write transaction should not wait on it.
	hashes := map[int]string{}
	for _, rec := range records {
		if !rec.HasPIN {
			continue
		}
		if err := checkImportPIN(rec.PIN); err != nil {
			continue // reported when the line is applied
		}
		if hashes[rec.Line], err = s.Core.Hasher.HashPIN(ctx, rec.PIN); err != nil {
			return ImportReport{}, fmt.Errorf("cards: unable to hash the PIN of line %d: %w", rec.Line, err)
		}
	}
	err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		rep.Records, rep.Updated, rep.Unchanged, rep.PINsSet, rep.PINsKept = 0, 0, 0, 0, 0
		rep.Skipped = append([]LineError(nil), problems...)
		for _, rec := range records {
			skip, err := s.importLine(ctx, tx, rec, hashes[rec.Line], overwritePINs, &rep)
			if err != nil {
				return err
			}
			if skip != nil {
				rep.Skipped = append(rep.Skipped, *skip)
				continue
			}
			rep.Records++
		}
		slices.SortStableFunc(rep.Skipped, func(a, b LineError) int { return cmp.Compare(a.Line, b.Line) })
		detail := fmt.Sprintf("%d card numbers set, %d unchanged, %d PINs set, %d lines skipped", rep.Updated, rep.Unchanged, rep.PINsSet, len(rep.Skipped))
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "cards.import", Detail: detail}))
	})
	if err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

// importLine applies one record; skip, when set, says why it was not.
func (s *Service) importLine(ctx context.Context, tx *store.Tx, rec CardRecord, pinHash string, overwritePINs bool, rep *ImportReport) (skip *LineError, err error) {
	skipped := func(field, reason string) (*LineError, error) {
		return &LineError{Line: rec.Line, Field: field, Reason: reason}, nil
	}
	u, err := tx.UserByName(ctx, rec.Username)
	if errors.Is(err, store.ErrNotFound) {
		return skipped("username", fmt.Sprintf("user %q does not exist; skipped", rec.Username))
	}
	if err != nil {
		return nil, err
	}
	if rec.HasPIN && pinHash == "" {
		return skipped("pin", checkImportPIN(rec.PIN).Error())
	}
	switch {
	case u.PrimaryCard == rec.Card:
		rep.Unchanged++
	case u.SecondaryCard == rec.Card:
		return skipped("card", "card number is this user's secondary card/ID number; skipped")
	default:
		err := tx.SetUserCard(ctx, u.ID, store.PrimaryCard, rec.Card, model.CardOriginAdmin)
		if errors.Is(err, store.ErrCardInUse) {
			return skipped("card", "card number is already in use by another user; skipped")
		}
		if err != nil {
			return nil, err
		}
		rep.Updated++
	}
	if rec.HasPIN {
		if u.HasPIN() && !overwritePINs {
			rep.PINsKept++
			return nil, nil
		}
		if err := tx.SetUserPIN(ctx, u.ID, pinHash); err != nil {
			return nil, err
		}
		rep.PINsSet++
	}
	return nil, nil
}
