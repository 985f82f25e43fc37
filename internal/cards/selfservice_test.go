package cards_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/usersync"
)

var selfServiceOn = map[string]string{
	settings.UserRegisterCard:    "Y",
	settings.UserGenerateCard:    "Y",
	settings.CardLength:          "8",
	settings.CardLuhn:            "Y",
	settings.NotifyCardGenerated: "Y",
	settings.SMTPFrom:            "Ream <ream@example.org>",
}

// portalActor is a user acting in the portal from an address.
func portalActor(u *model.User, address string) core.Actor {
	return core.Actor{Name: u.Username, Kind: model.ActorUser, UserID: u.ID, Address: address}
}

func auditDetails(t *testing.T, s *store.Store, action string) []string {
	t.Helper()
	entries, _, err := s.AuditLog(context.Background(), action, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e.Target+": "+e.Detail)
		}
	}
	return out
}

func cardOrigins(t *testing.T, s *store.Store, u *model.User) string {
	t.Helper()
	numbers, err := s.UserCardNumbers(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range numbers {
		parts = append(parts, cards.SlotName(c.Slot)+"="+c.Number+"("+c.Origin+")")
	}
	return strings.Join(parts, " ")
}

// TestRegisterOwnCard: a user registers a card into the secondary field;
// the number passes the site's converters; another user's number, the
// user's own other number and bad input are refused, the first with the
// neutral text; every change and refusal is audited with masked numbers.
func TestRegisterOwnCard(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, selfServiceOn)
		for _, u := range []*model.User{{Username: "alice", PrimaryCard: "47110001", Email: "alice@example.org"}, {Username: "bob", PrimaryCard: "55660001"}} {
			if err := svc.Core.CreateUser(ctx, admin, u); err != nil {
				t.Fatal(err)
			}
		}
		alice, bob := user(t, s, "alice"), user(t, s, "bob")

		got, err := svc.RegisterOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice, "  99887766\r\n")
		if err != nil || got.Number != "99887766" || got.Slot != store.SecondaryCard || got.Unchanged {
			t.Fatalf("register: %+v, %v", got, err)
		}
		if o := cardOrigins(t, s, alice); o != "primary=47110001(admin) secondary=99887766(self-registered)" {
			t.Errorf("alice's numbers: %s", o)
		}
		if got, err := svc.RegisterOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice, "99887766"); err != nil || !got.Unchanged {
			t.Errorf("registering the same number again: %+v, %v", got, err)
		}

		// Someone else's number, in either field: the neutral refusal, and
		// nothing changes.
		for _, taken := range []string{"99887766", "47110001"} {
			_, err := svc.RegisterOwnCard(ctx, portalActor(bob, "10.0.0.2"), bob, taken)
			if !errors.Is(err, cards.ErrRefused) || err.Error() != "This number cannot be registered; ask your administrator." {
				t.Errorf("bob registering %s: %v", taken, err)
			}
		}
		if o := cardOrigins(t, s, bob); o != "primary=55660001(admin)" {
			t.Errorf("bob's numbers after refusals: %s", o)
		}
		for input, want := range map[string]string{
			"":         "Enter the number of your card.",
			"12-34":    "may contain only letters and digits",
			"47110001": "That number is already your primary Card/ID number.",
		} {
			_, err := svc.RegisterOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice, input)
			var ce *core.Error
			if !errors.As(err, &ce) || ce.Code != core.Invalid || !strings.Contains(ce.Msg, want) {
				t.Errorf("alice registering %q: %v, want %q", input, err, want)
			}
		}
		if got := auditDetails(t, s, "user.card-register"); len(got) != 1 || got[0] != "alice: secondary card/ID number registered in the portal: ****7766 (was (none))" {
			t.Errorf("registration audit: %q", got)
		}
		refused := auditDetails(t, s, "user.card-register.refused")
		if len(refused) != 2 || !strings.Contains(strings.Join(refused, "\n"), "bob: secondary card/ID number ****7766 refused: held by another user") ||
			strings.Contains(strings.Join(refused, "\n"), "99887766") {
			t.Errorf("refusal audit: %q", refused)
		}
	})
}

