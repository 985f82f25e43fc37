// Package settings holds Ream's typed runtime options (SPEC §2 "Settings"):
// one table of keys with types, defaults and validation, stored in the
// database, changed through the admin pages, the CLI or the API's
// setConfigValue (only keys marked API may be changed there). No setting
// names a program to run. Keys saying where and how a stored secret is
// sent (the SMTP server, security and login; the LDAP URL, TLS and bind
// DN) are not API keys and guard their secret: changing them clears it.
package settings

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/store"
)

// Kind is the type of a setting's value.
type Kind int

// Setting kinds.
const (
	String Kind = iota
	Bool
	Int
	Enum
	Text // multi-line string
)

// Key describes one setting.
type Key struct {
	Name    string
	Kind    Kind
	Default string
	Enum    []string
	Min     int
	Max     int
	Secret  bool // never shown back, never logged or audited (e.g. the SMTP password)
	// LocalReadable marks a secret that the local command line's
	// get-config may print (PaperCut's monitoring scripts read
	// health.api.key that way); it is still never logged.
	LocalReadable bool
	// LocalOnly keys are changed only on the server's own command line
	// (set-config) or in its configuration, never through the admin pages
	// or the API: they are the keys to the API itself.
	LocalOnly bool
	API       bool // may be read and changed through getConfigValue/setConfigValue
	// Guards names the secret this key protects: a stored password is
	// meant only for the server and login it was entered with, so
	// changing this key clears that secret unless the same change sets it.
	Guards string
	Help   string
	check  func(string) error
}

// Setting names used across Ream.
const (
	CurrencySymbol       = "general.currency-symbol"
	UserViewCard         = "user.allow-view-card"
	UserViewCardField    = "user.view-card-field"
	UserChangePIN        = "user.allow-change-pin"
	UserRegisterCard     = "user.allow-register-card"
	UserRegisterField    = "user.register-card-field"
	UserGenerateCard     = "user.allow-generate-card"
	UserPasswordHelp     = "user.password-help-text"
	CardLength           = "cards.length"
	CardPrefix           = "cards.prefix"
	CardLuhn             = "cards.luhn"
	CardAutoGenerate     = "cards.auto-generate-when-blank"
	CardConverters       = "cards.lookup-converters"
	NotifyCardGenerated  = "notify.card-generated"
	NotifyCardSubject    = "notify.card-generated.subject"
	NotifyCardBody       = "notify.card-generated.body"
	SMTPHost             = "smtp.host"
	SMTPPort             = "smtp.port"
	SMTPSecurity         = "smtp.security"
	SMTPUsername         = "smtp.username"
	SMTPPassword         = "smtp.password"
	SMTPFrom             = "smtp.from"
	AccountSyncSource    = "account-sync.source"
	AccountSyncLocation  = "account-sync.location"
	AccountSyncSubs      = "account-sync.subdirectories-as-sub-accounts"
	AccountSyncSchedule  = "account-sync.schedule"
	OvernightMinute      = "account-sync.overnight-minute"
	DeleteLimitPercent   = "sync.delete-limit-percent"
	DeleteLimitMax       = "sync.delete-limit-max"
	UserSyncSource       = "user-sync.source"
	UserSyncSchedule     = "user-sync.schedule"
	UserSyncTime         = "user-sync.time"
	UserSyncImportNew    = "user-sync.import-new-users"
	UserSyncUpdate       = "user-sync.update-details"
	UserSyncOnlyGroups   = "user-sync.only-groups"
	UserSyncSkipDisabled = "user-sync.skip-disabled"
	UserSyncLDAPPreset   = "user-sync.ldap.preset"
	UserSyncLDAPURL      = "user-sync.ldap.url"
	UserSyncLDAPStartTLS = "user-sync.ldap.starttls"
	UserSyncLDAPBindDN   = "user-sync.ldap.bind-dn"
	UserSyncLDAPBindPW   = "user-sync.ldap.bind-password"
	UserSyncLDAPBaseDN   = "user-sync.ldap.base-dn"
	UserSyncLDAPFilter   = "user-sync.ldap.user-filter"
	UserSyncLDAPGroupDN  = "user-sync.ldap.group-base-dn"
	UserSyncLDAPGroupFlt = "user-sync.ldap.group-filter"
	UserSyncLDAPAttrs    = "user-sync.ldap.attributes" // name=attribute lines
	UserSyncLDAPCardRe   = "user-sync.ldap.card-regex"
	UserSyncLDAPSkipTLS  = "user-sync.ldap.insecure-skip-verify"
	UserSyncLDAPCACert   = "user-sync.ldap.ca-cert-file"
	UserSyncLDAPNested   = "user-sync.ldap.nested-groups"
	UserSyncFileUsers    = "user-sync.file.users"
	UserSyncFileGroups   = "user-sync.file.groups"
	PublicURL            = "web.public-url"
	PasswordReset        = "password-reset.enabled"
	PasswordResetMinutes = "password-reset.link-minutes"
	PasswordResetSubject = "password-reset.subject"
	PasswordResetBody    = "password-reset.body"
	PasswordSet          = "password-set.enabled"
	PasswordSetHours     = "password-set.link-hours"
	PasswordSetSubject   = "password-set.subject"
	PasswordSetBody      = "password-set.body"
	WebServicesToken     = "auth.webservices.auth-token"
	HealthAPIKey         = "health.api.key"
)

