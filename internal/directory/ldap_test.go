package directory

import (
	"context"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/reamprint/ream/internal/testenv/slapd"
)

const (
	readerDN       = "cn=reader,dc=example,dc=org"
	readerPassword = "reader-secret"
)

// readerEntry is the service account the tests bind as. It is not the
// rootdn, so the server's size limits apply to it.
const readerEntry = `dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader-secret
`

func testdataLDIF(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/users.ldif")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func openLDAPConfig(s *slapd.Server) LDAPConfig {
	c := Preset(PresetOpenLDAP)
	c.URL = s.URL
	c.BindDN = readerDN
	c.BindPassword = readerPassword
	c.BaseDN = s.BaseDN
	c.Timeout = 10 * time.Second
	return c
}

func newSource(t *testing.T, c LDAPConfig) *LDAPSource {
	t.Helper()
	src, err := NewLDAPSource(c)
	if err != nil {
		t.Fatalf("NewLDAPSource: %v", err)
	}
	return src
}

func usernames(users []UserRecord) []string {
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	slices.Sort(names)
	return names
}

func groupMembers(groups []GroupRecord) map[string][]string {
	m := make(map[string][]string)
	for _, g := range groups {
		members := slices.Clone(g.Members)
		slices.Sort(members)
		m[g.Name] = members
	}
	return m
}

func TestLDAPReadMapsAttributesAndGroups(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	c := openLDAPConfig(srv)
	c.CardRegex = `^CARD-0*([0-9]+)$`
	res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got, want := usernames(res.Users), []string{"alice", "bob", "carol", "dave"}; !slices.Equal(got, want) {
		t.Fatalf("users = %v, want %v", got, want)
	}
	var alice, bob, carol UserRecord
	for _, u := range res.Users {
		switch u.Username {
		case "alice":
			alice = u
		case "bob":
			bob = u
		case "carol":
			carol = u
		}
	}
	// The groups hint names memberships found as written (a DN, a
	// memberUid); bob's Staff DN is written in another case and spacing, so
	// only Result.Groups has that one.
	if !slices.Equal(bob.Groups, []string{"sales"}) || !slices.Equal(carol.Groups, []string{"sales"}) {
		t.Errorf("groups hint: bob %v, carol %v; want [sales] for both", bob.Groups, carol.Groups)
	}
	want := UserRecord{
		Username: "alice", FullName: "Alice Archer", Email: "alice@example.org",
		Department: "Finance", Office: "Level 2", PrimaryCard: "123",
		DN: "uid=alice,ou=people,dc=example,dc=org", Groups: []string{"Staff"},
	}
	if !reflect.DeepEqual(alice, want) {
		t.Errorf("alice = %+v\nwant    %+v", alice, want)
	}
	if carol.PrimaryCard != "" {
		t.Errorf("carol's card %q does not match CardRegex and should be blank", carol.PrimaryCard)
	}
	wantGroups := map[string][]string{
		"Staff": {"alice", "bob"}, // bob through a DN written in other case and spacing; ghost unknown
		"sales": {"bob", "carol"}, // memberUid; "nobody" is not a user
	}
	if got := groupMembers(res.Groups); !equalGroups(got, wantGroups) {
		t.Errorf("groups = %v, want %v", got, wantGroups)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped = %v, want none", res.Skipped)
	}
}