// TestRegisterOwnCardConvertsAndLimits: a card reader's raw output goes
// through the card regular expression and the converters, so it is stored
// as lookups see it; attempts past the budget get the neutral refusal.
func TestRegisterOwnCardConvertsAndLimits(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	set := map[string]string{settings.CardConverters: "ascii-enc", settings.UserSyncLDAPCardRe: `^;?([0-9A-Fa-f]+)\??$`}
	for k, v := range selfServiceOn {
		set[k] = v
	}
	svc := newService(t, s, set)
	svc.SelfLimiter = auth.NewLimiter(auth.LimiterConfig{AccountFailures: 2, LockoutBase: auth.CardRegistrationLimiterConfig.LockoutBase, ClientFailures: 100})
	if err := svc.Core.CreateUser(ctx, admin, &model.User{Username: "carol"}); err != nil {
		t.Fatal(err)
	}
	carol := user(t, s, "carol")
	a := portalActor(carol, "10.0.0.3")
	// A magnetic-stripe style reader: ";" start and "?" end around the
	// ASCII codes of "12345".
	if got, err := svc.RegisterOwnCard(ctx, a, carol, ";3132333435?"); err != nil || got.Number != "12345" {
		t.Fatalf("reader output: %+v, %v", got, err)
	}
	if name, err := s.UsernameByCard(ctx, "12345"); err != nil || name != "carol" {
		t.Errorf("lookup of the converted number: %q, %v", name, err)
	}
	if _, err := svc.RegisterOwnCard(ctx, a, carol, "xyz"); err == nil || !strings.Contains(err.Error(), "not a card number this site accepts") {
		t.Errorf("input the expression rejects: %v", err)
	}
	// Two attempts used: the third is over the budget, whatever the number.
	if _, err := svc.RegisterOwnCard(ctx, a, carol, "3939"); !errors.Is(err, cards.ErrRefused) {
		t.Errorf("attempt past the budget: %v", err)
	}
	if got := auditDetails(t, s, "user.card-register.refused"); len(got) != 1 || !strings.Contains(got[0], "too many attempts (account)") {
		t.Errorf("rate limit audit: %q", got)
	}
	if o := cardOrigins(t, s, carol); o != "secondary=12345(self-registered)" {
		t.Errorf("carol's numbers: %s", o)
	}
}

// TestGenerateOwnCard: the new primary number follows the generator
// settings, replaces the old one, is recorded as self-generated and
// notified; the options and the directory decide who may.
func TestGenerateOwnCard(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, selfServiceOn)
		svc.DirectoryManages = func(ctx context.Context, u *model.User, slot int) bool {
			return usersync.ManagesCard(ctx, svc.Core.Settings, u, slot)
		}
		if err := svc.Core.CreateUser(ctx, admin, &model.User{Username: "alice", PrimaryCard: "47110001", Email: "alice@example.org"}); err != nil {
			t.Fatal(err)
		}
		alice := user(t, s, "alice")
		got, err := svc.GenerateOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice)
		if err != nil || got.Slot != store.PrimaryCard || !got.Notified {
			t.Fatalf("generate: %+v, %v", got, err)
		}
		if len(got.Number) != 8 || got.Number[0] == '0' || !cards.LuhnValid(got.Number) || got.Number == "47110001" {
			t.Errorf("generated number %q does not follow the settings", got.Number)
		}
		if o := cardOrigins(t, s, alice); o != "primary="+got.Number+"(self-generated)" {
			t.Errorf("alice's numbers: %s", o)
		}
		msgs, _, err := s.ListOutbox(ctx, "", 0, 10)
		if err != nil || len(msgs) != 1 || msgs[0].Recipient != "alice@example.org" || !strings.Contains(msgs[0].Body, got.Number) {
			t.Errorf("notification: %+v, %v", msgs, err)
		}
		if a := auditDetails(t, s, "user.card-generate"); len(a) != 1 || a[0] != "alice: primary card/ID number generated in the portal: ****"+got.Number[4:]+" (was ****0001); notification queued" {
			t.Errorf("audit: %q", a)
		}

		// The directory's numbers are the directory's.
		changeSettings(t, svc, map[string]string{settings.UserSyncSource: "ldap", settings.UserRegisterField: "primary"})
		if err := svc.Core.CreateUser(ctx, admin, &model.User{Username: "dora", SourceID: "ldap", PrimaryCard: "700001"}); err != nil {
			t.Fatal(err)
		}
		dora := user(t, s, "dora")
		if o := svc.SelfService(ctx, dora); !o.ManagedRegister || !o.ManagedGenerate {
			t.Errorf("dora's options: %+v", o)
		}
		_, err = svc.GenerateOwnCard(ctx, portalActor(dora, "10.0.0.4"), dora)
		if err == nil || !strings.Contains(err.Error(), "managed by your organisation's directory") {
			t.Errorf("dora generating: %v", err)
		}
		_, err = svc.RegisterOwnCard(ctx, portalActor(dora, "10.0.0.4"), dora, "123456")
		if err == nil || !strings.Contains(err.Error(), "managed by your organisation's directory") {
			t.Errorf("dora registering into the primary field: %v", err)
		}
		// The OpenLDAP preset maps no secondary card: that one is hers.
		changeSettings(t, svc, map[string]string{settings.UserRegisterField: "secondary"})
		if got, err := svc.RegisterOwnCard(ctx, portalActor(dora, "10.0.0.4"), dora, "123456"); err != nil || got.Slot != store.SecondaryCard {
			t.Errorf("dora registering into the secondary field: %+v, %v", got, err)
		}
		if o := cardOrigins(t, s, dora); o != "primary=700001(directory) secondary=123456(self-registered)" {
			t.Errorf("dora's numbers: %s", o)
		}

		changeSettings(t, svc, map[string]string{settings.UserRegisterCard: "N", settings.UserGenerateCard: "N"})
		var ce *core.Error
		if _, err := svc.GenerateOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice); !errors.As(err, &ce) || ce.Code != core.Forbidden {
			t.Errorf("generating with the option off: %v", err)
		}
		if _, err := svc.RegisterOwnCard(ctx, portalActor(alice, "10.0.0.1"), alice, "1234"); !errors.As(err, &ce) || ce.Code != core.Forbidden {
			t.Errorf("registering with the option off: %v", err)
		}
	})
}