var keys = []Key{
	{Name: CurrencySymbol, Kind: String, Default: "$", API: true, Help: "Symbol shown before amounts."},
	{Name: UserViewCard, Kind: Bool, Default: "N", API: true, Help: "Allow users to view their Card/ID numbers in the user portal."},
	{Name: UserViewCardField, Kind: Enum, Default: "primary", Enum: []string{"primary", "secondary"}, API: true, Help: "Which Card/ID number users may view."},
	{Name: UserChangePIN, Kind: Bool, Default: "N", API: true, Help: "Allow users to change their card PIN in the user portal."},
	{Name: UserRegisterCard, Kind: Bool, Default: "N", API: true, Help: "Allow users to register the number of a card they hold in the user portal."},
	// Secondary by default: a user registering a badge they found or
	// borrowed never replaces the number IT issued.
	{Name: UserRegisterField, Kind: Enum, Default: "secondary", Enum: []string{"primary", "secondary"}, API: true, Help: "Which Card/ID number users register a card into."},
	{Name: UserGenerateCard, Kind: Bool, Default: "N", API: true, Help: "Allow users to generate a new random primary Card/ID number in the user portal."},
	{Name: UserPasswordHelp, Kind: Text, Default: "Your password is managed by your organisation's directory. Ask your IT help desk to change it.", API: true, Help: "What directory users are told about changing their password."},
	{Name: CardLength, Kind: Int, Default: "12", Min: 6, Max: 32, API: true, Help: "Digits in a generated Card/ID number."},
	{Name: CardPrefix, Kind: String, Default: "", API: true, Help: "Letters or digits put before generated numbers.", check: checkCardPrefix},
	{Name: CardLuhn, Kind: Bool, Default: "N", API: true, Help: "End generated numbers with a Luhn check digit."},
	{Name: CardAutoGenerate, Kind: Bool, Default: "N", API: true, Help: "Auto-generate random primary Card/ID number when blank."},
	{Name: CardConverters, Kind: String, Default: "", API: true, Help: "Card number converters for lookups, chained with | (hex2dec, dec2hex, ascii-enc)."},
	{Name: NotifyCardGenerated, Kind: Bool, Default: "N", API: true, Help: "Notify users when their Card/ID number is auto-generated."},
	{Name: NotifyCardSubject, Kind: String, Default: "Your new card/ID number", API: true, Help: "Subject of the Card/ID number notification."},
	{Name: NotifyCardBody, Kind: Text, Default: "", API: true, Help: "Body of the Card/ID number notification (empty: the built-in text)."},
	{Name: SMTPHost, Kind: String, Default: "", Guards: SMTPPassword, Help: "SMTP server host name."},
	{Name: SMTPPort, Kind: Int, Default: "25", Min: 1, Max: 65535, Guards: SMTPPassword, Help: "SMTP server port."},
	{Name: SMTPSecurity, Kind: Enum, Default: "starttls", Enum: []string{"none", "starttls", "tls"}, Guards: SMTPPassword, Help: "SMTP connection security."},
	{Name: SMTPUsername, Kind: String, Default: "", Guards: SMTPPassword, Help: "SMTP login (empty: no login)."},
	{Name: SMTPPassword, Kind: String, Default: "", Secret: true, Help: "SMTP password."},
	{Name: SMTPFrom, Kind: String, Default: "", API: true, Help: "Sender address of Ream's emails.", check: checkOptionalAddress},
	{Name: AccountSyncSource, Kind: Enum, Default: "none", Enum: []string{"none", "file", "directory"}, Help: "Shared account sync source."},
	{Name: AccountSyncLocation, Kind: String, Default: "", Help: "Server path of the sync file or directory (under sync.allowed-roots)."},
	{Name: AccountSyncSubs, Kind: Bool, Default: "N", Help: "Treat subdirectories as sub-accounts."},
	{Name: AccountSyncSchedule, Kind: Enum, Default: "off", Enum: []string{"off", "hourly", "overnight"}, Help: "When the shared account sync runs."},
	{Name: OvernightMinute, Kind: Int, Default: "55", Min: 0, Max: 59, API: true, Help: "Minute past midnight of the overnight sync (00:MM server time)."},
	{Name: DeleteLimitPercent, Kind: Int, Default: "20", Min: 0, Max: 100, API: true, Help: "A sync deleting more than this share of source-managed items stops for confirmation."},
	{Name: DeleteLimitMax, Kind: Int, Default: "500", Min: 0, Max: 10000000, API: true, Help: "A sync deleting more than this many items stops for confirmation."},
	{Name: UserSyncSource, Kind: Enum, Default: "none", Enum: []string{"none", "ldap", "file"}, Help: "Primary user/group sync source."},
	{Name: UserSyncSchedule, Kind: Enum, Default: "nightly", Enum: []string{"off", "nightly"}, Help: "When the user/group sync runs."},
	{Name: UserSyncTime, Kind: String, Default: "00:55", Help: "Time of the nightly user/group sync (HH:MM server time).", check: checkClock},
	{Name: UserSyncImportNew, Kind: Bool, Default: "Y", Help: "Import new users."},
	{Name: UserSyncUpdate, Kind: Bool, Default: "Y", Help: "Update details of existing users."},
	{Name: UserSyncOnlyGroups, Kind: Text, Default: "", Help: "Import only members of these groups (one per line)."},
	{Name: UserSyncSkipDisabled, Kind: Bool, Default: "Y", Help: "Skip disabled directory accounts (Active Directory); with N they are imported with printing disabled."},
	{Name: UserSyncLDAPPreset, Kind: Enum, Default: "openldap", Enum: []string{"openldap", "ad"}, Help: "Directory type."},
	{Name: UserSyncLDAPURL, Kind: String, Default: "", Guards: UserSyncLDAPBindPW, Help: "LDAP server URL (ldap:// or ldaps://); several, separated by spaces, are tried in order.", check: directory.CheckURL},
	{Name: UserSyncLDAPStartTLS, Kind: Bool, Default: "N", Guards: UserSyncLDAPBindPW, Help: "Use StartTLS on ldap:// URLs."},
	{Name: UserSyncLDAPBindDN, Kind: String, Default: "", Guards: UserSyncLDAPBindPW, check: checkBindIdentity,
		Help: "Service account the sync binds as: a DN, or for Active Directory also user@domain (UPN) or DOMAIN\\user."},
	{Name: UserSyncLDAPBindPW, Kind: String, Default: "", Secret: true, Help: "Bind password."},
	{Name: UserSyncLDAPBaseDN, Kind: String, Default: "", Help: "Base DN of users."},
	{Name: UserSyncLDAPFilter, Kind: String, Default: "", Help: "User filter (empty: the preset's)."},
	{Name: UserSyncLDAPGroupDN, Kind: String, Default: "", Help: "Base DN of groups (empty: the base DN)."},
	{Name: UserSyncLDAPGroupFlt, Kind: String, Default: "", Help: "Group filter (empty: the preset's)."},
	{Name: UserSyncLDAPAttrs, Kind: Text, Default: "", Help: "Attribute mapping overrides, one field=attribute per line."},
	{Name: UserSyncLDAPCardRe, Kind: String, Default: "", Help: "Regular expression extracting the card number from its attribute.", check: checkRegexp},
	{Name: UserSyncLDAPSkipTLS, Kind: Bool, Default: "N", Guards: UserSyncLDAPBindPW, Help: "Do not verify the directory's TLS certificate (testing only)."},
	{Name: UserSyncLDAPCACert, Kind: String, Default: "", Guards: UserSyncLDAPBindPW, check: checkCACertFile,
		Help: "Server path of a PEM file with the CA certificate(s) that signed the directory's TLS certificate (empty: the system's)."},
	{Name: UserSyncLDAPNested, Kind: Enum, Default: "preset", Enum: []string{"preset", "y", "n"},
		Help: "Enable nested group membership: a member of a group inside a group is a member of both (preset: Y for Active Directory, N for OpenLDAP)."},
	{Name: UserSyncFileUsers, Kind: String, Default: "", Help: "Server path of the users file."},
	{Name: UserSyncFileGroups, Kind: String, Default: "", Help: "Server path of the groups file."},
	// Links in mail are built from this address, never from the Host a
	// request came with: a forged Host would send a user's reset link to
	// another site. It says where users are sent, so it is not an API key.
	{Name: PublicURL, Kind: String, Default: "", check: checkPublicURL,
		Help: "Address of this server as users reach it (https://print.example.org:9192), for the links in password emails."},
	// On by default: it only works for internal users with an email
	// address, once mail and the public address are set up, and otherwise
	// a user who forgot a password has to find an administrator.
	{Name: PasswordReset, Kind: Bool, Default: "Y", API: true, Help: "Offer \"Forgot your password?\" on the user login page for internal users."},
	{Name: PasswordResetMinutes, Kind: Int, Default: "60", Min: 5, Max: 1440, API: true, Help: "Minutes a reset link works."},
	{Name: PasswordResetSubject, Kind: String, Default: "Reset your print account password", API: true, Help: "Subject of the password reset email."},
	{Name: PasswordResetBody, Kind: Text, Default: "", API: true, Help: "Body of the password reset email (empty: the built-in text)."},
	{Name: PasswordSet, Kind: Bool, Default: "Y", API: true, Help: "Let administrators email internal users a link to set their password."},
	{Name: PasswordSetHours, Kind: Int, Default: "72", Min: 1, Max: 720, API: true, Help: "Hours a set-password link works."},
	{Name: PasswordSetSubject, Kind: String, Default: "Set your print account password", API: true, Help: "Subject of the set-password email."},
	{Name: PasswordSetBody, Kind: Text, Default: "", API: true, Help: "Body of the set-password email (empty: the built-in text)."},
	{Name: WebServicesToken, Kind: String, Default: "", Secret: true, LocalOnly: true, check: checkTokens,
		Help: "Web services API token(s), as in the configuration key of the same name (one token, a JSON array or a JSON object); when set, replaces the configuration's. Set with server-command set-config; takes effect without a restart."},
	{Name: HealthAPIKey, Kind: String, Default: "", Secret: true, LocalReadable: true, LocalOnly: true, check: checkHealthKey,
		Help: "Key of the health API (/api/health), made on first start; read with server-command get-config health.api.key."},
}

