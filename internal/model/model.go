// Package model holds Ream's domain types (SPEC §2), shared by the store,
// the sync engines, the command table and the web pages.
package model

import (
	"time"

	"github.com/reamprint/ream/internal/money"
)

// User is a person who prints.
type User struct {
	ID            int64
	Username      string // lower-case, unique among live users
	FullName      string
	Email         string
	OtherEmails   string // comma separated
	Department    string
	Office        string
	Notes         string
	Alias         string // username alias (secondary username)
	HomeFolder    string
	PrimaryCard   string
	SecondaryCard string
	PINHash       string // argon2id; empty when no PIN
	PasswordHash  string // internal users only; argon2id
	Balance       money.Amount
	Restricted    bool
	PrintDisabled bool
	Internal      bool
	SourceID      string // "" for internal/manual users; e.g. "ldap", "file"
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeletedAt     *time.Time
}

// HasPIN reports whether the user has a card PIN set.
func (u *User) HasPIN() bool { return u.PINHash != "" }

// Pseudo-group names (SPEC §2).
const (
	GroupAllUsers         = "[All Users]"
	GroupAllUsersAlt      = "!!All Users!!"
	GroupInternalUsers    = "!!Internal Users!!"
	GroupInternalUsersAlt = "[Internal Users]"
)

// IsAllUsersGroup reports whether name is the everyone pseudo-group in either spelling.
func IsAllUsersGroup(name string) bool {
	return name == GroupAllUsers || name == GroupAllUsersAlt
}

// Group is a set of users, from a directory or made in Ream.
type Group struct {
	ID        int64
	Name      string
	SourceID  string
	Tracked   bool // refreshed by user/group sync
	Members   int  // count, filled by listing queries
	CreatedAt time.Time
}

// Invoice options of a shared account.
const (
	InvoiceAlways   = "ALWAYS_INVOICE"
	InvoiceNever    = "NEVER_INVOICE"
	InvoiceUserOn   = "USER_CHOICE_ON"
	InvoiceUserOff  = "USER_CHOICE_OFF"
	CommentNone     = "NO_COMMENT"
	CommentOptional = "COMMENT_OPTIONAL"
	CommentRequired = "COMMENT_REQUIRED"
)

// ValidInvoiceOption reports whether s is one of the invoice option words.
func ValidInvoiceOption(s string) bool {
	switch s {
	case InvoiceAlways, InvoiceNever, InvoiceUserOn, InvoiceUserOff:
		return true
	}
	return false
}

// ValidCommentOption reports whether s is one of the comment option words.
func ValidCommentOption(s string) bool {
	switch s {
	case CommentNone, CommentOptional, CommentRequired:
		return true
	}
	return false
}

// Account is a shared account or a sub-account (ParentID != 0).
type Account struct {
	ID            int64
	ParentID      int64 // 0 for a top-level account
	ParentName    string
	Name          string // own name, without the parent
	Enabled       bool
	DisabledUntil *time.Time // when set and in the future, the account is disabled until then
	PINHash       string     // account code; unique among live accounts when not empty
	Balance       money.Amount
	Overdraft     money.Amount
	Restricted    bool
	AccessUsers   []string
	AccessGroups  []string
	InvoiceOption string
	CommentOption string
	Notes         string
	SourceID      string // "" for accounts made by hand; "sync" for source-managed
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeletedAt     *time.Time
}

