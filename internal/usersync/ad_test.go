package usersync

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/testenv/samba"
)

// The Active Directory tests share one Samba domain controller per run.
func TestMain(m *testing.M) { os.Exit(samba.Main(m)) }

// useAD points the sync at the Samba DC over LDAPS, trusting its
// certificate through ca-cert-file, bound as the service account's UPN.
func (h *harness) useAD(srv *samba.Server, bindAs string) {
	h.set(settings.UserSyncSource, SourceLDAP,
		settings.UserSyncLDAPPreset, "ad",
		settings.UserSyncLDAPURL, srv.URL,
		settings.UserSyncLDAPCACert, srv.CACertFile,
		settings.UserSyncLDAPBindDN, bindAs,
		settings.UserSyncLDAPBindPW, samba.ServicePassword,
		settings.UserSyncLDAPBaseDN, srv.BaseDN)
}

func TestSyncFromActiveDirectory(t *testing.T) {
	srv := samba.Shared(t)
	forEachStore(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.useAD(srv, samba.ServiceUPN)

		// The base DN is the domain root, where AD answers with
		// continuation references (DomainDnsZones and the like) too.
		out := h.mustRun(h.syncOpts())
		if out.Run.Status != "ok" {
			t.Fatalf("run = %+v", out.Run)
		}
		if c := out.Run.Counts; c.Created < samba.Students+3 {
			t.Errorf("counts = %+v, want at least %d created", c, samba.Students+3)
		}
		alice := h.user("alice")
		if alice.FullName != "Alice Archer" || alice.Email != "alice@corp.example" || alice.Department != "Finance" ||
			alice.Office != "Level 2" || alice.PrimaryCard != "CARD-0042" || alice.SourceID != "ldap" || alice.Internal {
			t.Errorf("alice = %+v", alice)
		}
		if s := h.user(samba.StudentName(samba.Students)); s.PrimaryCard != "102000" {
			t.Errorf("%s = %+v, want card 102000 from pager", s.Username, s)
		}
		h.noUser("bob")   // disabled: userAccountControl bit 2
		h.noUser("carol") // accountExpires in 2012
		h.user("dave")    // accountExpires 0: never
		h.user("erin")    // accountExpires 9223372036854775807: never
		report := out.Plan.Report()
		for _, want := range []string{"left out bob: userAccountControl marks it disabled",
			"left out carol: accountExpires: expired on 2012-"} {
			if !strings.Contains(report, want) {
				t.Errorf("report lacks %q", want)
			}
		}

		// The group of more than 1,500 members arrives whole.
		if _, err := h.svc.ImportGroup(ctx, admin, samba.BigGroup); err != nil {
			t.Fatalf("ImportGroup: %v", err)
		}
		members, err := h.store.GroupMembers(ctx, samba.BigGroup, 0, 10000)
		if err != nil || len(members) != samba.BigGroupSize {
			t.Errorf("%s has %d members (%v), want %d", samba.BigGroup, len(members), err, samba.BigGroupSize)
		}

		// Nested groups are on for the AD preset: alice is directly only in
		// Teachers, which is in Staff, which is in Everyone; LoopA and
		// LoopB contain each other.
		if !strings.Contains(report, "Nested groups followed to depth 2; a cycle of groups was found") {
			t.Errorf("report does not tell the nesting:\n%.500s", report)
		}
		for group, want := range map[string][]string{
			"Everyone": {"alice"}, "Staff": {"alice"}, "LoopA": {"dave", "erin"}, "LoopB": {"dave", "erin"},
		} {
			if _, err := h.svc.ImportGroup(ctx, admin, group); err != nil {
				t.Fatalf("ImportGroup(%s): %v", group, err)
			}
			if got := h.members(group); !slices.Equal(got, want) {
				t.Errorf("%s = %v, want %v", group, got, want)
			}
		}

		h.set(settings.UserSyncLDAPNested, "n")
		if _, err := h.svc.SyncGroup(ctx, admin, "LoopA"); err != nil {
			t.Fatalf("SyncGroup(LoopA): %v", err)
		}
		if got := h.members("LoopA"); !slices.Equal(got, []string{"dave"}) {
			t.Errorf("LoopA without nesting = %v, want [dave]", got)
		}
		h.set(settings.UserSyncLDAPNested, "preset")

		again := h.mustRun(h.syncOpts())
		if c := again.Run.Counts; c.Created+c.Updated+c.Deleted != 0 || c.Skipped < 2 {
			t.Errorf("second run counts = %+v, want nothing changed and the two left out counted", c)
		}

		// With skip-disabled off, the Test run would import them.
		h.set(settings.UserSyncSkipDisabled, "N")
		test, err := h.run(h.syncOpts(), true)
		if err != nil {
			t.Fatalf("test run: %v", err)
		}
		var create []string
		for _, c := range test.Plan.Create {
			create = append(create, c.User.Username)
		}
		if !slices.Contains(create, "bob") || !slices.Contains(create, "carol") || len(test.Plan.Disabled) != 0 {
			t.Errorf("test run with disabled accounts creates %v, leaves out %v", create, test.Plan.Disabled)
		}
		// And the real run imports them with printing disabled.
		if out := h.mustRun(h.syncOpts()); out.Run.Status != "ok" {
			t.Fatalf("run with disabled accounts = %+v", out.Run)
		}
		for _, name := range []string{"bob", "carol"} {
			if u := h.user(name); !u.PrintDisabled || !u.DirectoryDisabled {
				t.Errorf("%s imported with skip disabled off: printing disabled %v", name, u.PrintDisabled)
			}
		}
		if u := h.user("alice"); u.PrintDisabled {
			t.Errorf("alice has printing disabled")
		}
	})
}