var byName = func() map[string]*Key {
	m := map[string]*Key{}
	for i := range keys {
		m[keys[i].Name] = &keys[i]
	}
	return m
}()

// Keys returns every setting, sorted by name.
func Keys() []Key {
	out := append([]Key(nil), keys...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the description of a setting.
func Lookup(name string) (*Key, bool) {
	k, ok := byName[name]
	return k, ok
}

// Normalize validates a value for a key and returns its canonical form
// (booleans as Y/N, enums lower-case, numbers without padding).
func Normalize(name, value string) (string, error) {
	k, ok := byName[name]
	if !ok {
		return "", fmt.Errorf("unknown setting %q", name)
	}
	if strings.ContainsRune(value, 0) {
		return "", fmt.Errorf("%s: value contains a NUL byte", name)
	}
	if len(value) > 64*1024 {
		return "", fmt.Errorf("%s: value longer than 64 KiB", name)
	}
	switch k.Kind {
	case Bool:
		switch strings.ToLower(strings.TrimSpace(value)) {
		case "y", "yes", "true", "1", "on":
			value = "Y"
		case "n", "no", "false", "0", "off", "":
			value = "N"
		default:
			return "", fmt.Errorf("%s: %q is not Y or N", name, value)
		}
	case Int:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a whole number", name, value)
		}
		if n < k.Min || n > k.Max {
			return "", fmt.Errorf("%s: %d is outside %d to %d", name, n, k.Min, k.Max)
		}
		value = strconv.Itoa(n)
	case Enum:
		v := strings.ToLower(strings.TrimSpace(value))
		found := false
		for _, e := range k.Enum {
			found = found || e == v
		}
		if !found {
			return "", fmt.Errorf("%s: %q is not one of %s", name, value, strings.Join(k.Enum, ", "))
		}
		value = v
	case String:
		if strings.ContainsAny(value, "\r\n") {
			return "", fmt.Errorf("%s: value may not contain line breaks", name)
		}
		value = strings.TrimSpace(value)
	}
	if k.check != nil {
		if err := k.check(value); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
	}
	return value, nil
}

func checkTokens(v string) error {
	_, err := config.ParseWebServicesTokens(v)
	return err
}

func checkHealthKey(v string) error {
	if v != "" && len(v) < 16 {
		return fmt.Errorf("the key must be at least 16 characters")
	}
	if strings.ContainsAny(v, " \t") {
		return fmt.Errorf("the key may not contain spaces")
	}
	return nil
}

func checkCardPrefix(v string) error {
	if len(v) > 16 {
		return fmt.Errorf("prefix longer than 16 characters")
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Errorf("prefix may contain only letters and digits")
		}
	}
	return nil
}

