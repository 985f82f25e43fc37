package passwordlink

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// LinkProblem is why a link cannot set a password; its message is safe to
// show whoever holds the link and never says whose it was.
type LinkProblem struct {
	Reason string // "invalid", "used" or "expired"
	Msg    string
}

func (e *LinkProblem) Error() string { return e.Msg }

var (
	errInvalidLink = &LinkProblem{Reason: "invalid", Msg: "This link is not valid: it may have been cut short by your mail program. Copy the whole link from the email, or ask for a new one."}
	errUsedLink    = &LinkProblem{Reason: "used", Msg: "This link was already used: each link sets a password once. If you still need to, ask for a new one."}
	errExpiredLink = &LinkProblem{Reason: "expired", Msg: "This link has expired. Ask for a new one."}
)

// Link is a usable link, for the page that asks for the new password.
type Link struct {
	Purpose  string
	Username string
}

// Check reports whether token is a link that may still set a password.
func (s *Service) Check(ctx context.Context, token string) (*Link, error) {
	p, u, err := s.lookUp(ctx, token)
	if err != nil {
		return nil, err
	}
	return &Link{Purpose: p.Purpose, Username: u.Username}, nil
}

func (s *Service) lookUp(ctx context.Context, token string) (*store.PasswordToken, *model.User, error) {
	token, err := ParseToken(token)
	if err != nil {
		return nil, nil, errInvalidLink
	}
	p, err := s.Core.Store.PasswordTokenByHash(ctx, auth.TokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errInvalidLink
	}
	if err != nil {
		return nil, nil, err
	}
	if err := problem(p, s); err != nil {
		return nil, nil, err
	}
	u, err := s.Core.Store.UserByID(ctx, p.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.DeletedAt != nil || !u.Internal {
		// Deleted, or taken over by a directory since: the link is void.
		return nil, nil, errInvalidLink
	}
	return p, u, nil
}

func problem(p *store.PasswordToken, s *Service) error {
	switch {
	case p.UsedAt != nil:
		return errUsedLink
	case !s.now().Before(p.ExpiresAt):
		return errExpiredLink
	}
	return nil
}

// SetPassword spends the link and gives its user password, which must
// follow the password rules (a refusal names the rule and leaves the link
// usable). Every session of the user ends, and the change is audited with
// the address it came from. It returns the username, for the login page.
func (s *Service) SetPassword(ctx context.Context, token, password, client string) (string, error) {
	token, err := ParseToken(token)
	if err != nil {
		return "", errInvalidLink
	}
	if _, _, err := s.lookUp(ctx, token); err != nil {
		return "", err
	}
	if err := auth.CheckPassword(password); err != nil {
		var pe *auth.PolicyError
		if errors.As(err, &pe) {
			return "", core.Errorf(core.Invalid, "%s", pe.Message)
		}
		return "", core.Errorf(core.Invalid, "%s", err.Error())
	}
	hash, err := s.Core.Hasher.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	var username string
	err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.UsePasswordToken(ctx, auth.TokenHash(token), s.now())
		if errors.Is(err, store.ErrNotFound) {
			return errInvalidLink
		}
		if err != nil {
			return err
		}
		if err := problem(p, s); err != nil {
			return err // another server spent it a moment ago
		}
		u, err := tx.UserByID(ctx, p.UserID)
		if err != nil {
			return err
		}
		if u.DeletedAt != nil || !u.Internal {
			return errInvalidLink
		}
		username = u.Username
		if err := tx.SetUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.EndSessions(ctx, "", u.ID, ""); err != nil {
			return err
		}
		a := core.Actor{Name: u.Username, Address: client, Kind: model.ActorUser, UserID: u.ID}
		detail := "password set through an emailed reset link; every session ended"
		if p.Purpose == PurposeSet {
			detail = "password set through an emailed set-password link; every session ended"
		}
		return tx.Audit(ctx, a.Stamp(model.AuditEntry{Action: "user.password." + p.Purpose, Target: u.Username, Detail: detail}))
	})
	if err != nil {
		var lp *LinkProblem
		if errors.As(err, &lp) {
			return "", lp
		}
		return "", fmt.Errorf("passwordlink: unable to set a password: %w", err)
	}
	return username, nil
}

