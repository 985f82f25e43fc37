package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/testenv"
)

// openAtVersion opens a store migrated only up to version v, as an older
// Ream would have left it.
func openAtVersion(t *testing.T, url string, v int) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, url, filepath.Join(t.TempDir(), "ream.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.migrateTo(ctx, v); err != nil {
		t.Fatal(err)
	}
	return s
}

// lines runs a query whose rows are one text column each.
func lines(t *testing.T, s *Store, query string) []string {
	t.Helper()
	rows, err := s.w.QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// clusteredTables are the tables migration 2 rebuilds.
var clusteredTables = []string{"user_cards", "group_members"}

// tableShape describes a table by what SQLite enforces, not by the text of
// its CREATE TABLE (which the rebuild changes): columns, foreign keys, and
// indexes with their names and columns.
func tableShape(t *testing.T, s *Store, table string) []string {
	t.Helper()
	shape := lines(t, s, `SELECT 'column '||cid||' '||name||' '||type||' notnull='||"notnull"||' pk='||pk FROM pragma_table_info('`+table+`') ORDER BY cid`)
	shape = append(shape, lines(t, s, `SELECT 'fk '||"from"||' -> '||"table"||'('||"to"||') on delete '||on_delete||' on update '||on_update FROM pragma_foreign_key_list('`+table+`') ORDER BY "from"`)...)
	for _, idx := range lines(t, s, `SELECT name FROM pragma_index_list('`+table+`') ORDER BY name`) {
		shape = append(shape, lines(t, s, `SELECT 'index '||l.name||' unique='||l."unique"||' origin='||l.origin||' partial='||l.partial||' columns='||
			(SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info('`+idx+`') ORDER BY seqno))
			FROM pragma_index_list('`+table+`') l WHERE l.name = '`+idx+`'`)...)
	}
	return append(shape, lines(t, s, `SELECT 'sql '||sql FROM sqlite_master WHERE type = 'index' AND tbl_name = '`+table+`' AND sql IS NOT NULL ORDER BY name`)...)
}

func withoutRowid(t *testing.T, s *Store, table string) string {
	t.Helper()
	return strings.Join(lines(t, s, `SELECT wr FROM pragma_table_list WHERE name = '`+table+`'`), "")
}

func TestMigration2RebuildsCardsAndMembershipsWithoutLosingRows(t *testing.T) {
	ctx := context.Background()
	old := openAtVersion(t, "", 1)
	err := old.InTx(ctx, func(tx *Tx) error {
		for g := 1; g <= 4; g++ {
			if _, err := tx.exec(ctx, `INSERT INTO groups (id, name, name_key, created_at) VALUES ($1, $2, $3, 0)`, g, fmt.Sprint("Group ", g), fmt.Sprint("group ", g)); err != nil {
				return err
			}
		}
		for u := 1; u <= 300; u++ {
			if _, err := tx.exec(ctx, `INSERT INTO users (id, username, created_at, updated_at) VALUES ($1, $2, 0, 0)`, u, fmt.Sprintf("user%03d", u)); err != nil {
				return err
			}
			// Numbers out of id order, so that the copy really reorders.
			if _, err := tx.exec(ctx, `INSERT INTO user_cards (number, user_id, slot) VALUES ($1, $2, 1)`, fmt.Sprintf("C%05d", (u*7919)%100000), u); err != nil {
				return err
			}
			if u%3 == 0 {
				if _, err := tx.exec(ctx, `INSERT INTO user_cards (number, user_id, slot) VALUES ($1, $2, 2)`, fmt.Sprintf("ID-%d", u), u); err != nil {
					return err
				}
			}
			for g := 1; g <= 4; g++ {
				if u%g == 0 {
					if _, err := tx.exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)`, g, u); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const (
		cardRows   = `SELECT number||' '||user_id||' '||slot FROM user_cards ORDER BY number`
		memberRows = `SELECT group_id||' '||user_id FROM group_members ORDER BY group_id, user_id`
	)
	cardsBefore, membersBefore := lines(t, old, cardRows), lines(t, old, memberRows)
	if len(cardsBefore) != 400 || len(membersBefore) < 300 {
		t.Fatalf("fixture has %d cards and %d memberships", len(cardsBefore), len(membersBefore))
	}
	shapeBefore := map[string][]string{}
	for _, table := range clusteredTables {
		shapeBefore[table] = tableShape(t, old, table)
		// The one change the rebuild makes: a WITHOUT ROWID table's primary
		// key is NOT NULL, as it always was on PostgreSQL.
		if i := slices.Index(shapeBefore[table], "column 0 number TEXT notnull=0 pk=1"); i >= 0 {
			shapeBefore[table][i] = "column 0 number TEXT notnull=1 pk=1"
		}
		if wr := withoutRowid(t, old, table); wr != "0" {
			t.Fatalf("%s at version 1: without rowid %q, want 0", table, wr)
		}
	}

	if n, err := old.migrateTo(ctx, 2); err != nil || n != 1 {
		t.Fatalf("upgrade applied %d step(s), err %v; want 1", n, err)
	}

	if got := lines(t, old, cardRows); !slices.Equal(got, cardsBefore) {
		t.Errorf("user_cards after the upgrade: %d rows, want the %d from before", len(got), len(cardsBefore))
	}
	if got := lines(t, old, memberRows); !slices.Equal(got, membersBefore) {
		t.Errorf("group_members after the upgrade: %d rows, want the %d from before", len(got), len(membersBefore))
	}
	if bad := lines(t, old, `SELECT "table"||' '||rowid||' -> '||parent FROM pragma_foreign_key_check`); len(bad) > 0 {
		t.Errorf("foreign key violations after the upgrade: %q", bad)
	}
	for _, table := range clusteredTables {
		if wr := withoutRowid(t, old, table); wr != "1" {
			t.Errorf("%s after the upgrade: without rowid %q, want 1", table, wr)
		}
		if got := tableShape(t, old, table); !slices.Equal(got, shapeBefore[table]) {
			t.Errorf("%s changed shape in the upgrade:\n got  %q\n want %q", table, got, shapeBefore[table])
		}
	}

	// A new database takes the same two steps and must end up the same.
	const schema = `SELECT type||' '||name||' on '||tbl_name||': '||COALESCE(sql, '') FROM sqlite_master ORDER BY type, name`
	fresh := openAtVersion(t, "", 2)
	if got, want := lines(t, old, schema), lines(t, fresh, schema); !slices.Equal(got, want) {
		t.Errorf("upgraded schema differs from a new database's:\n got  %q\n want %q", got, want)
	}
}

// On PostgreSQL migration 2 has nothing to do, but both databases count the
// same versions.
func TestMigration2IsRecordedOnPostgres(t *testing.T) {
	ctx := context.Background()
	s := openAtVersion(t, testenv.PostgresURL(t), 1)
	if n, err := s.migrateTo(ctx, 2); err != nil || n != 1 {
		t.Fatalf("upgrade applied %d step(s), err %v; want 1", n, err)
	}
	if v, err := s.CurrentVersion(ctx); err != nil || v != 2 {
		t.Fatalf("version %d, err %v; want 2", v, err)
	}
}

// TestMigration3SeparatesTheBuiltInAdmin: on a database from before it, a
// user called "admin" and the built-in admin had one identity. After it,
// the built-in admin's sessions and audit lines are its own, everyone
// else's belong to a user id, and every name has its skeleton.
func TestMigration3SeparatesTheBuiltInAdmin(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 2)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := s.w.ExecContext(ctx, s.q(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO users (id, username, created_at, updated_at) VALUES (7, 'admin', 0, 0), (8, 'frank', 0, 0), (9, 'аdmin', 0, 0)`)
		for _, se := range [][2]string{{"b1", "admin|admin"}, {"u1", "user|admin"}, {"f1", "user|frank"}, {"g1", "user|ghost"}} {
			kind, user, _ := strings.Cut(se[1], "|")
			exec(`INSERT INTO sessions (token_hash, kind, username, csrf_secret, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, 'x', 0, 0, $4)`,
				se[0], kind, user, int64(1)<<60)
		}
		exec(`INSERT INTO audit_log (actor, action, created_at) VALUES ('admin', 'a.builtin', 0), ('frank', 'a.user', 0), ('scheduler', 'a.system', 0), ('api', 'a.api', 0)`)

		if n, err := s.migrateTo(ctx, 3); err != nil || n != 1 {
			t.Fatalf("migration 3: %d steps, %v", n, err)
		}
		got := lines(t, s, `SELECT token_hash||' '||kind||' '||COALESCE(CAST(user_id AS TEXT), 'builtin') FROM sessions ORDER BY token_hash`)
		if want := []string{"b1 admin builtin", "f1 user 8", "u1 user 7"}; !slices.Equal(got, want) {
			t.Errorf("sessions after migration 3: %q, want %q (a session of a user who is gone is ended)", got, want)
		}
		got = lines(t, s, `SELECT action||' '||actor_kind||' '||COALESCE(CAST(actor_user_id AS TEXT), '-') FROM audit_log ORDER BY action`)
		if want := []string{"a.api api -", "a.builtin builtin-admin -", "a.system system -", "a.user user 8"}; !slices.Equal(got, want) {
			t.Errorf("audit after migration 3: %q, want %q", got, want)
		}
		got = lines(t, s, `SELECT username||' '||name_skeleton FROM users ORDER BY id`)
		if want := []string{"admin adrnin", "frank frank", "аdmin adrnin"}; !slices.Equal(got, want) {
			t.Errorf("skeletons after migration 3: %q, want %q", got, want)
		}
	})
}

// TestMigration4HashesAccountPINs: PINs kept in clear before it are keyed
// hashes after it, accounts without a PIN keep none, and a PIN still finds
// its account.
func TestMigration4HashesAccountPINs(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 3)
		for i, pin := range []string{"1001", "", "0042"} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO accounts (id, name, name_key, pin, created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0)`),
				i+1, fmt.Sprint("Account ", i+1), fmt.Sprint("account ", i+1), pin); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.migrateTo(ctx, 4); err != nil || n != 1 {
			t.Fatalf("migration 4: %d steps, %v", n, err)
		}
		h1, _ := s.HashAccountPIN(ctx, "1001")
		h3, _ := s.HashAccountPIN(ctx, "0042")
		got := lines(t, s, `SELECT name||' '||pin FROM accounts ORDER BY id`)
		if want := []string{"Account 1 " + h1, "Account 2 ", "Account 3 " + h3}; !slices.Equal(got, want) || !strings.HasPrefix(h1, "hmac-sha256:") {
			t.Fatalf("accounts after migration 4: %q, want %q", got, want)
		}
		found, _, err := s.ListAccounts(ctx, AccountFilter{Search: "0042", Limit: 10})
		if err != nil || len(found) != 1 || found[0].Name != "Account 3" {
			t.Fatalf("search by PIN after migration 4: %v, %v", found, err)
		}
	})
}

func TestMigration6LetsOneUserHoldANumberInBothFields(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 5)
		for i, user := range []string{"carol", "dave"} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (id, username, created_at, updated_at) VALUES ($1, $2, 0, 0)`), i+1, user); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			number string
			user   int
			slot   int
		}{{"800", 1, 1}, {"801", 1, 2}, {"900", 2, 1}} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_cards (number, user_id, slot) VALUES ($1, $2, $3)`), c.number, c.user, c.slot); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.migrateTo(ctx, 6); err != nil || n != 1 {
			t.Fatalf("migration 6: %d steps, %v", n, err)
		}
		if got := lines(t, s, `SELECT number||' '||user_id||' '||slot FROM user_cards ORDER BY number`); !slices.Equal(got, []string{"800 1 1", "801 1 2", "900 2 1"}) {
			t.Fatalf("cards after migration 6: %q", got)
		}
		// The store's card code is today's: it needs every later step too.
		if _, err := s.migrateTo(ctx, SchemaVersion()); err != nil {
			t.Fatal(err)
		}
		err := s.InTx(ctx, func(tx *Tx) error { return tx.SetUserCards(ctx, 1, "801", "801", model.CardOriginAdmin) })
		if err != nil {
			t.Fatalf("one number in both fields: %v", err)
		}
		carol, err := s.UserByName(ctx, "carol")
		if err != nil || carol.PrimaryCard != "801" || carol.SecondaryCard != "801" {
			t.Fatalf("carol after holding 801 twice: %+v, %v", carol, err)
		}
		if u, err := s.UserByCardSlot(ctx, "801", SecondaryCard); err != nil || u.Username != "carol" {
			t.Errorf("lookup of the secondary field: %v, %v", u, err)
		}
		// Still one user's: the database refuses another holder, in any field.
		for _, slot := range []int{PrimaryCard, SecondaryCard, BothCards} {
			if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_cards (number, user_id, slot) VALUES ('801', 2, $1)`), slot); !isUniqueViolation(err) {
				t.Errorf("a second holder of 801 in slot %d: %v", slot, err)
			}
		}
		// And each field holds one number a user.
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_cards (number, user_id, slot) VALUES ('902', 2, 1)`)); !isUniqueViolation(err) {
			t.Errorf("a second primary number for dave: %v", err)
		}
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_cards (number, user_id, slot) VALUES ('903', 1, 2)`)); !isUniqueViolation(err) {
			t.Errorf("a second secondary number for carol (who holds 801 in both): %v", err)
		}
		err = s.InTx(ctx, func(tx *Tx) error { return tx.SetUserCards(ctx, 2, "900", "801", model.CardOriginAdmin) })
		if !errors.Is(err, ErrCardInUse) {
			t.Errorf("SetUserCards with carol's number: %v", err)
		}
	})
}