func equalGroups(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestLDAPReadOptions(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	c := openLDAPConfig(srv)
	// The test directory has no userAccountControl; employeeType carries
	// AD's flags for dave (514: disabled).
	c.Attr.AccountControl = "employeeType"
	src := newSource(t, c)
	tests := []struct {
		name string
		opts ReadOptions
		want []string
	}{
		{"disabled skipped", ReadOptions{}, []string{"alice", "bob", "carol"}},
		{"disabled included", ReadOptions{IncludeDisabled: true}, []string{"alice", "bob", "carol", "dave"}},
		{"members of one group", ReadOptions{Groups: []string{"STAFF"}}, []string{"alice", "bob"}},
		{"members of two groups", ReadOptions{Groups: []string{"staff", "sales"}}, []string{"alice", "bob", "carol"}},
		{"unknown group", ReadOptions{Groups: []string{"nope"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := src.Read(context.Background(), tt.opts, nil)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := usernames(res.Users); !slices.Equal(got, tt.want) {
				t.Errorf("users = %v, want %v", got, tt.want)
			}
			for _, g := range res.Groups {
				for _, m := range g.Members {
					if !slices.ContainsFunc(res.Users, func(u UserRecord) bool { return u.Username == m }) {
						t.Errorf("group %s lists %s, who is not among the users", g.Name, m)
					}
				}
			}
			// Pages hand over exactly the users of the result, as they come.
			var paged []UserRecord
			pres, err := src.ReadPages(context.Background(), tt.opts, nil, func(users []UserRecord) error {
				paged = append(paged, users...)
				return nil
			})
			if err != nil {
				t.Fatalf("ReadPages: %v", err)
			}
			if got := usernames(paged); !slices.Equal(got, tt.want) {
				t.Errorf("paged users = %v, want %v", got, tt.want)
			}
			if !slices.Equal(usernames(pres.Users), tt.want) || !equalGroups(groupMembers(pres.Groups), groupMembers(res.Groups)) {
				t.Errorf("ReadPages result differs from Read: users %v, groups %v", usernames(pres.Users), groupMembers(pres.Groups))
			}
		})
	}
}

func TestLDAPReadPagesStopsOnPageError(t *testing.T) {
	srv := slapd.Start(t, readerEntry, slapd.UsersLDIF(1200, 3))
	c := openLDAPConfig(srv)
	c.PageSize = 100
	stop := errors.New("no more")
	pages := 0
	res, err := newSource(t, c).ReadPages(context.Background(), ReadOptions{Groups: []string{"group1"}}, nil, func(users []UserRecord) error {
		pages++
		return stop
	})
	if !errors.Is(err, stop) || res != nil {
		t.Fatalf("ReadPages = %v, %v; want no result and the page's error", res, err)
	}
	if pages != 1 {
		t.Errorf("page called %d times after it failed, want 1", pages)
	}
}

func TestLDAPReadPagesPastTheSizeLimit(t *testing.T) {
	for _, limit := range []int{0, 50} {
		t.Run(map[int]string{0: "no limit", 50: "soft limit 50"}[limit], func(t *testing.T) {
			srv := slapd.StartWithOptions(t, slapd.Options{SoftSizeLimit: limit, LDIF: []string{readerEntry, slapd.UsersLDIF(1200, 3)}})
			if limit > 0 {
				assertUnpagedSearchIsCapped(t, srv)
			}
			c := openLDAPConfig(srv)
			c.PageSize = 500
			pages := 0
			res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, func(int) { pages++ })
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(res.Users) != 1200 {
				t.Fatalf("read %d users, want 1200", len(res.Users))
			}
			if pages != 3 {
				t.Errorf("progress called %d times, want one call per page (3)", pages)
			}
			total := 0
			for _, g := range res.Groups {
				total += len(g.Members)
			}
			if len(res.Groups) != 3 || total != 1200 {
				t.Errorf("groups: %d with %d members, want 3 with 1200", len(res.Groups), total)
			}
		})
	}
}

// assertUnpagedSearchIsCapped proves the limit is in force for the service
// account, so that a full paged read shows paging at work.
func assertUnpagedSearchIsCapped(t *testing.T, srv *slapd.Server) {
	t.Helper()
	conn, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(readerDN, readerPassword); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Search(ldap.NewSearchRequest(srv.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"uid"}, nil))
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("unpaged search: err = %v, want size limit exceeded", err)
	}
}

func TestLDAPReadFailsWhenTheDirectoryGoesAway(t *testing.T) {
	srv := slapd.Start(t, readerEntry, slapd.UsersLDIF(1200, 0))
	c := openLDAPConfig(srv)
	c.PageSize = 100
	res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, func(int) { srv.Stop() })
	if err == nil {
		t.Fatalf("Read succeeded with %d users after the server stopped", len(res.Users))
	}
	if res != nil {
		t.Errorf("Read returned a partial result of %d users with its error", len(res.Users))
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	if _, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Read of a stopped server: err = %v, want ErrUnavailable", err)
	}
}

func TestLDAPReadStopsWhenCancelled(t *testing.T) {
	srv := slapd.Start(t, readerEntry, slapd.UsersLDIF(600, 0))
	c := openLDAPConfig(srv)
	c.PageSize = 100
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := newSource(t, c).Read(ctx, ReadOptions{}, func(int) { cancel() })
	if !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("Read = %v, %v; want no result and context.Canceled", res, err)
	}
}

