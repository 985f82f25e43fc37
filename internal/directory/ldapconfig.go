package directory

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Directory presets.
const (
	PresetOpenLDAP        = "openldap"
	PresetActiveDirectory = "ad"
)

// Defaults for LDAPConfig fields left at zero.
const (
	DefaultPageSize = 500
	DefaultTimeout  = 30 * time.Second
)

// AttrMap names the directory attributes that fill each user and group field.
// An empty name leaves that field blank.
type AttrMap struct {
	Username      string
	FullName      string
	Email         string
	Department    string
	Office        string
	PrimaryCard   string
	SecondaryCard string
	OtherEmails   string // every value is kept, comma separated
	HomeFolder    string
	// AccountControl is Active Directory's userAccountControl: bit 2 set
	// means the account is disabled.
	AccountControl string
	// AccountExpires is Active Directory's accountExpires: a time in 100 ns
	// steps since 1601 (UTC); 0 and 9223372036854775807 mean never. An
	// account past it counts as disabled.
	AccountExpires string
	GroupName      string
	GroupMember    string // values are member DNs (groupOfNames, AD groups)
	GroupMemberUID string // values are usernames (posixGroup memberUid)
}

// LDAPConfig is the configuration of an LDAP user source.
type LDAPConfig struct {
	Preset             string // PresetOpenLDAP or PresetActiveDirectory
	URL                string // ldap://host[:port] or ldaps://host[:port]
	StartTLS           bool
	InsecureSkipVerify bool
	CACertFile         string
	BindDN             string // empty: anonymous
	BindPassword       string
	BaseDN             string
	UserFilter         string
	GroupBaseDN        string // empty: BaseDN
	GroupFilter        string // empty: groups are not read
	Attr               AttrMap
	// CardRegex, when set, extracts the card number from the card
	// attributes: the first capture group, or the whole match. A value it
	// does not match gives a blank card.
	CardRegex string
	// NestedGroups makes a member of a group that is itself a member of
	// another group a member of that one too, at any depth (to
	// MaxNestingDepth), cycles included.
	NestedGroups bool
	PageSize     uint32        // 0: DefaultPageSize
	Timeout      time.Duration // per connection and per request; 0: DefaultTimeout
}

// Preset returns the defaults of a directory kind: PresetOpenLDAP or
// PresetActiveDirectory. Any other name gives a config that Validate refuses.
func Preset(name string) LDAPConfig {
	c := LDAPConfig{Preset: name, PageSize: DefaultPageSize, Timeout: DefaultTimeout}
	switch name {
	case PresetOpenLDAP:
		c.UserFilter = "(objectClass=inetOrgPerson)"
		c.GroupFilter = "(|(objectClass=groupOfNames)(objectClass=posixGroup))"
		c.Attr = AttrMap{
			Username:       "uid",
			FullName:       "cn",
			Email:          "mail",
			Department:     "departmentNumber",
			Office:         "physicalDeliveryOfficeName",
			PrimaryCard:    "employeeNumber",
			GroupName:      "cn",
			GroupMember:    "member",
			GroupMemberUID: "memberUid",
		}
	case PresetActiveDirectory:
		c.NestedGroups = true
		c.UserFilter = "(&(objectCategory=person)(objectClass=user))"
		c.GroupFilter = "(objectClass=group)"
		c.Attr = AttrMap{
			Username:       "sAMAccountName",
			FullName:       "displayName",
			Email:          "mail",
			Department:     "department",
			Office:         "physicalDeliveryOfficeName",
			PrimaryCard:    "pager",
			HomeFolder:     "homeDirectory",
			AccountControl: "userAccountControl",
			AccountExpires: "accountExpires",
			GroupName:      "cn",
			GroupMember:    "member",
		}
	}
	return c
}

