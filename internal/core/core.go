// Package core holds the operations every door shares: the admin pages, the
// XML-RPC API and server-command all create users, change accounts and move
// balances through these methods, so the rules and the audit log are the
// same whichever way a change arrives.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"slices"
	"strconv"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// Actor is who makes a change, for the audit log and permission checks.
type Actor struct {
	Name    string // "admin", a username, "cli:<os user>", "api", "scheduler"
	Address string // client address, when known
	// Kind is one of model's Actor… kinds (ActorSystem when empty); UserID
	// is the person's user id when Kind is model.ActorUser. The audit log
	// keeps both, so that a user called like a system actor is still told
	// apart from it.
	Kind   string
	UserID int64
	// AllAccounts is true when the actor may see and change every shared
	// account (the built-in admin, the CLI, the API and full admins).
	AllAccounts bool
	// Delegated is true for a delegated administrator acting through the
	// admin pages; Rights are then theirs, and nobody grants a right they
	// do not hold. The built-in admin, the CLI and the API hold every right.
	Delegated bool
	Rights    []model.AdminRight
	// Scope, for an actor without AllAccounts, are the shared accounts it
	// may change (the admin pages set it from the session); nil: none.
	Scope *store.AccountScope
}

// mayChangeAccount reports whether the actor may change account id.
func (a Actor) mayChangeAccount(id int64) bool {
	return a.AllAccounts || a.Scope != nil && a.Scope.Contains(id)
}

// holds reports whether the actor holds right r.
func (a Actor) holds(r model.AdminRight) bool {
	return !a.Delegated || slices.Contains(a.Rights, r)
}

// Holds is holds for the admin pages, which leave out of a form what the
// person may not change (core refuses it as well).
func (a Actor) Holds(r model.AdminRight) bool { return a.holds(r) }

// fullAdmin reports whether the actor holds every right and all shared
// accounts: what adding, removing and scoping admin access needs.
func (a Actor) fullAdmin() bool {
	if !a.Delegated {
		return true
	}
	for _, r := range model.AllAdminRights() {
		if !a.holds(r) {
			return false
		}
	}
	return a.AllAccounts
}

// FullAdmin is fullAdmin for other packages (the internal-user import).
func (a Actor) FullAdmin() bool { return a.fullAdmin() }

// mayManageAdmin refuses a delegated administrator, unless she has every
// right and all accounts, a change that would hand her another
// administrator's account: a new password, or deleting it (whose name a new
// user could then take).
func (c *Core) mayManageAdmin(ctx context.Context, a Actor, u *model.User) error {
	if a.fullAdmin() {
		return nil
	}
	grant, err := c.Store.AdminGrantOf(ctx, u.Username)
	if err != nil {
		return err
	}
	if len(grant.Rights) > 0 {
		return Errorf(Forbidden, "user %q is an administrator: only an administrator with every right and all shared accounts may set their password or delete them", u.Username)
	}
	return nil
}

// MayManageAdmin is mayManageAdmin for other packages.
func (c *Core) MayManageAdmin(ctx context.Context, a Actor, u *model.User) error {
	return c.mayManageAdmin(ctx, a, u)
}

// System actors.
var (
	// CLI is whoever runs a command on the server's machine, named as
	// "cli:<os user>" so the audit log says who it was.
	CLI       = Actor{Name: cliActorName(), Kind: model.ActorCLI, AllAccounts: true}
	Scheduler = Actor{Name: "scheduler", Kind: model.ActorSystem, AllAccounts: true}
)

// Code classifies a failure for the transports (HTTP status, fault code).
type Code int

// Failure classes.
const (
	Invalid   Code = iota + 1 // bad input: 400
	NotFound                  // 404
	Conflict                  // 409
	Forbidden                 // 403
)

// Error is a failure whose message is safe and clear to show the caller.
type Error struct {
	Code Code
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf builds a caller-facing error.
func Errorf(code Code, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// AsError returns the caller-facing error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Core is the shared set of operations.
type Core struct {
	Store    *store.Store
	Settings *settings.Settings
	Hasher   *auth.Hasher
	Config   *config.Config
	Log      *slog.Logger

	// NewUserHooks run inside the transaction that creates a user, after the
	// row exists (e.g. card generation when blank, notification mail). Every
	// path that creates a user goes through createUser, so they run for all.
	NewUserHooks []func(ctx context.Context, tx *store.Tx, u *model.User) error
}

// New returns a Core over these parts.
func New(s *store.Store, set *settings.Settings, h *auth.Hasher, cfg *config.Config, log *slog.Logger) *Core {
	if log == nil {
		log = slog.Default()
	}
	return &Core{Store: s, Settings: set, Hasher: h, Config: cfg, Log: log}
}

// audit writes an audit entry for actor inside tx.
func audit(ctx context.Context, tx *store.Tx, a Actor, action, target, detail string) error {
	return tx.Audit(ctx, a.Entry(action, target, detail))
}

// Entry is the audit entry of a change the actor made.
func (a Actor) Entry(action, target, detail string) model.AuditEntry {
	return a.Stamp(model.AuditEntry{Action: action, Target: target, Detail: detail})
}

// Stamp fills in who made the change of an audit entry: the actor's name,
// kind, user id and address.
func (a Actor) Stamp(e model.AuditEntry) model.AuditEntry {
	e.Actor, e.ActorKind, e.ActorUserID, e.Address = a.Name, a.Kind, a.UserID, a.Address
	if e.ActorKind == "" {
		e.ActorKind = model.ActorSystem
	}
	return e
}

// notFound maps store.ErrNotFound to a caller-facing error.
func notFound(err error, what string, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(NotFound, "%s %q does not exist", what, name)
	}
	return err
}

// invalidInput turns a refused password or username into a caller-facing
// error carrying the rule's own sentence, without the package's prefix.
// Message is the caller-facing text of a core Error (not of an internal
// failure, which has none).
func Message(err error) (string, bool) {
	if e, ok := AsError(err); ok {
		return e.Msg, true
	}
	return "", false
}

func invalidInput(err error) error {
	var pe *auth.PolicyError
	if errors.As(err, &pe) {
		return &Error{Code: Invalid, Msg: pe.Message}
	}
	return &Error{Code: Invalid, Msg: err.Error()}
}

// cliActorName is "cli:" and the operating-system account running this
// process: the login name where the system knows it, else $USER, else the
// numeric uid.
func cliActorName() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if name == "" {
		name = "uid-" + strconv.Itoa(os.Getuid())
	}
	return "cli:" + name
}
