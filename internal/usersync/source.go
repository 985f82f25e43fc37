// Package usersync keeps Ream's users and groups in step with the
// organisation's directory (SPEC §4): a source (LDAP or text files) is read,
// the planner turns its records and the current users into a plan, and the
// applier applies the plan in one transaction, recorded as a sync run. The
// same engine serves the admin page, the CLI, the API, the nightly schedule
// and the batch user import (§4.1). It also checks directory users'
// passwords at login.
package usersync

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/safepath"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// Source kinds of the user-sync.source setting.
const (
	SourceNone = "none"
	SourceLDAP = "ldap"
	SourceFile = "file"
)

// ErrNoSource is returned when user-sync.source is "none".
var ErrNoSource = core.Errorf(core.Invalid, "no user/group sync source is configured (Options > User/Group Sync)")

// Field names of a user record, as the planner and reports call them.
const (
	FieldFullName      = "full name"
	FieldEmail         = "email"
	FieldDepartment    = "department"
	FieldOffice        = "office"
	FieldPrimaryCard   = "primary card"
	FieldSecondaryCard = "secondary card"
	FieldOtherEmails   = "other emails"
	FieldAlias         = "username alias"
	FieldHomeFolder    = "home folder"
	FieldPIN           = "card PIN"
	FieldPrintDisabled = "printing disabled"
)

// Source is a configured directory source with the user fields it
// provides: a field it does not provide is never changed by a sync.
type Source struct {
	directory.Source
	Fields map[string]bool
}

// SourceConfig is the source part of the settings, as the admin page edits it.
type SourceConfig struct {
	Kind       string // SourceNone, SourceLDAP or SourceFile
	LDAP       directory.LDAPConfig
	UsersFile  string
	GroupsFile string
}

// LoadSourceConfig reads the source settings. LDAP fields left empty take
// the preset's values; attribute overrides are applied.
func LoadSourceConfig(ctx context.Context, set *settings.Settings) (SourceConfig, error) {
	sc := SourceConfig{Kind: set.Get(ctx, settings.UserSyncSource)}
	switch sc.Kind {
	case SourceLDAP:
		c := directory.Preset(set.Get(ctx, settings.UserSyncLDAPPreset))
		c.URL = set.Get(ctx, settings.UserSyncLDAPURL)
		c.StartTLS = set.Bool(ctx, settings.UserSyncLDAPStartTLS)
		c.InsecureSkipVerify = set.Bool(ctx, settings.UserSyncLDAPSkipTLS)
		c.CACertFile = set.Get(ctx, settings.UserSyncLDAPCACert)
		switch set.Get(ctx, settings.UserSyncLDAPNested) {
		case "y":
			c.NestedGroups = true
		case "n":
			c.NestedGroups = false
		} // "preset": as Preset set it
		c.BindDN = set.Get(ctx, settings.UserSyncLDAPBindDN)
		c.BindPassword = set.Get(ctx, settings.UserSyncLDAPBindPW)
		c.BaseDN = set.Get(ctx, settings.UserSyncLDAPBaseDN)
		c.GroupBaseDN = set.Get(ctx, settings.UserSyncLDAPGroupDN)
		if f := set.Get(ctx, settings.UserSyncLDAPFilter); f != "" {
			c.UserFilter = f
		}
		if f := set.Get(ctx, settings.UserSyncLDAPGroupFlt); f != "" {
			c.GroupFilter = f
		}
		c.CardRegex = set.Get(ctx, settings.UserSyncLDAPCardRe)
		if err := ApplyAttributeOverrides(&c.Attr, set.Get(ctx, settings.UserSyncLDAPAttrs)); err != nil {
			return sc, err
		}
		sc.LDAP = c
	case SourceFile:
		sc.UsersFile = set.Get(ctx, settings.UserSyncFileUsers)
		sc.GroupsFile = set.Get(ctx, settings.UserSyncFileGroups)
	}
	return sc, nil
}