// FullName is the API name of the account: "Parent\Sub" or "Parent".
func (a *Account) FullName() string {
	if a.ParentName != "" {
		return a.ParentName + `\` + a.Name
	}
	return a.Name
}

// Transaction is one change of a balance.
type Transaction struct {
	ID           int64
	UserID       int64 // one of UserID/AccountID is set
	AccountID    int64
	Amount       money.Amount
	BalanceAfter money.Amount
	Comment      string
	Actor        string
	CreatedAt    time.Time
}

// AuditEntry is one administrative change.
type AuditEntry struct {
	ID    int64
	Actor string // the name shown: a username, "admin", "system", "cli:<os user>", "api"
	// ActorKind says what Actor names (one of the Actor… kinds), so that the
	// built-in admin and a user who is called "admin" are never confused;
	// ActorUserID is the user's id when the kind is ActorUser.
	ActorKind   string
	ActorUserID int64
	Address     string // client address, when known
	Action      string // e.g. "account.create"
	Target      string
	Detail      string
	CreatedAt   time.Time
}

// ActorLabel is how the audit log shows who made a change: the built-in
// admin is marked, so that a user who happens to be called "admin" (from
// before the name was reserved) reads differently.
func (e AuditEntry) ActorLabel() string {
	if e.ActorKind == ActorBuiltInAdmin {
		return e.Actor + " (built-in admin)"
	}
	return e.Actor
}

// Kinds of audit actors.
const (
	ActorBuiltInAdmin = "builtin-admin" // the built-in admin account
	ActorUser         = "user"          // a person: a delegated admin or a portal user
	ActorAPI          = "api"           // a web-services caller
	ActorCLI          = "cli"           // the local command line
	ActorSystem       = "system"        // the server itself: scheduler, login checks, first start
)

// SyncCounts are the totals of a sync run.
type SyncCounts struct {
	Read, Created, Updated, Unchanged, Deleted, Skipped, Errors int
}

// SyncRun records one run of a sync or batch import.
type SyncRun struct {
	ID         int64
	Kind       string // "accounts", "users", "account-import", "user-import", …
	Source     string
	Options    string
	StartedBy  string
	Test       bool
	Status     string // "running", "ok", "failed", "refused"
	Message    string
	Counts     SyncCounts
	Report     string
	StartedAt  time.Time
	FinishedAt *time.Time
}

// Task is a background task whose progress getTaskStatus reports.
type Task struct {
	ID        int64
	Kind      string
	Completed bool
	Message   string
	UpdatedAt time.Time
}

// Account selection modes, PaperCut's names (getUserProperty
// account-selection.mode).
const (
	SelectAutoPersonal        = "AUTO_CHARGE_TO_PERSONAL_ACCOUNT"
	SelectPersonalWithConfirm = "CHARGE_TO_PERSONAL_ACCOUNT_WITH_CONFIRMATION"
	SelectAutoShared          = "AUTO_CHARGE_TO_SHARED"
	SelectStandardPopup       = "SHOW_ACCOUNT_SELECTION_POPUP"
	SelectAdvancedPopup       = "SHOW_ADVANCED_ACCOUNT_SELECTION_POPUP"
)

// AccountSelectionModes lists the modes Ream keeps, in PaperCut's order.
var AccountSelectionModes = []string{SelectAutoPersonal, SelectPersonalWithConfirm, SelectAutoShared, SelectStandardPopup, SelectAdvancedPopup}

// AccountSelection is how a user's printing is to be charged, as PaperCut
// keeps it per user. Ream stores and shows it; print charging reads it.
type AccountSelection struct {
	Mode string
	// AccountID is the shared account AUTO_CHARGE_TO_SHARED charges;
	// DefaultAccountID the popups' preselected one (0: none). The names
	// are filled when read ("" for an account since deleted).
	AccountID          int64
	AccountName        string
	DefaultAccountID   int64
	DefaultAccountName string
	// The standard popup's four flags, and "charge to the personal
	// account, allocate to the shared one" (also of the other modes that
	// name a shared account).
	AllowPersonal  bool
	AllowList      bool
	AllowPIN       bool
	AllowOtherUser bool
	ChargePersonal bool
}

// DefaultAccountSelection is a user's selection until one is set.
func DefaultAccountSelection() AccountSelection {
	return AccountSelection{Mode: SelectAutoPersonal, AllowPersonal: true}
}