func checkOptionalAddress(v string) error {
	if v == "" {
		return nil
	}
	_, err := mail.ParseAddress(v)
	if err != nil {
		return fmt.Errorf("%q is not an email address", v)
	}
	return nil
}

func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(v, " \t\r\n") {
		return fmt.Errorf("%q is not an address like https://print.example.org:9192", v)
	}
	return nil
}

func checkClock(v string) error {
	if _, err := time.Parse("15:04", v); err != nil {
		return fmt.Errorf("%q is not a time like 00:55", v)
	}
	return nil
}

func checkBindIdentity(v string) error {
	if v == "" {
		return nil
	}
	_, err := directory.ParseBindIdentity(v)
	return err
}

func checkCACertFile(v string) error {
	if v == "" {
		return nil
	}
	if !filepath.IsAbs(v) {
		return fmt.Errorf("%q is not an absolute path on the server", v)
	}
	return directory.CheckCACertFile(v)
}

func checkRegexp(v string) error {
	if v == "" {
		return nil
	}
	if _, err := regexp.Compile(v); err != nil {
		return fmt.Errorf("not a regular expression: %v", err)
	}
	return nil
}

// Settings reads and writes settings through the store, with a short cache
// so that hot paths (card lookups) do not read the database every time.
type Settings struct {
	store *store.Store
	ttl   time.Duration

	mu      sync.Mutex
	values  map[string]string
	fetched time.Time
}