// Build makes the source. File paths are resolved inside the configured
// sync.allowed-roots right before use, as for shared-account sync (SPEC §3).
func (sc SourceConfig) Build(cfg *config.Config) (*Source, error) {
	switch sc.Kind {
	case SourceLDAP:
		src, err := directory.NewLDAPSource(sc.LDAP)
		if err != nil {
			return nil, core.Errorf(core.Invalid, "%v", err)
		}
		a := sc.LDAP.Attr
		return &Source{Source: src, Fields: fieldSet(map[string]string{
			FieldFullName: a.FullName, FieldEmail: a.Email, FieldDepartment: a.Department, FieldOffice: a.Office,
			FieldPrimaryCard: a.PrimaryCard, FieldSecondaryCard: a.SecondaryCard, FieldOtherEmails: a.OtherEmails,
			FieldHomeFolder: a.HomeFolder,
		})}, nil
	case SourceFile:
		var roots []string
		if cfg != nil {
			roots = cfg.Sync.AllowedRoots
		}
		if sc.UsersFile == "" {
			return nil, core.Errorf(core.Invalid, "user-sync.file.users: the users file is not set")
		}
		users, err := safepath.Resolve(roots, sc.UsersFile)
		if err != nil {
			return nil, core.Errorf(core.Invalid, "users file: %v", err)
		}
		fc := directory.FileConfig{UsersFile: users}
		if sc.GroupsFile != "" {
			if fc.GroupsFile, err = safepath.Resolve(roots, sc.GroupsFile); err != nil {
				return nil, core.Errorf(core.Invalid, "groups file: %v", err)
			}
		}
		all := map[string]bool{}
		for _, f := range []string{FieldFullName, FieldEmail, FieldDepartment, FieldOffice, FieldPrimaryCard,
			FieldSecondaryCard, FieldOtherEmails, FieldAlias, FieldHomeFolder, FieldPIN} {
			all[f] = true
		}
		return &Source{Source: fc, Fields: all}, nil
	case SourceNone, "":
		return nil, ErrNoSource
	}
	return nil, core.Errorf(core.Invalid, "user-sync.source %q is not none, ldap or file", sc.Kind)
}

// ManagesCard reports whether the directory provides u's card number in
// slot (store.PrimaryCard or store.SecondaryCard): u came from a sync source
// and the configured source maps a card attribute (LDAP) or column (users
// file) into that field. Such a number is the directory's to change, not
// the user's. Settings that cannot be read count as managed, so that a
// broken configuration never lets a user overwrite a directory's number.
func ManagesCard(ctx context.Context, set *settings.Settings, u *model.User, slot int) bool {
	if u.Internal || u.SourceID == "" {
		return false
	}
	sc, err := LoadSourceConfig(ctx, set)
	if err != nil {
		return true
	}
	switch sc.Kind {
	case SourceLDAP:
		if slot == store.SecondaryCard {
			return sc.LDAP.Attr.SecondaryCard != ""
		}
		return sc.LDAP.Attr.PrimaryCard != ""
	case SourceFile:
		return true // the users file has both card columns
	}
	return false
}

func fieldSet(attrs map[string]string) map[string]bool {
	out := make(map[string]bool)
	for field, attr := range attrs {
		if attr != "" {
			out[field] = true
		}
	}
	return out
}

// attributeFields maps the names of the attribute override lines to the
// attribute map's fields.
var attributeFields = map[string]func(*directory.AttrMap) *string{
	"username":         func(m *directory.AttrMap) *string { return &m.Username },
	"full-name":        func(m *directory.AttrMap) *string { return &m.FullName },
	"email":            func(m *directory.AttrMap) *string { return &m.Email },
	"department":       func(m *directory.AttrMap) *string { return &m.Department },
	"office":           func(m *directory.AttrMap) *string { return &m.Office },
	"primary-card":     func(m *directory.AttrMap) *string { return &m.PrimaryCard },
	"secondary-card":   func(m *directory.AttrMap) *string { return &m.SecondaryCard },
	"other-emails":     func(m *directory.AttrMap) *string { return &m.OtherEmails },
	"home-folder":      func(m *directory.AttrMap) *string { return &m.HomeFolder },
	"account-control":  func(m *directory.AttrMap) *string { return &m.AccountControl },
	"account-expires":  func(m *directory.AttrMap) *string { return &m.AccountExpires },
	"group-name":       func(m *directory.AttrMap) *string { return &m.GroupName },
	"group-member":     func(m *directory.AttrMap) *string { return &m.GroupMember },
	"group-member-uid": func(m *directory.AttrMap) *string { return &m.GroupMemberUID },
}

// AttributeFieldNames lists the names accepted in attribute overrides.
func AttributeFieldNames() []string {
	return []string{"username", "full-name", "email", "department", "office", "primary-card", "secondary-card",
		"other-emails", "home-folder", "account-control", "account-expires", "group-name", "group-member", "group-member-uid"}
}

// ApplyAttributeOverrides applies "field=attribute" lines (blank and "#"
// lines ignored; an empty attribute leaves the field unmapped) to m. The
// directory validates attribute names when the source is built.
func ApplyAttributeOverrides(m *directory.AttrMap, text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		name, attr, ok := strings.Cut(s, "=")
		if !ok {
			return core.Errorf(core.Invalid, "attribute mapping line %d: %q is not field=attribute", line, s)
		}
		field, known := attributeFields[strings.ToLower(strings.TrimSpace(name))]
		if !known {
			return core.Errorf(core.Invalid, "attribute mapping line %d: unknown field %q (one of %s)", line,
				strings.TrimSpace(name), strings.Join(AttributeFieldNames(), ", "))
		}
		*field(m) = strings.TrimSpace(attr)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return core.Errorf(core.Invalid, "attribute mapping line %d: longer than 64 KiB", line+1)
		}
		return fmt.Errorf("usersync: unable to read the attribute mapping: %w", err)
	}
	return nil
}
