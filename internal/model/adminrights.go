package model

// AdminRight is one area of the admin interface that a delegated
// administrator may be given (PaperCut's Options > Admin Rights).
type AdminRight string

// The admin rights, by the names scripts use (set-admin-access-rights).
const (
	RightDashboard       AdminRight = "dashboard"
	RightUsersView       AdminRight = "users.view"
	RightUsersEdit       AdminRight = "users.edit"
	RightUsersBalance    AdminRight = "users.balance"
	RightUsersCards      AdminRight = "users.cards"
	RightUsersInternal   AdminRight = "users.internal"
	RightGroups          AdminRight = "groups"
	RightAccountsView    AdminRight = "accounts.view"
	RightAccountsEdit    AdminRight = "accounts.edit"
	RightAccountsBalance AdminRight = "accounts.balance"
	RightAccountsSync    AdminRight = "accounts.sync"
	RightUserSync        AdminRight = "user-sync"
	RightOptions         AdminRight = "options"
	RightLogs            AdminRight = "logs"
	RightAdminRights     AdminRight = "admin-rights"
)

// AdminRightInfo is a right with the words the admin page shows for it.
type AdminRightInfo struct {
	Right AdminRight
	Label string
}

// AdminRights lists every right in the order the admin page shows them.
var AdminRights = []AdminRightInfo{
	{RightDashboard, "Dashboard"},
	{RightUsersView, "Users: view"},
	{RightUsersEdit, "Users: edit details"},
	{RightUsersBalance, "Users: adjust balances"},
	{RightUsersCards, "Users: card/ID numbers and PINs"},
	{RightUsersInternal, "Users: internal users (create, delete, reset password)"},
	{RightGroups, "Groups and Bulk User Actions"},
	{RightAccountsView, "Shared accounts: view"},
	{RightAccountsEdit, "Shared accounts: create, edit, delete"},
	{RightAccountsBalance, "Shared accounts: adjust balances"},
	{RightAccountsSync, "Shared Account Sync and batch import"},
	{RightUserSync, "User/Group Sync and its options"},
	{RightOptions, "Options (general, notifications, card settings)"},
	{RightLogs, "Logs (audit, sync runs, mail outbox)"},
	{RightAdminRights, "Admin Rights"},
}

// AllAdminRights returns every right, in the admin page's order.
func AllAdminRights() []AdminRight {
	out := make([]AdminRight, len(AdminRights))
	for i, r := range AdminRights {
		out[i] = r.Right
	}
	return out
}

// KnownAdminRight reports whether r is one of AdminRights.
func KnownAdminRight(r AdminRight) bool {
	for _, k := range AdminRights {
		if k.Right == r {
			return true
		}
	}
	return false
}

// SortAdminRights returns the known rights of set in the admin page's
// order, each once.
func SortAdminRights(set []AdminRight) []AdminRight {
	out := []AdminRight{}
	for _, k := range AdminRights {
		for _, r := range set {
			if r == k.Right {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Shared-account scopes of an admin-access entry.
const (
	// ScopeAll: every shared account (PaperCut's default).
	ScopeAll = "all"
	// ScopeAccessList: the accounts whose access list includes the
	// administrator, directly or through a group.
	ScopeAccessList = "access-list"
	// ScopeAccounts: the listed top-level accounts and their sub-accounts.
	ScopeAccounts = "accounts"
)

// impliedBy lists the rights that come with another: nobody adjusts,
// edits or resets what they cannot see.
var impliedBy = map[AdminRight]AdminRight{
	RightUsersEdit:       RightUsersView,
	RightUsersBalance:    RightUsersView,
	RightUsersCards:      RightUsersView,
	RightUsersInternal:   RightUsersView,
	RightAccountsEdit:    RightAccountsView,
	RightAccountsBalance: RightAccountsView,
}

// WithImpliedAdminRights returns rights with the view rights they imply
// (users.balance gives users.view, accounts.balance accounts.view…), in
// the admin page's order.
func WithImpliedAdminRights(rights []AdminRight) []AdminRight {
	out := append([]AdminRight(nil), rights...)
	for _, r := range rights {
		if v, ok := impliedBy[r]; ok {
			out = append(out, v)
		}
	}
	return SortAdminRights(out)
}