func TestLDAPReadEmptyDirectory(t *testing.T) {
	srv := slapd.Start(t, readerEntry)
	res, err := newSource(t, openLDAPConfig(srv)).Read(context.Background(), ReadOptions{}, nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(res.Users) != 0 {
		t.Fatalf("users = %v, want none", res.Users)
	}
}

func TestLDAPReadRefusesBadServiceAccount(t *testing.T) {
	srv := slapd.Start(t, readerEntry)
	c := openLDAPConfig(srv)
	c.BindPassword = "wrong"
	_, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "BindPassword") {
		t.Fatalf("err = %v, want a refusal naming BindPassword", err)
	}
}

func TestLDAPSkipsBadAndDuplicateUsernames(t *testing.T) {
	srv := slapd.Start(t, readerEntry, `dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=erin,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: erin
cn: Erin
sn: E

dn: cn=Erin Again,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: ERIN
cn: Erin Again
sn: E

dn: cn=No Uid,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
cn: No Uid
sn: N
`)
	res, err := newSource(t, openLDAPConfig(srv)).Read(context.Background(), ReadOptions{}, nil)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := usernames(res.Users); len(got) != 1 || got[0] != "erin" {
		t.Fatalf("users = %v, want [erin]", got)
	}
	if len(res.Skipped) != 2 {
		t.Fatalf("skipped = %v, want the duplicate and the entry without uid", res.Skipped)
	}
	for _, s := range res.Skipped {
		if s.DN == "" || s.Field != "uid" {
			t.Errorf("skipped entry %+v should name its DN and the uid field", s)
		}
	}
}

func TestLDAPTLS(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	tests := []struct {
		name    string
		edit    func(*LDAPConfig)
		wantErr bool
	}{
		{"StartTLS with the CA", func(c *LDAPConfig) { c.StartTLS = true; c.CACertFile = srv.CACertFile }, false},
		{"ldaps with the CA", func(c *LDAPConfig) { c.URL = srv.LDAPSURL; c.CACertFile = srv.CACertFile }, false},
		{"ldaps without the CA", func(c *LDAPConfig) { c.URL = srv.LDAPSURL }, true},
		{"StartTLS without the CA", func(c *LDAPConfig) { c.StartTLS = true }, true},
		{"ldaps skipping verification", func(c *LDAPConfig) { c.URL = srv.LDAPSURL; c.InsecureSkipVerify = true }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openLDAPConfig(srv)
			tt.edit(&c)
			res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Read succeeded with an unverified certificate")
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(res.Users) != 4 {
				t.Errorf("read %d users, want 4", len(res.Users))
			}
		})
	}
}

