package web

import (
	"context"
	"net/http"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/store"
)

// User portal > Change Details: register a card the user holds, or
// generate a new primary number (Options > General > User Features).
func init() {
	addFeature(func(s *Server) {
		s.Handle("POST /user/details/card", UserOnly, s.portalCardRegister)
		s.Handle("POST /user/details/card/generate", UserOnly, s.portalCardGenerate)
	})
}

// cardAttemptFloor is the least time a self-service card request takes to
// answer, whatever its outcome, so that a number held by someone else
// cannot be told from a free one (or from a refusal for too many
// attempts) by timing.
const cardAttemptFloor = 400 * time.Millisecond

// padCardAttempt waits until cardAttemptFloor has passed since start.
func padCardAttempt(ctx context.Context, start time.Time) { padUntil(ctx, start, cardAttemptFloor) }

// padUntil waits until floor has passed since start, or ctx ends.
func padUntil(ctx context.Context, start time.Time, floor time.Duration) {
	wait := floor - time.Since(start)
	if wait <= 0 {
		return
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// portalCards is the card part of Change Details.
type portalCards struct {
	cards.SelfServiceOptions
	RegisterField string // "primary" or "secondary"
	// Registered is the number now in the registration field, masked.
	Registered string
	// NewNumber is a number just generated, shown this once.
	NewNumber string
	Notified  bool
}

// portalCardsData returns the card part of the page, or nil when the card
// service is not set up or the site offers neither form.
func (s *Server) portalCardsData(r *http.Request) *portalCards {
	svc := s.features.Cards
	if svc == nil {
		return nil
	}
	u := SessionOf(r).User
	o := svc.SelfService(r.Context(), u)
	if !o.Register && !o.Generate {
		return nil
	}
	pc := &portalCards{SelfServiceOptions: o, RegisterField: cards.SlotName(o.RegisterSlot)}
	current := u.SecondaryCard
	if o.RegisterSlot == store.PrimaryCard {
		current = u.PrimaryCard
	}
	if current != "" {
		pc.Registered = cards.Mask(current)
	}
	return pc
}

// renderDetailsError shows Change Details again with a form's error.
func (s *Server) renderDetailsError(w http.ResponseWriter, r *http.Request, msg string) error {
	d := s.detailsData(r)
	d.Error = msg
	return s.Render(w, r, http.StatusBadRequest, "portal_details.html", "Change Details", d)
}

// portalCardRegister registers the card number typed (or sent by a USB
// card reader acting as a keyboard) in card_number. Every outcome takes
// at least cardAttemptFloor before a byte of the answer goes out; every
// refusal reads the same.
func (s *Server) portalCardRegister(w http.ResponseWriter, r *http.Request) error {
	ctx, start := r.Context(), time.Now()
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	change, err := svc.RegisterOwnCard(ctx, s.Actor(r), SessionOf(r).User, r.PostFormValue("card_number"))
	padCardAttempt(ctx, start)
	if err != nil {
		if msg, ok := formError(err); ok {
			return s.renderDetailsError(w, r, msg)
		}
		return err
	}
	msg := "Your card was registered as your " + cards.SlotName(change.Slot) + " Card/ID number."
	if change.Unchanged {
		msg = "That card is already your " + cards.SlotName(change.Slot) + " Card/ID number."
	}
	return s.Redirect(w, r, "/user/details", "ok", msg)
}

// portalCardGenerate gives the user a new random primary number and shows
// it on the page this once (it is not put in a redirect's flash cookie).
func (s *Server) portalCardGenerate(w http.ResponseWriter, r *http.Request) error {
	ctx, start := r.Context(), time.Now()
	svc, err := s.cardService()
	if err != nil {
		return err
	}
	u := SessionOf(r).User
	change, err := svc.GenerateOwnCard(ctx, s.Actor(r), u)
	padCardAttempt(ctx, start)
	if err != nil {
		if msg, ok := formError(err); ok {
			return s.renderDetailsError(w, r, msg)
		}
		return err
	}
	u.PrimaryCard = change.Number
	d := s.detailsData(r)
	if d.Cards != nil {
		d.Cards.NewNumber, d.Cards.Notified = change.Number, change.Notified
	}
	return s.Render(w, r, http.StatusOK, "portal_details.html", "Change Details", d)
}
