// Package directory reads users and groups from the user sync sources of
// SPEC §4: an LDAP directory (OpenLDAP or Active Directory) and a pair of
// text files. A source only produces records; the sync planner decides what
// to create, update or delete.
package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/auth"
)

// ErrEmptySource is for callers that refuse to act on a read that found no
// users; Read itself returns an empty result without error.
var ErrEmptySource = errors.New("directory: the source returned no users")

// ErrInvalidCredentials is the one answer for an unknown user, a wrong
// password and an empty password, so a caller cannot tell them apart.
var ErrInvalidCredentials = errors.New("directory: invalid username or password")

// ErrUnavailable wraps every error caused by a directory that cannot be
// reached or that dropped the connection.
var ErrUnavailable = errors.New("directory: the directory server is unavailable")

// UserRecord is one user as a source describes it.
type UserRecord struct {
	Line          int // line in the users file; 0 for a directory entry
	Username      string
	FullName      string
	Email         string
	Department    string
	Office        string
	PrimaryCard   string
	SecondaryCard string
	OtherEmails   string // comma separated
	Alias         string
	HomeFolder    string
	PIN           string // plain text from the users file; the store hashes it
	Disabled      bool   // the directory marks the account disabled or expired (AD)
	// DisabledWhy says how: "userAccountControl marks it disabled" or
	// "accountExpires: expired on 2012-12-21".
	DisabledWhy string
	DN          string // distinguished name of a directory entry
	// Groups names the groups read that list this entry as a member, by
	// its DN as written or by its username (memberUid), so that a caller
	// handed a page can act on memberships before the read ends. It is a
	// hint that may miss a membership written in an unusual form and is
	// shared between records: Result.Groups is the authority. Only the
	// LDAP source fills it.
	Groups []string
}

// GroupRecord is one group and the usernames of its members.
type GroupRecord struct {
	Name    string
	Members []string // lower-case usernames, each also in Result.Users
}

// LineError is a line of a file or a directory entry that was skipped.
type LineError struct {
	Line   int    // 1-based line number; 0 for a directory entry
	DN     string // the directory entry, when the source is LDAP
	Field  string // the field at fault, e.g. "username"; empty for the whole line
	Reason string
}

// Error describes the skipped line or entry with its position and field.
func (e LineError) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
	case e.DN != "":
		fmt.Fprintf(&b, "entry %q", e.DN)
	default:
		b.WriteString("source")
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// Result is everything one read of a source produced.
type Result struct {
	Users   []UserRecord
	Groups  []GroupRecord
	Skipped []LineError
	// Disabled are the accounts left out because the directory marks them
	// disabled or expired (when ReadOptions.IncludeDisabled is off). Unlike
	// Skipped they are not a fault of the source.
	Disabled []DisabledAccount
	// Server is the directory server that answered (LDAP), and BoundAs
	// whom it was bound as ("" for an anonymous read).
	Server, BoundAs string
	// BaseDN is the base the users were read under; the read succeeding
	// proves it exists (a missing one fails it with noSuchObject).
	BaseDN string
	// Nesting is what following nested groups found; nil when nested
	// groups are not followed.
	Nesting *Nesting
}

// Nesting describes the nested groups of a read.
type Nesting struct {
	Depth     int  // the deepest nesting followed (0: no group contains another)
	Cycle     bool // some group is, through others, a member of itself
	Truncated bool // nesting deeper than MaxNestingDepth was not followed
}

// DisabledAccount is an account left out of a read as disabled or expired.
type DisabledAccount struct {
	Username, DN, Why string
}

// ReadOptions narrow what a source returns.
type ReadOptions struct {
	// Groups, when not empty, limits users to members of these groups
	// (names compared without regard to case).
	Groups []string
	// IncludeDisabled keeps accounts the directory marks disabled.
	IncludeDisabled bool
}

// Source is a user sync source.
type Source interface {
	// Name identifies the source in reports and in model.User.SourceID.
	Name() string
	// Read returns all users and groups, or an error and nothing at all.
	// progress, when not nil, is called with the number of users read so far.
	Read(ctx context.Context, opts ReadOptions, progress func(n int)) (*Result, error)
}

// Authenticator is implemented by sources that can check a user's password.
type Authenticator interface {
	// Authenticate returns the user when the password is right and
	// ErrInvalidCredentials for an unknown user or a wrong or empty password.
	Authenticate(ctx context.Context, username, password string) (*UserRecord, error)
}

// maxUsernameLength bounds a username from any source, in characters.
const maxUsernameLength = 128

// normalizeUsername trims and lower-cases a username and reports why it is
// unusable, or "" when it is fine.
func normalizeUsername(s string) (string, string) {
	if !utf8.ValidString(s) {
		return "", "is not valid UTF-8"
	}
	u := strings.ToLower(strings.TrimSpace(s))
	switch {
	case u == "":
		return "", "is required"
	case utf8.RuneCountInString(u) > maxUsernameLength:
		return "", fmt.Sprintf("is longer than %d characters", maxUsernameLength)
	case strings.IndexFunc(u, unicode.IsControl) >= 0:
		return "", "contains a control character"
	}
	if err := auth.CheckUsernameLooks(u); err != nil {
		var pe *auth.PolicyError
		if errors.As(err, &pe) {
			return "", fmt.Sprintf("%q: %s", u, pe.Message)
		}
		return "", err.Error()
	}
	return u, ""
}

// filterUsers applies ReadOptions to a read: it drops disabled users when
// asked, keeps only members of the chosen groups, and trims every group's
// member list to the users that remain so that records always agree.
func filterUsers(res *Result, opts ReadOptions) {
	var chosen map[string]bool
	if len(opts.Groups) > 0 {
		wanted := make(map[string]bool, len(opts.Groups))
		for _, g := range opts.Groups {
			wanted[strings.ToLower(strings.TrimSpace(g))] = true
		}
		chosen = make(map[string]bool)
		for _, g := range res.Groups {
			if wanted[strings.ToLower(g.Name)] {
				for _, m := range g.Members {
					chosen[m] = true
				}
			}
		}
	}
	keeps := func(u *UserRecord) bool {
		return (!u.Disabled || opts.IncludeDisabled) && (chosen == nil || chosen[u.Username])
	}
	if !opts.IncludeDisabled {
		for i := range res.Users {
			if u := &res.Users[i]; u.Disabled && (chosen == nil || chosen[u.Username]) {
				res.Disabled = append(res.Disabled, DisabledAccount{Username: u.Username, DN: u.DN, Why: u.DisabledWhy})
			}
		}
	}
	// The users are not filtered in place: pages of them may have been
	// handed to a caller that is still reading them (ReadPages). A new
	// list is made only when a user goes.
	all := true
	for i := range res.Users {
		if !keeps(&res.Users[i]) {
			all = false
			break
		}
	}
	if !all {
		var kept []UserRecord
		for i := range res.Users {
			if keeps(&res.Users[i]) {
				kept = append(kept, res.Users[i])
			}
		}
		res.Users = kept
	}
	names := make(map[string]bool, len(res.Users))
	for i := range res.Users {
		names[res.Users[i].Username] = true
	}
	for i := range res.Groups {
		members := res.Groups[i].Members[:0]
		for _, m := range res.Groups[i].Members {
			if names[m] {
				members = append(members, m)
			}
		}
		res.Groups[i].Members = members
	}
}