func TestLDAPAuthenticate(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	src := newSource(t, openLDAPConfig(srv))
	tests := []struct {
		name, username, password string
		want                     string // username on success; "" for ErrInvalidCredentials
	}{
		{"right password", "alice", "alice-password", "alice"},
		{"username in other case and spaces", "  ALICE ", "alice-password", "alice"},
		{"wrong password", "alice", "bob-password", ""},
		{"unknown user", "zoe", "alice-password", ""},
		{"empty password", "alice", "", ""},
		{"empty username", "", "alice-password", ""},
		{"wildcard", "*", "alice-password", ""},
		{"prefix wildcard", "al*", "alice-password", ""},
		{"closing paren", "alice)(uid=*", "alice-password", ""},
		{"admin injection", "admin)(uid=*", "alice-password", ""},
		{"or injection", "*)(|(uid=*", "alice-password", ""},
		{"escaped star", `al\2a`, "alice-password", ""},
		{"backslash", `alice\`, "alice-password", ""},
		{"NUL", "alice\x00", "alice-password", ""},
		{"not a user entry", "printer-service", "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := src.Authenticate(context.Background(), tt.username, tt.password)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidCredentials) || u != nil {
					t.Fatalf("Authenticate(%q) = %v, %v; want ErrInvalidCredentials", tt.username, u, err)
				}
				if err != ErrInvalidCredentials {
					t.Errorf("error %q differs from the plain ErrInvalidCredentials and could tell callers why", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authenticate(%q): %v", tt.username, err)
			}
			if u.Username != tt.want || u.DN == "" {
				t.Errorf("user = %+v, want %s with its DN", u, tt.want)
			}
		})
	}
}

func TestLDAPAuthenticateWhenTheServerIsDown(t *testing.T) {
	srv := slapd.Start(t, testdataLDIF(t))
	src := newSource(t, openLDAPConfig(srv))
	srv.Stop()
	if _, err := src.Authenticate(context.Background(), "alice", "alice-password"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	// An empty password is refused before any connection is tried.
	if _, err := src.Authenticate(context.Background(), "alice", ""); err != ErrInvalidCredentials {
		t.Errorf("empty password: err = %v, want ErrInvalidCredentials without contacting the server", err)
	}
}

func TestPresets(t *testing.T) {
	ol := Preset(PresetOpenLDAP)
	if ol.Attr.Username != "uid" || ol.Attr.PrimaryCard != "employeeNumber" || ol.UserFilter != "(objectClass=inetOrgPerson)" || ol.PageSize != 500 {
		t.Errorf("OpenLDAP preset = %+v", ol)
	}
	ad := Preset(PresetActiveDirectory)
	if ad.Attr.Username != "sAMAccountName" || ad.Attr.PrimaryCard != "pager" || ad.Attr.AccountControl != "userAccountControl" ||
		ad.UserFilter != "(&(objectCategory=person)(objectClass=user))" || ad.GroupFilter != "(objectClass=group)" {
		t.Errorf("AD preset = %+v", ad)
	}
}

func TestLDAPConfigValidate(t *testing.T) {
	valid := func() LDAPConfig {
		c := Preset(PresetOpenLDAP)
		c.URL = "ldap://ldap.example.org"
		c.BaseDN = "dc=example,dc=org"
		c.BindDN = "cn=reader,dc=example,dc=org"
		c.BindPassword = "secret"
		return c
	}
	if err := valid().Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	// Active Directory takes a UPN and a down-level name as bind identities.
	for _, id := range []string{"svc-ream@corp.example", `CORP\svc-ream`} {
		c := valid()
		c.BindDN = id
		if err := c.Validate(); err != nil {
			t.Errorf("bind identity %q: %v", id, err)
		}
	}
	tests := []struct {
		field string
		edit  func(*LDAPConfig)
	}{
		{"Preset", func(c *LDAPConfig) { c.Preset = "novell" }},
		{"URL", func(c *LDAPConfig) { c.URL = "" }},
		{"URL", func(c *LDAPConfig) { c.URL = "http://ldap.example.org" }},
		{"URL", func(c *LDAPConfig) { c.URL = "ldap://" }},
		{"URL", func(c *LDAPConfig) { c.URL = "ftp://x" }},
		{"URL", func(c *LDAPConfig) { c.URL = "ldap://dc1.corp.example/dc=corp" }},
		{"BindDN", func(c *LDAPConfig) { c.BindDN = "svc@" }},
		{"StartTLS", func(c *LDAPConfig) { c.URL = "ldaps://ldap.example.org"; c.StartTLS = true }},
		{"BindPassword", func(c *LDAPConfig) { c.BindPassword = "" }},
		{"BindDN", func(c *LDAPConfig) { c.BindDN = "not a dn" }},
		{"BaseDN", func(c *LDAPConfig) { c.BaseDN = "" }},
		{"BaseDN", func(c *LDAPConfig) { c.BaseDN = "dc=example,,x" }},
		{"GroupBaseDN", func(c *LDAPConfig) { c.GroupBaseDN = "=bad" }},
		{"UserFilter", func(c *LDAPConfig) { c.UserFilter = "" }},
		{"UserFilter", func(c *LDAPConfig) { c.UserFilter = "(&(uid=a)" }},
		{"GroupFilter", func(c *LDAPConfig) { c.GroupFilter = "(cn=a))(" }},
		{"Attr.GroupName", func(c *LDAPConfig) { c.Attr.GroupName = "" }},
		{"Attr.GroupMember", func(c *LDAPConfig) { c.Attr.GroupMember = ""; c.Attr.GroupMemberUID = "" }},
		{"Attr.Username", func(c *LDAPConfig) { c.Attr.Username = "" }},
		{"Attr.Email", func(c *LDAPConfig) { c.Attr.Email = "mail)(uid=*" }},
		{"CardRegex", func(c *LDAPConfig) { c.CardRegex = "([0-9]" }},
		{"Timeout", func(c *LDAPConfig) { c.Timeout = -time.Second }},
	}
	for _, tt := range tests {
		c := valid()
		tt.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: err = %v, want one naming %s", c, err, tt.field)
		}
	}
	anonymous := valid()
	anonymous.BindDN, anonymous.BindPassword = "", ""
	if err := anonymous.Validate(); err != nil {
		t.Errorf("anonymous bind: %v", err)
	}
	bare := valid()
	bare.UserFilter = "objectClass=person"
	if err := bare.Validate(); err != nil {
		t.Errorf("filter without parentheses: %v", err)
	}
}