// attributeName is an LDAP attribute description: a name or an OID, with
// options such as ";binary".
var attributeName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$`)

// Validate reports the first field that is missing or malformed.
func (c LDAPConfig) Validate() error {
	if c.Preset != PresetOpenLDAP && c.Preset != PresetActiveDirectory {
		return fmt.Errorf("directory: Preset %q: must be %q or %q", c.Preset, PresetOpenLDAP, PresetActiveDirectory)
	}
	urls, err := ParseURLs(c.URL)
	if err != nil {
		return err
	}
	for _, u := range urls {
		if err := validateURL(u, c.StartTLS); err != nil {
			return err
		}
	}
	if c.BindDN != "" {
		if _, err := ParseBindIdentity(c.BindDN); err != nil {
			return fmt.Errorf("directory: BindDN %q: %w", c.BindDN, err)
		}
		if c.BindPassword == "" {
			return errors.New("directory: BindPassword: is required when BindDN is set (a bind with an empty password is refused)")
		}
	}
	if c.BaseDN == "" {
		return errors.New("directory: BaseDN: is required")
	}
	for _, dn := range []struct{ field, value string }{{"BaseDN", c.BaseDN}, {"GroupBaseDN", c.GroupBaseDN}} {
		if _, err := ldap.ParseDN(dn.value); dn.value != "" && err != nil {
			return fmt.Errorf("directory: %s %q: %w", dn.field, dn.value, err)
		}
	}
	if c.UserFilter == "" {
		return errors.New("directory: UserFilter: is required")
	}
	if _, err := ldap.CompileFilter(parenthesize(c.UserFilter)); err != nil {
		return fmt.Errorf("directory: UserFilter %q: %w", c.UserFilter, err)
	}
	if c.GroupFilter != "" {
		if _, err := ldap.CompileFilter(parenthesize(c.GroupFilter)); err != nil {
			return fmt.Errorf("directory: GroupFilter %q: %w", c.GroupFilter, err)
		}
		if c.Attr.GroupName == "" {
			return errors.New("directory: Attr.GroupName: is required when GroupFilter is set")
		}
		if c.Attr.GroupMember == "" && c.Attr.GroupMemberUID == "" {
			return errors.New("directory: Attr.GroupMember or Attr.GroupMemberUID: one is required when GroupFilter is set")
		}
	}
	if c.Attr.Username == "" {
		return errors.New("directory: Attr.Username: is required")
	}
	for _, a := range c.Attr.fields() {
		if a.value != "" && !attributeName.MatchString(a.value) {
			return fmt.Errorf("directory: Attr.%s %q: is not an attribute name", a.field, a.value)
		}
	}
	if c.CardRegex != "" {
		if _, err := regexp.Compile(c.CardRegex); err != nil {
			return fmt.Errorf("directory: CardRegex %q: %w", c.CardRegex, err)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("directory: Timeout %s: must not be negative", c.Timeout)
	}
	return nil
}

// CheckURL reports what is wrong with an LDAP server URL, for the
// user-sync.ldap.url setting when it is saved.
func CheckURL(raw string) error {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	_, err := ParseURLs(raw)
	return err
}

// maxURLs bounds the servers of one source.
const maxURLs = 16

// ParseURLs splits the URL setting into its servers, tried in order: URLs
// separated by spaces or commas ("ldaps://dc1.corp.example
// ldaps://dc2.corp.example"). Each must be ldap[s]://host[:port].
func ParseURLs(raw string) ([]string, error) {
	urls := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(urls) == 0 {
		return nil, errors.New("directory: URL: is required")
	}
	if len(urls) > maxURLs {
		return nil, fmt.Errorf("directory: URL: lists %d servers, at most %d are tried", len(urls), maxURLs)
	}
	seen := make(map[string]bool, len(urls))
	for _, u := range urls {
		if err := validateURL(u, false); err != nil {
			return nil, err
		}
		if key := strings.ToLower(u); seen[key] {
			return nil, fmt.Errorf("directory: URL %q: is listed twice", u)
		} else {
			seen[key] = true
		}
	}
	return urls, nil
}

func validateURL(raw string, startTLS bool) error {
	if raw == "" {
		return errors.New("directory: URL: is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("directory: URL %q: %w", raw, err)
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return fmt.Errorf("directory: URL %q: must start with ldap:// or ldaps://", raw)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("directory: URL %q: has no host", raw)
	}
	if u.Path != "" && u.Path != "/" || strings.ContainsAny(raw, "?#") || u.User != nil {
		return fmt.Errorf("directory: URL %q: must be only ldap[s]://host[:port] (the base DN is a setting of its own)", raw)
	}
	if startTLS && u.Scheme == "ldaps" {
		return fmt.Errorf("directory: StartTLS: cannot be used with an ldaps:// URL, which is already encrypted")
	}
	return nil
}

type namedAttr struct{ field, value string }

// fields lists the attribute map with the Go field names used in errors.
func (m AttrMap) fields() []namedAttr {
	return []namedAttr{
		{"Username", m.Username}, {"FullName", m.FullName}, {"Email", m.Email},
		{"Department", m.Department}, {"Office", m.Office}, {"PrimaryCard", m.PrimaryCard},
		{"SecondaryCard", m.SecondaryCard}, {"OtherEmails", m.OtherEmails},
		{"HomeFolder", m.HomeFolder}, {"AccountControl", m.AccountControl},
		{"AccountExpires", m.AccountExpires}, {"GroupName", m.GroupName}, {"GroupMember", m.GroupMember},
		{"GroupMemberUID", m.GroupMemberUID},
	}
}

// parenthesize lets an administrator write "objectClass=user" for
// "(objectClass=user)", as most LDAP tools do.
func parenthesize(filter string) string {
	f := strings.TrimSpace(filter)
	if strings.HasPrefix(f, "(") {
		return f
	}
	return "(" + f + ")"
}