// IsLinkProblem reports whether err is a used, expired or invalid link.
func IsLinkProblem(err error) (*LinkProblem, bool) {
	var lp *LinkProblem
	ok := errors.As(err, &lp)
	return lp, ok
}

// SendResult is what an administrator's "Email a set-password link" did.
type SendResult struct {
	Selected    int
	Sent        int
	HasPassword []string // skipped: they have a password and the admin asked for those without
	NotInternal []string // directory users: nothing to set
	NoEmail     []string // no usable email address
	Refused     []string // administrators the actor may not manage
	Missing     []string // listed usernames without a live user
}

// Summary is the result in one sentence, for the page and the audit log.
func (r SendResult) Summary() string {
	s := fmt.Sprintf("Set-password links emailed to %d of %d selected users.", r.Sent, r.Selected)
	for _, part := range []struct {
		n    int
		what string
	}{
		{len(r.HasPassword), "already have a password"},
		{len(r.NotInternal), "are directory users"},
		{len(r.NoEmail), "have no usable email address"},
		{len(r.Refused), "are administrators you may not manage"},
		{len(r.Missing), "do not exist"},
	} {
		if part.n > 0 {
			s += fmt.Sprintf(" %d %s.", part.n, part.what)
		}
	}
	return s
}

// Selection is who a bulk "Email a set-password link" goes to: a group's
// members or listed usernames, optionally only internal users who have
// no password yet.
type Selection struct {
	Group             string
	Users             []string
	OnlyWithoutPasswd bool
}

// SendSetLinks emails a set-password link to each chosen internal user,
// as actor a (whose audit lines name them). Users it cannot or may not
// send to are listed in the result, not failed on.
func (s *Service) SendSetLinks(ctx context.Context, a core.Actor, sel Selection) (SendResult, error) {
	return s.sendSetLinks(ctx, a, sel, false)
}

// PreviewSetLinks is SendSetLinks without sending: Sent counts the users
// who would get a link, for the page's confirmation.
func (s *Service) PreviewSetLinks(ctx context.Context, a core.Actor, sel Selection) (SendResult, error) {
	return s.sendSetLinks(ctx, a, sel, true)
}

func (s *Service) sendSetLinks(ctx context.Context, a core.Actor, sel Selection, dryRun bool) (SendResult, error) {
	var res SendResult
	if !s.SetEnabled(ctx) {
		return res, core.Errorf(core.Forbidden, "set-password links are switched off (Options > Password Links)")
	}
	users, missing, err := s.selectUsers(ctx, sel)
	if err != nil {
		return res, err
	}
	res.Selected, res.Missing = len(users), missing
	now := s.now()
	for _, u := range users {
		switch {
		case !u.Internal:
			res.NotInternal = append(res.NotInternal, u.Username)
			continue
		case sel.OnlyWithoutPasswd && u.PasswordHash != "":
			res.HasPassword = append(res.HasPassword, u.Username)
			continue
		case s.Core.MayManageAdmin(ctx, a, u) != nil:
			res.Refused = append(res.Refused, u.Username)
			continue
		case mail.CheckRecipient(u.Email) != nil:
			res.NoEmail = append(res.NoEmail, u.Username)
			continue
		}
		if !dryRun {
			if _, err := s.issue(ctx, a, u, PurposeSet, now, "set-password link emailed by "+a.Name); err != nil {
				return res, err
			}
		}
		res.Sent++
	}
	return res, nil
}

func (s *Service) selectUsers(ctx context.Context, sel Selection) (users []*model.User, missing []string, err error) {
	group := strings.TrimSpace(sel.Group)
	var names []string
	for _, n := range sel.Users {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	switch {
	case group == "" && len(names) == 0:
		return nil, nil, core.Errorf(core.Invalid, "choose a group or a list of users")
	case group != "" && len(names) > 0:
		return nil, nil, core.Errorf(core.Invalid, "choose a group or a list of users, not both")
	}
	err = s.Core.Store.InTx(ctx, func(tx *store.Tx) error {
		if group != "" {
			users, err = tx.GroupUsers(ctx, group)
			if errors.Is(err, store.ErrNotFound) {
				return core.Errorf(core.NotFound, "group %q does not exist", group)
			}
			return err
		}
		var ids []int64
		if ids, missing, err = tx.UserIDsByNames(ctx, names); err != nil {
			return err
		}
		users, err = tx.UsersByIDs(ctx, ids)
		return err
	})
	return users, missing, err
}