// FuzzNumberRules: whatever a reader or a person sends, the rules either
// refuse it with an error or give a number the store accepts, which the
// rules without conversion give back unchanged.
func FuzzNumberRules(f *testing.F) {
	for _, seed := range []string{"", "12345", " 4711 \r\n", ";3132333435?", "ff", "-1", "0x1f", "ÄÖ", strings.Repeat("9", 200)} {
		f.Add(seed)
	}
	hex, err := cards.ParseConverters("hex2dec")
	if err != nil {
		f.Fatal(err)
	}
	ascii, err := cards.ParseConverters("ascii-enc|hex2dec")
	if err != nil {
		f.Fatal(err)
	}
	rules := []cards.NumberRules{{}, {Chain: hex}, {Chain: ascii}, {Extract: regexp.MustCompile(`^;?([0-9A-Fa-f]+)\??$`), Chain: ascii}}
	f.Fuzz(func(t *testing.T, raw string) {
		for i, r := range rules {
			got, err := r.Apply(raw)
			if err != nil {
				continue
			}
			if got == "" || core.CheckCardNumber(got) != nil {
				t.Fatalf("rules %d: %q gave %q, which the store refuses", i, raw, got)
			}
			if again, err := (cards.NumberRules{}).Apply(got); err != nil || again != got {
				t.Fatalf("rules %d: %q gave %q, not stable: %q, %v", i, raw, got, again, err)
			}
		}
	})
}

// TestSelfServiceWithoutDirectoryCheck: a service not told how to ask the
// sync settings treats every directory user's numbers as the directory's.
func TestSelfServiceWithoutDirectoryCheck(t *testing.T) {
	ctx := context.Background()
	s := reamtest.Store(t, false)
	svc := newService(t, s, selfServiceOn)
	for _, u := range []*model.User{{Username: "dora", SourceID: "ldap"}, {Username: "hand"}} {
		if err := svc.Core.CreateUser(ctx, admin, u); err != nil {
			t.Fatal(err)
		}
	}
	if o := svc.SelfService(ctx, user(t, s, "dora")); !o.ManagedRegister || !o.ManagedGenerate {
		t.Errorf("directory user: %+v", o)
	}
	if o := svc.SelfService(ctx, user(t, s, "hand")); o.ManagedRegister || o.ManagedGenerate || !o.Register || !o.Generate {
		t.Errorf("user added by hand: %+v", o)
	}
}