func TestActiveDirectoryBindIdentities(t *testing.T) {
	srv := samba.Shared(t)
	h := newHarness(t, false)
	for _, id := range []string{samba.ServiceUPN, samba.ServiceDownLevel, samba.ServiceDN} {
		h.useAD(srv, id)
		names, err := h.svc.DirectoryGroups(context.Background())
		if err != nil {
			t.Errorf("bound as %q: %v", id, err)
			continue
		}
		if len(names) == 0 {
			t.Errorf("bound as %q: no groups read", id)
		}
	}
	h.useAD(srv, samba.ServiceUPN)
	h.set(settings.UserSyncLDAPBindPW, "wrong-password")
	if _, err := h.svc.DirectoryGroups(context.Background()); err == nil {
		t.Error("a wrong service password was accepted")
	}
}

func TestActiveDirectoryLogin(t *testing.T) {
	srv := samba.Shared(t)
	h := newHarness(t, false)
	h.useAD(srv, samba.ServiceUPN)
	ctx := context.Background()
	ok, err := h.svc.LoginUser(ctx, "alice", samba.AlicePassword)
	if err != nil || !ok {
		t.Fatalf("login as alice = %v, %v", ok, err)
	}
	if u := h.user("alice"); u.FullName != "Alice Archer" {
		t.Errorf("alice created at login as %+v", u)
	}
	if ok, err := h.svc.LoginUser(ctx, "alice", "wrong-password"); err != nil || ok {
		t.Errorf("login with a wrong password = %v, %v", ok, err)
	}
	// Her UPN is not alice@…: it is found by userPrincipalName, and the
	// login is alice's.
	for _, typed := range []string{samba.AliceUPN, "Alice.Archer@CORP.example"} {
		name, ok, err := h.svc.LoginName(ctx, typed, samba.AlicePassword)
		if err != nil || !ok || name != "alice" {
			t.Errorf("login as %q = %q, %v, %v; want alice", typed, name, ok, err)
		}
	}
	if name, ok, err := h.svc.LoginName(ctx, samba.AliceUPN, "wrong-password"); err != nil || ok || name != "" {
		t.Errorf("UPN login with a wrong password = %q, %v, %v", name, ok, err)
	}
	// Only the AD preset reads UPNs.
	h.set(settings.UserSyncLDAPPreset, "openldap",
		settings.UserSyncLDAPAttrs, "username=sAMAccountName\nfull-name=displayName")
	if _, ok, err := h.svc.LoginName(ctx, samba.AliceUPN, samba.AlicePassword); ok {
		t.Errorf("a UPN logged in with the OpenLDAP preset (%v)", err)
	}
}

func TestActiveDirectoryFailover(t *testing.T) {
	srv := samba.Shared(t)
	h := newHarness(t, false)
	h.useAD(srv, samba.ServiceUPN)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "ldaps://" + ln.Addr().String()
	ln.Close()
	h.set(settings.UserSyncLDAPURL, down+" "+srv.URL)
	out, err := h.run(h.syncOpts(), true)
	if err != nil {
		t.Fatalf("test run with the first server down: %v", err)
	}
	if report := out.Plan.Report(); !strings.Contains(report, "Directory server "+srv.URL+" answered; bound as "+samba.ServiceUPN+";") {
		t.Errorf("report does not say which server answered:\n%.300s", report)
	}
	if report := out.Plan.Report(); !strings.Contains(report, fmt.Sprintf("base DN %q found;", srv.BaseDN)) {
		t.Errorf("report does not say the base DN was found:\n%.300s", report)
	}
	if !strings.Contains(out.Plan.Report(), "Sample user ") {
		t.Errorf("report shows no sample user")
	}
}

// Each first-day mistake fails the run with a sentence naming the setting.
func TestActiveDirectoryFailureHints(t *testing.T) {
	srv := samba.Shared(t)
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"wrong password", settings.UserSyncLDAPBindPW, "wrong-password", "Check user-sync.ldap.bind-dn and user-sync.ldap.bind-password"},
		{"no CA", settings.UserSyncLDAPCACert, "", "set user-sync.ldap.ca-cert-file"},
		{"base DN", settings.UserSyncLDAPBaseDN, "OU=Nowhere,DC=corp,DC=example", "check user-sync.ldap.base-dn"},
		{"plain LDAP", settings.UserSyncLDAPURL, "ldap://127.0.0.1:389", "use an ldaps://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false)
			h.useAD(srv, samba.ServiceUPN)
			h.set(tc.key, tc.value)
			_, err := h.run(h.syncOpts(), true)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), samba.ServicePassword) {
				t.Error("the error shows the password")
			}
		})
	}
}
