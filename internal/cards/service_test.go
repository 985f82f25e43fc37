package cards_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/mail"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

var quiet = slog.New(slog.DiscardHandler)

var admin = core.Actor{Name: "admin", AllAccounts: true}

// newService builds a Core with the card hook installed, as the server does.
func newService(t testing.TB, s *store.Store, set map[string]string) *cards.Service {
	t.Helper()
	c := reamtest.NewCore(t, s)
	svc := cards.NewService(c, nil)
	c.NewUserHooks = append(c.NewUserHooks, svc.Hook())
	changeSettings(t, svc, set)
	return svc
}

func changeSettings(t testing.TB, svc *cards.Service, set map[string]string) {
	t.Helper()
	err := svc.Core.Store.InTx(context.Background(), func(tx *store.Tx) error {
		for k, v := range set {
			if err := svc.Core.Settings.Set(context.Background(), tx, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func forEachStore(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, reamtest.Store(t, false)) })
	t.Run("postgres", func(t *testing.T) { fn(t, reamtest.Store(t, true)) })
}

var notifyOn = map[string]string{
	settings.CardAutoGenerate:    "Y",
	settings.NotifyCardGenerated: "Y",
	settings.SMTPFrom:            "Ream <ream@example.org>",
	settings.NotifyCardSubject:   "Card for %full_name%",
	settings.NotifyCardBody:      "Hello %user%, your number is %card_number%.",
}

func user(t testing.TB, s *store.Store, name string) *model.User {
	t.Helper()
	u, err := s.UserByName(context.Background(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func outbox(t testing.TB, s *store.Store) []*store.OutboxMessage {
	t.Helper()
	list, _, err := s.ListOutbox(context.Background(), "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func audit(t testing.TB, s *store.Store, action string) []model.AuditEntry {
	t.Helper()
	entries, _, err := s.AuditLog(context.Background(), action, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []model.AuditEntry
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

func TestNewUsersGetANumberWhenBlank(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, notifyOn)
		c := svc.Core
		// Every door: addNewUser, addNewInternalUser, with and without email,
		// and a user who brings a number of their own.
		if err := c.CreateUser(ctx, admin, &model.User{Username: "Alice", FullName: "Alice A", Email: "alice@example.org"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateInternalUser(ctx, admin, core.NewInternalUser{Username: "bob", Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateInternalUser(ctx, admin, core.NewInternalUser{Username: "carol", Password: "correct horse battery", Email: "carol@example.org", Card: "7777"}); err != nil {
			t.Fatal(err)
		}
		opts := svc.GeneratorOptions(ctx)
		alice, bob, carol := user(t, s, "alice"), user(t, s, "bob"), user(t, s, "carol")
		for _, u := range []*model.User{alice, bob} {
			if len(u.PrimaryCard) != opts.Length || u.PrimaryCard[0] == '0' {
				t.Errorf("%s got %q, want a %d-digit number", u.Username, u.PrimaryCard, opts.Length)
			}
		}
		if alice.PrimaryCard == bob.PrimaryCard {
			t.Error("two users got the same number")
		}
		if carol.PrimaryCard != "7777" {
			t.Errorf("carol's own number was replaced by %q", carol.PrimaryCard)
		}
		mails := outbox(t, s)
		if len(mails) != 1 || mails[0].Recipient != "alice@example.org" || mails[0].Subject != "Card for Alice A" ||
			mails[0].Body != "Hello alice, your number is "+alice.PrimaryCard+"." {
			t.Fatalf("outbox = %+v, want one notification to alice", mails)
		}
		entries := audit(t, s, "user.card-generated")
		if len(entries) != 2 {
			t.Fatalf("audit entries %+v", entries)
		}
		for _, e := range entries {
			if e.Target == "bob" && !strings.Contains(e.Detail, "no usable email address") {
				t.Errorf("bob's audit entry does not say he was not notified: %q", e.Detail)
			}
		}

		// Off: no number, no mail.
		changeSettings(t, svc, map[string]string{settings.CardAutoGenerate: "N"})
		if err := c.CreateUser(ctx, admin, &model.User{Username: "dave", Email: "dave@example.org"}); err != nil {
			t.Fatal(err)
		}
		if u := user(t, s, "dave"); u.PrimaryCard != "" || len(outbox(t, s)) != 1 {
			t.Errorf("with the setting off dave got %q", u.PrimaryCard)
		}
	})
}

// TestHookRollsBackWithTheUser checks that the number and the mail belong to
// the transaction creating the user: when it fails, neither remains.
func TestHookRollsBackWithTheUser(t *testing.T) {
	s := reamtest.Store(t, false)
	svc := newService(t, s, notifyOn)
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		if err := svc.Core.CreateUserTx(ctx, tx, admin, &model.User{Username: "erin", Email: "erin@example.org"}); err != nil {
			return err
		}
		return fmt.Errorf("sync failed later")
	})
	if err == nil {
		t.Fatal("transaction succeeded")
	}
	if n := len(outbox(t, s)); n != 0 {
		t.Errorf("%d notifications survived the rollback", n)
	}
	if n, _ := s.CountUsersWithCards(ctx); n != 0 {
		t.Errorf("%d card numbers survived the rollback", n)
	}
}

func makeUsers(t testing.TB, s *store.Store, group string, users ...*model.User) {
	t.Helper()
	ctx := context.Background()
	err := s.InTx(ctx, func(tx *store.Tx) error {
		g := &model.Group{Name: group}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.AddGroupMember(ctx, g.ID, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBulkGenerate(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, map[string]string{settings.NotifyCardGenerated: "Y", settings.SMTPFrom: "ream@example.org", settings.CardLuhn: "Y", settings.CardPrefix: "R"})
		makeUsers(t, s, "Staff",
			&model.User{Username: "u1", Email: "u1@example.org", PrimaryCard: "1001"},
			&model.User{Username: "u2", PrimaryCard: "1002", SecondaryCard: "2002"},
			&model.User{Username: "u3", Email: "u3@example.org"},
			&model.User{Username: "u4"},
			&model.User{Username: "u5", Email: "u5@example.org"})
		makeUsers(t, s, "Outsiders", &model.User{Username: "x1", PrimaryCard: "9001"})

		for _, tc := range []struct {
			sel  cards.Selection
			want cards.BulkPreview
		}{
			{cards.Selection{Group: "staff"}, cards.BulkPreview{Selected: 5, WillChange: 5}},
			{cards.Selection{Group: "Staff", OnlyBlank: true}, cards.BulkPreview{Selected: 5, WillChange: 3}},
			{cards.Selection{Group: model.GroupAllUsers}, cards.BulkPreview{Selected: 6, WillChange: 6}},
			{cards.Selection{Users: []string{"U1", "u4", "nobody", " "}}, cards.BulkPreview{Selected: 2, WillChange: 2, Missing: []string{"nobody"}}},
		} {
			got, err := svc.PreviewBulk(ctx, tc.sel)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("PreviewBulk(%+v) = %+v, %v; want %+v", tc.sel, got, err, tc.want)
			}
		}
		for _, bad := range []cards.Selection{{}, {Group: "Staff", Users: []string{"u1"}}, {Group: "No such group"}} {
			if _, err := svc.PreviewBulk(ctx, bad); err == nil {
				t.Errorf("PreviewBulk(%+v) accepted it", bad)
			}
		}
		if len(outbox(t, s)) != 0 || len(audit(t, s, "cards.bulk-generate")) != 0 {
			t.Fatal("a preview changed something")
		}

		var progress []int
		res, err := svc.BulkGenerate(ctx, admin, cards.Selection{Group: "Staff", OnlyBlank: true}, func(done, total int) { progress = append(progress, done, total) })
		if err != nil {
			t.Fatal(err)
		}
		if res.Selected != 5 || res.Changed != 3 || res.Notified != 2 || fmt.Sprint(res.NoEmail) != "[u4]" {
			t.Errorf("only blank: %+v", res)
		}
		if fmt.Sprint(progress) != "[3 3]" {
			t.Errorf("progress %v", progress)
		}
		if u := user(t, s, "u1"); u.PrimaryCard != "1001" {
			t.Errorf("only-blank replaced u1's number with %q", u.PrimaryCard)
		}
		for _, name := range []string{"u3", "u4", "u5"} {
			u := user(t, s, name)
			if !strings.HasPrefix(u.PrimaryCard, "R") || !cards.LuhnValid(strings.TrimPrefix(u.PrimaryCard, "R")) {
				t.Errorf("%s got %q, want R and a Luhn-valid number", name, u.PrimaryCard)
			}
		}

		before := map[string]string{}
		for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
			before[name] = user(t, s, name).PrimaryCard
		}
		res, err = svc.BulkGenerate(ctx, admin, cards.Selection{Group: "Staff"}, nil)
		if err != nil || res.Changed != 5 {
			t.Fatalf("replace: %+v, %v", res, err)
		}
		seen := map[string]bool{"2002": true, "9001": true}
		for name, old := range before {
			u := user(t, s, name)
			if u.PrimaryCard == old || seen[u.PrimaryCard] {
				t.Errorf("%s: new number %q repeats one in use", name, u.PrimaryCard)
			}
			seen[u.PrimaryCard] = true
		}
		if u := user(t, s, "u2"); u.SecondaryCard != "2002" {
			t.Errorf("the secondary number was touched: %q", u.SecondaryCard)
		}
		if n := len(audit(t, s, "cards.bulk-generate")); n != 2 {
			t.Errorf("%d audit entries for two bulk actions", n)
		}
		if e := audit(t, s, "cards.bulk-generate")[0]; !strings.Contains(e.Detail, "Without email: u2, u4") || e.Target != "group Staff" {
			t.Errorf("audit entry %+v", e)
		}
		if n := len(outbox(t, s)); n != 2+3 {
			t.Errorf("%d notifications queued, want 5", n)
		}
	})
}

func TestImport(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		svc := newService(t, s, nil)
		makeUsers(t, s, "G", &model.User{Username: "alice"}, &model.User{Username: "bob", PrimaryCard: "5555", SecondaryCard: "6666"},
			&model.User{Username: "carol"}, &model.User{Username: "mallory", PrimaryCard: "4242"}, &model.User{Username: "pat"})
		if err := svc.Core.SetPIN(ctx, admin, "carol", "1111"); err != nil {
			t.Fatal(err)
		}
		file := strings.Join([]string{
			"# username\tcard\tPIN",
			"alice\t1234\t9876",
			"bob\t6666",         // his own secondary number
			"carol\t5555\t2222", // bob's number
			"carol\t3333",       // duplicate user line
			"nobody\t8888",
			"mallory\t4242",
			"dave\t12",
			"bad line with spaces",
			"pat\t77\t12",
		}, "\n")
		rep, err := svc.Import(ctx, admin, strings.NewReader(file), false)
		if err != nil {
			t.Fatal(err)
		}
		text := rep.String()
		if rep.Updated != 1 || rep.Unchanged != 1 || rep.PINsSet != 1 {
			t.Errorf("report:\n%s", text)
		}
		for _, want := range []string{
			"line 4: card: card number is already in use by another user; skipped",
			`line 5: username: user "carol" already given on line 4; skipped`,
			`line 6: username: user "nobody" does not exist; skipped`,
			"line 3: card: card number is this user's secondary card/ID number; skipped",
			"line 9: card: card number is required",
			"line 10: pin: card PIN must be 4 to 32 characters; skipped",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("report lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "bob") {
			t.Errorf("the report names the owner of a number:\n%s", text)
		}
		alice := user(t, s, "alice")
		if alice.PrimaryCard != "1234" || !alice.HasPIN() || strings.Contains(alice.PINHash, "9876") {
			t.Errorf("alice: card %q, PIN hash %q", alice.PrimaryCard, alice.PINHash)
		}
		if ok, _ := svc.Core.Hasher.Verify(ctx, alice.PINHash, "9876"); !ok {
			t.Error("alice's PIN does not verify")
		}
		if u := user(t, s, "bob"); u.PrimaryCard != "5555" {
			t.Errorf("bob's number was taken: %q", u.PrimaryCard)
		}

		// Existing PINs are kept unless overwritePINs.
		carolBefore := user(t, s, "carol").PINHash
		for _, overwrite := range []bool{false, true} {
			rep, err := svc.Import(ctx, admin, strings.NewReader("carol\t3333\t4444\n"), overwrite)
			if err != nil {
				t.Fatal(err)
			}
			changed := user(t, s, "carol").PINHash != carolBefore
			if changed != overwrite || (overwrite && rep.PINsSet != 1) || (!overwrite && rep.PINsKept != 1) {
				t.Errorf("overwritePINs=%v: PIN changed %v, report %s", overwrite, changed, rep)
			}
		}
	})
}

// TestNotificationArrivesInAMailbox is the whole story: auto-generation and
// notification on, a user is created, the outbox worker delivers, the
// notification with the user's number arrives over SMTP.
func TestNotificationArrivesInAMailbox(t *testing.T) {
	s := reamtest.Store(t, false)
	srv := smtptest.Start(t)
	svc := newService(t, s, map[string]string{
		settings.CardAutoGenerate: "Y", settings.NotifyCardGenerated: "Y",
		settings.SMTPHost: srv.Host(), settings.SMTPPort: fmt.Sprint(srv.Port()), settings.SMTPSecurity: "none",
		settings.SMTPFrom: "Print Room <print@example.org>",
	})
	worker := mail.NewWorker(s, cards.SMTPConfig(svc.Core.Settings), quiet)
	svc.WakeMail = worker.Wake
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go worker.Run(ctx)

	if err := svc.Core.CreateUser(ctx, admin, &model.User{Username: "frank", FullName: "Frank F", Email: "frank@example.org"}); err != nil {
		t.Fatal(err)
	}
	worker.Wake()
	got := srv.WaitFor(1, 10*time.Second)
	card := user(t, s, "frank").PrimaryCard
	data := string(got[0].Data)
	if got[0].To[0] != "frank@example.org" || !strings.Contains(data, card) || !strings.Contains(data, "Hello frank,") ||
		!strings.Contains(data, "Subject: "+cards.DefaultNotificationSubject) {
		t.Errorf("notification to %v:\n%s\nwant the number %s", got[0].To, data, card)
	}

	if err := svc.SendTestEmail(ctx, admin, "admin@example.org"); err != nil {
		t.Fatal(err)
	}
	got = srv.WaitFor(2, 10*time.Second)
	if got[1].To[0] != "admin@example.org" || !strings.Contains(string(got[1].Data), "Ream test email") {
		t.Errorf("test email: %s", got[1].Data)
	}
	if err := svc.SendTestEmail(ctx, admin, "not-an-address"); err == nil {
		t.Error("a test email to a bad address was queued")
	}
}

func TestRenderForTheSampleUser(t *testing.T) {
	subject, body := cards.RenderFor("Card for %full_name%", cards.DefaultNotificationBody, cards.SampleUser(), "482913375510", time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	if subject != "Card for Jane Smith" || !strings.Contains(body, "Hello jsmith,") || !strings.Contains(body, "482913375510") || !strings.Contains(body, "2026-03-04") {
		t.Errorf("subject %q body %q", subject, body)
	}
}