// TestMigration7RecordsCardOrigins: numbers stored before it keep their
// owners and slots, with origin "" (not recorded) and no time; numbers set
// after it carry both.
func TestMigration7RecordsCardOrigins(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 6)
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (id, username, created_at, updated_at) VALUES (1, 'alice', 0, 0), (2, 'bob', 0, 0)`)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO user_cards (number, user_id, slot) VALUES ('1001', 1, 1), ('A2', 1, 2), ('2002', 2, 1)`)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.migrateTo(ctx, 7); err != nil || n != 1 {
			t.Fatalf("migration 7: %d steps, %v", n, err)
		}
		got := lines(t, s, `SELECT number||' '||CAST(user_id AS TEXT)||' '||CAST(slot AS TEXT)||' '||CAST(origin AS TEXT)||' '||COALESCE(CAST(set_at AS TEXT), 'none') FROM user_cards ORDER BY number`)
		if want := []string{"1001 1 1 0 none", "2002 2 1 0 none", "A2 1 2 0 none"}; !slices.Equal(got, want) {
			t.Fatalf("cards after migration 7: %q, want %q", got, want)
		}
		// Numbers written after it record where they came from.
		err := s.InTx(ctx, func(tx *Tx) error {
			return tx.SetUserCard(ctx, 2, SecondaryCard, "B2", model.CardOriginSelfRegistered)
		})
		if err != nil {
			t.Fatal(err)
		}
		cards, err := s.UserCardNumbers(ctx, 2)
		if err != nil || len(cards) != 2 || cards[0].Origin != "" || cards[0].SetAt != nil ||
			cards[1].Number != "B2" || cards[1].Origin != model.CardOriginSelfRegistered || cards[1].SetAt == nil {
			t.Fatalf("bob's cards after migration 7: %+v, %v", cards, err)
		}
	})
}

