package usersync

import (
	"context"
	"errors"
	"fmt"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// Authenticate checks a directory user's password by a live bind against
// the configured directory (web.UserAuthenticator). A user the directory
// knows but Ream does not yet is created on this first login.
func (s *Service) Authenticate(ctx context.Context, username, password string) (bool, error) {
	return s.LoginUser(ctx, username, password)
}

// LoginUser checks the password against the directory and, when it is
// right and the user is not yet in Ream, creates the user through core.
// An empty password, an unknown user and a wrong password all give false
// with no error; only a directory that cannot be asked gives an error.
// Sources that hold no passwords (text files) always give false.
func (s *Service) LoginUser(ctx context.Context, username, password string) (bool, error) {
	_, ok, err := s.LoginName(ctx, username, password)
	return ok, err
}

// LoginName is LoginUser that also says whose login it was: the Ream
// username of the directory entry, which differs from the name typed when
// an Active Directory user types a UPN (alice.archer@corp.example for the
// sAMAccountName alice). The name is "" unless ok.
func (s *Service) LoginName(ctx context.Context, username, password string) (string, bool, error) {
	rec, ok, err := s.login(ctx, username, password)
	if !ok || err != nil {
		return "", false, err
	}
	return rec, true, nil
}

func (s *Service) login(ctx context.Context, username, password string) (string, bool, error) {
	if password == "" || !s.SourceConfigured(ctx) {
		return "", false, nil
	}
	src, err := s.BuildSource(ctx)
	if err != nil {
		return "", false, fmt.Errorf("usersync: the directory is not usable for login: %w", err)
	}
	authn, ok := src.Source.(directory.Authenticator)
	if !ok {
		return "", false, nil
	}
	rec, err := authn.Authenticate(ctx, username, password)
	if errors.Is(err, directory.ErrInvalidCredentials) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("usersync: unable to check the password of %q: %w", username, err)
	}
	if rec.Disabled && s.Settings.Bool(ctx, settings.UserSyncSkipDisabled) {
		return "", false, nil
	}
	existing, err := s.Store.UserByName(ctx, rec.Username)
	switch {
	case err == nil:
		// An internal user of the same name keeps its own password until a
		// sync merges the two; the directory's answer does not log it in.
		return rec.Username, !existing.Internal, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", false, err
	}
	ok, err = s.createOnLogin(ctx, src, rec)
	return rec.Username, ok, err
}

// createOnLogin creates a directory user at first login, unless importing
// new users is off, or limited to members of chosen groups and the user is
// not one. Only Active Directory can tell that in one lookup (the in-chain
// matching rule, nested groups included); elsewhere such a user waits for
// the next sync.
func (s *Service) createOnLogin(ctx context.Context, src *Source, rec *directory.UserRecord) (bool, error) {
	opts := s.OptionsFromSettings(ctx)
	if !opts.ImportNew {
		return false, nil
	}
	if len(opts.OnlyGroups) > 0 {
		checker, ok := src.Source.(directory.GroupChecker)
		if !ok {
			return false, nil
		}
		member, err := checker.MemberOfAny(ctx, rec.DN, opts.OnlyGroups)
		if errors.Is(err, directory.ErrNoInChain) || err == nil && !member {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("usersync: unable to check the groups of %q at first login: %w", rec.Username, err)
		}
	}
	// Card numbers already in use are left out rather than failing the login.
	p := &Plan{Source: src.Name()}
	uc := UserChange{User: &model.User{Username: rec.Username, SourceID: src.Name()}}
	owners := map[string]int64{}
	for _, c := range []string{rec.PrimaryCard, rec.SecondaryCard} {
		if c == "" {
			continue
		}
		if _, err := s.Store.UserByCard(ctx, c); err == nil {
			owners[c] = -1
		}
	}
	applyRecord(p, src, &uc, *rec, &cardOwners{m: owners}, 0, true)
	a := core.Actor{Name: "login"}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		return s.Core.CreateUserTx(ctx, tx, a, uc.User)
	})
	var ce *core.Error
	if errors.As(err, &ce) && ce.Code == core.Conflict {
		// Created by a sync or a parallel login meanwhile.
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("usersync: unable to create %q at first login: %w", rec.Username, err)
	}
	s.Log.Info("directory user created at first login", "user", rec.Username)
	return true, nil
}