// New returns the settings of a store. Changes made by another server
// sharing the database are seen within ttl.
func New(s *store.Store, ttl time.Duration) *Settings {
	return &Settings{store: s, ttl: ttl}
}

func (s *Settings) snapshot(ctx context.Context) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values != nil && time.Since(s.fetched) < s.ttl {
		return s.values, nil
	}
	v, err := s.store.AllSettings(ctx)
	if err != nil {
		return nil, err
	}
	s.values, s.fetched = v, time.Now()
	return v, nil
}

// Get returns a setting's value, or its default.
func (s *Settings) Get(ctx context.Context, name string) string {
	k, ok := byName[name]
	if !ok {
		panic("settings: unknown key " + name) // a programming error, caught by tests
	}
	vals, err := s.snapshot(ctx)
	if err != nil {
		return k.Default
	}
	if v, ok := vals[name]; ok {
		return v
	}
	return k.Default
}

// Bool returns a boolean setting.
func (s *Settings) Bool(ctx context.Context, name string) bool { return s.Get(ctx, name) == "Y" }

// Int returns an integer setting.
func (s *Settings) Int(ctx context.Context, name string) int {
	n, err := strconv.Atoi(s.Get(ctx, name))
	if err != nil {
		n, _ = strconv.Atoi(byName[name].Default)
	}
	return n
}

// Set validates and stores a setting inside tx. The cache is dropped.
func (s *Settings) Set(ctx context.Context, tx *store.Tx, name, value string) error {
	v, err := Normalize(name, value)
	if err != nil {
		return err
	}
	if err := tx.SetSetting(ctx, name, v); err != nil {
		return err
	}
	s.Invalidate()
	return nil
}

// Invalidate drops the cache, so the next read sees the database.
func (s *Settings) Invalidate() {
	s.mu.Lock()
	s.values = nil
	s.mu.Unlock()
}