// TestMigration11AddsPasswordLinks: the link table exists after it, login
// events written before it count for the login limiter, a link is spent
// once (and spends the user's other open links), and an expired one is not.
func TestMigration11AddsPasswordLinks(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, 10)
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO users (id, username, internal, created_at, updated_at) VALUES (1, 'alice', $1, 0, 0)`), true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO login_events (holder, failure, account, client, familiar, at) VALUES ('h', $1, 'alice', '10.0.0.1', $2, 5)`), true, false); err != nil {
			t.Fatal(err)
		}
		if n, err := s.migrateTo(ctx, 11); err != nil || n != 1 {
			t.Fatalf("migration 11: %d steps, %v", n, err)
		}
		if got := lines(t, s, `SELECT account||' '||scope FROM login_events`); !slices.Equal(got, []string{"alice login"}) {
			t.Errorf("login events after migration 11: %q", got)
		}
		now := time.Now()
		err := s.InTx(ctx, func(tx *Tx) error {
			for _, p := range []*PasswordToken{
				{TokenHash: "h1", UserID: 1, Purpose: "reset", ExpiresAt: now.Add(time.Hour)},
				{TokenHash: "h2", UserID: 1, Purpose: "set", ExpiresAt: now.Add(time.Hour)},
				{TokenHash: "old", UserID: 1, Purpose: "reset", ExpiresAt: now.Add(-time.Minute)},
			} {
				if err := tx.CreatePasswordToken(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A link for a user who does not exist is refused by the database.
		err = s.InTx(ctx, func(tx *Tx) error {
			return tx.CreatePasswordToken(ctx, &PasswordToken{TokenHash: "x", UserID: 99, Purpose: "reset", ExpiresAt: now.Add(time.Hour)})
		})
		if err == nil {
			t.Error("a link for user #99, who does not exist, was stored")
		}
		use := func(hash string) *PasswordToken {
			t.Helper()
			var p *PasswordToken
			err := s.InTx(ctx, func(tx *Tx) error {
				var err error
				p, err = tx.UsePasswordToken(ctx, hash, now)
				return err
			})
			if err != nil && !errors.Is(err, ErrNotFound) {
				t.Fatalf("use %s: %v", hash, err)
			}
			return p
		}
		if p := use("old"); p == nil || p.Usable(now) || p.UsedAt != nil {
			t.Errorf("expired link: %+v, want expired and not spent", p)
		}
		if p := use("h1"); p == nil || !p.Usable(now) || p.Purpose != "reset" || p.UserID != 1 {
			t.Fatalf("first use of h1: %+v", p)
		}
		if p := use("h1"); p == nil || p.Usable(now) {
			t.Errorf("second use of h1: %+v, want a used link", p)
		}
		if p := use("h2"); p == nil || p.Usable(now) {
			t.Errorf("h2 after h1 set the password: %+v, want it ended", p)
		}
		if p := use("nope"); p != nil {
			t.Errorf("unknown link: %+v", p)
		}
		if _, err := s.PasswordTokenByHash(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown link by hash: %v", err)
		}
		// Links dead for more than a day are forgotten; younger ones stay,
		// so a late click still hears "expired".
		err = s.InTx(ctx, func(tx *Tx) error {
			return tx.CreatePasswordToken(ctx, &PasswordToken{TokenHash: "ancient", UserID: 1, Purpose: "reset", ExpiresAt: now.Add(-25 * time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.PurgePasswordTokens(ctx); err != nil {
			t.Fatal(err)
		}
		if got := lines(t, s, `SELECT token_hash FROM password_tokens ORDER BY token_hash`); !slices.Equal(got, []string{"h1", "h2", "old"}) {
			t.Errorf("links after the purge: %q", got)
		}
	})
}

// onBothDatabases runs f as a subtest on SQLite (url "") and on PostgreSQL
// (a fresh test database's URL; skipped when there is none).
func onBothDatabases(t *testing.T, f func(t *testing.T, url string)) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			url := ""
			if name == "postgres" {
				url = testenv.PostgresURL(t)
			}
			f(t, url)
		})
	}
}
