package directory

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func TestParseUsersFile(t *testing.T) {
	input := "\ufeff# username\tfull name\n" +
		"Alice\tAlice Archer\talice@example.org\tFinance\tLevel 2\t123\ta2@example.org, a3@example.org\t456\tAA\t\\\\srv\\alice\t1234\r\n" +
		"\n" +
		"   \t  \n" +
		"bob\n" +
		"\tNo Username\n" +
		"carol\tCarol\tnot-an-email\n" +
		"ALICE\tAlice Again\n" +
		"dave\tDave\t\t\t\tcard with space\n" +
		"erin\tErin\t\t\t\t\t\t\t\t\tabc\n" +
		"frank\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\n" +
		"gina\tGina\x01\n" +
		"hugo\t\t\t\t\t\tnope\n" +
		"ivan\t\t\t\t\t\t\t\tI\x7f\n" +
		"judy\t\t\t\t\t" + strings.Repeat("9", 65) + "\n" +
		"kim\tKim\n"
	users, skipped, err := ParseUsersFile(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	wantAlice := UserRecord{
		Line: 2, Username: "alice", FullName: "Alice Archer", Email: "alice@example.org",
		Department: "Finance", Office: "Level 2", PrimaryCard: "123",
		OtherEmails: "a2@example.org,a3@example.org", SecondaryCard: "456", Alias: "aa",
		HomeFolder: `\\srv\alice`, PIN: "1234",
	}
	if len(users) != 3 || !reflect.DeepEqual(users[0], wantAlice) || users[1].Username != "bob" || users[1].Line != 5 || users[2].Username != "kim" {
		t.Fatalf("users = %+v", users)
	}
	wantSkipped := []struct {
		line  int
		field string
	}{
		{6, "username"},
		{7, "email"},
		{8, "username"}, // duplicate of line 2
		{9, "primary card"},
		{10, "PIN"},
		{11, ""}, // too many fields
		{12, "full name"},
		{13, "other emails"},
		{14, "username alias"},
		{15, "primary card"},
	}
	if len(skipped) != len(wantSkipped) {
		t.Fatalf("skipped = %v, want %d lines", skipped, len(wantSkipped))
	}
	for i, w := range wantSkipped {
		if skipped[i].Line != w.line || skipped[i].Field != w.field {
			t.Errorf("skipped[%d] = %+v, want line %d field %q", i, skipped[i], w.line, w.field)
		}
		if !strings.Contains(skipped[i].Error(), "line ") {
			t.Errorf("skipped[%d].Error() = %q does not name the line", i, skipped[i].Error())
		}
	}
	if !strings.Contains(skipped[2].Reason, "line 2") {
		t.Errorf("duplicate reason %q should point at the first line", skipped[2].Reason)
	}
}

func TestParseUsersFileLongLine(t *testing.T) {
	input := "amy\n" + strings.Repeat("x", MaxLineLength+1) + "\nbea\r\n" + strings.Repeat("y", 3*MaxLineLength) + "\ncal"
	users, skipped, err := ParseUsersFile(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(users); !slices.Equal(got, []string{"amy", "bea", "cal"}) {
		t.Errorf("users = %v, want amy, bea, cal", got)
	}
	if len(skipped) != 2 || skipped[0].Line != 2 || skipped[1].Line != 4 || !strings.Contains(skipped[0].Reason, "longer") {
		t.Errorf("skipped = %+v, want lines 2 and 4 reported as too long", skipped)
	}
	exact := strings.Repeat("z", MaxLineLength)
	users, skipped, _ = ParseUsersFile(strings.NewReader(exact + "\r\n"))
	if len(users) != 0 || len(skipped) != 1 || skipped[0].Field != "username" {
		t.Errorf("a line of exactly MaxLineLength bytes is parsed, not refused for its length: %v %v", users, skipped)
	}
}

func TestParseGroupsFile(t *testing.T) {
	input := "# group\tuser\nStaff\tAlice\nstaff\tbob\nSTAFF\talice\nSales\tbob\n\tcarol\nSales\t\nSales\tx\ty\nOne Field\n"
	groups, skipped, err := ParseGroupsFile(strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"Staff": {"alice", "bob"}, "Sales": {"bob"}}
	if got := groupMembers(groups); !equalGroups(got, want) {
		t.Errorf("groups = %v, want %v", got, want)
	}
	wantSkipped := []struct {
		line  int
		field string
	}{{6, "group"}, {7, "username"}, {8, ""}, {9, ""}}
	if len(skipped) != len(wantSkipped) {
		t.Fatalf("skipped = %+v", skipped)
	}
	for i, w := range wantSkipped {
		if skipped[i].Line != w.line || skipped[i].Field != w.field {
			t.Errorf("skipped[%d] = %+v, want line %d field %q", i, skipped[i], w.line, w.field)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileSourceRead(t *testing.T) {
	usersFile := writeFile(t, "users.txt", "alice\tAlice\nbob\tBob\ncarol\tCarol\n\tbad\n")
	groupsFile := writeFile(t, "groups.txt", "staff\talice\nstaff\tbob\nsales\tcarol\nsales\tzoe\n")
	src := FileConfig{UsersFile: usersFile, GroupsFile: groupsFile}
	var _ Source = src
	if _, ok := any(src).(Authenticator); ok {
		t.Error("the file source has no passwords and must not be an Authenticator")
	}
	var progress []int
	res, err := src.Read(context.Background(), ReadOptions{}, func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(res.Users); !slices.Equal(got, []string{"alice", "bob", "carol"}) {
		t.Errorf("users = %v", got)
	}
	if want := map[string][]string{"staff": {"alice", "bob"}, "sales": {"carol"}}; !equalGroups(groupMembers(res.Groups), want) {
		t.Errorf("groups = %v, want %v", groupMembers(res.Groups), want)
	}
	if len(res.Skipped) != 2 || res.Skipped[0].Line != 4 || res.Skipped[1].Line != 4 || !strings.Contains(res.Skipped[1].Reason, "zoe") {
		t.Errorf("skipped = %+v, want users line 4 and the unknown member on groups line 4", res.Skipped)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 3 {
		t.Errorf("progress = %v, want it to end at 3", progress)
	}

	res, err = src.Read(context.Background(), ReadOptions{Groups: []string{"Staff"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(res.Users); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Errorf("members of staff = %v", got)
	}
}

func TestFileSourceErrors(t *testing.T) {
	usersFile := writeFile(t, "users.txt", "alice\n")
	tests := []struct {
		name string
		src  FileConfig
		opts ReadOptions
	}{
		{"no users file", FileConfig{}, ReadOptions{}},
		{"missing users file", FileConfig{UsersFile: filepath.Join(t.TempDir(), "none")}, ReadOptions{}},
		{"missing groups file", FileConfig{UsersFile: usersFile, GroupsFile: filepath.Join(t.TempDir(), "none")}, ReadOptions{}},
		{"groups wanted without a groups file", FileConfig{UsersFile: usersFile}, ReadOptions{Groups: []string{"staff"}}},
	}
	for _, tt := range tests {
		res, err := tt.src.Read(context.Background(), tt.opts, nil)
		if err == nil || res != nil {
			t.Errorf("%s: Read = %v, %v; want an error and no result", tt.name, res, err)
		}
	}
	empty := writeFile(t, "empty.txt", "# nobody\n")
	res, err := FileConfig{UsersFile: empty}.Read(context.Background(), ReadOptions{}, nil)
	if err != nil || len(res.Users) != 0 {
		t.Errorf("empty file: Read = %v, %v; want an empty result", res, err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseFailsOnReadError(t *testing.T) {
	if _, _, err := ParseUsersFile(failingReader{}); err == nil {
		t.Error("ParseUsersFile ignored a read error")
	}
	if _, _, err := ParseGroupsFile(failingReader{}); err == nil {
		t.Error("ParseGroupsFile ignored a read error")
	}
}

func FuzzParseUsersFile(f *testing.F) {
	f.Add("alice\tAlice\talice@example.org\tFin\tL2\t1\ta@b.c\t2\tal\t/h\t12\n")
	f.Add("\ufeff# c\r\nbob\r\n\r\nBOB\n")
	f.Add("\tx\n\x00\n" + strings.Repeat("a", 100))
	f.Fuzz(func(t *testing.T, input string) {
		users, skipped, err := ParseUsersFile(strings.NewReader(input))
		if err != nil {
			t.Fatalf("a string reader cannot fail: %v", err)
		}
		seen := make(map[string]bool)
		last := 0
		for _, u := range users {
			if u.Username == "" || u.Username != strings.ToLower(strings.TrimSpace(u.Username)) {
				t.Errorf("username %q is not normalized", u.Username)
			}
			if seen[u.Username] {
				t.Errorf("duplicate username %q", u.Username)
			}
			seen[u.Username] = true
			if u.Line <= last {
				t.Errorf("line numbers out of order: %d after %d", u.Line, last)
			}
			last = u.Line
			for _, v := range []string{u.FullName, u.Email, u.Department, u.Office, u.PrimaryCard, u.SecondaryCard, u.OtherEmails, u.Alias, u.HomeFolder, u.PIN} {
				if strings.IndexFunc(v, unicode.IsControl) >= 0 {
					t.Errorf("field %q holds a control character", v)
				}
			}
		}
		for _, s := range skipped {
			if s.Line <= 0 || s.Reason == "" {
				t.Errorf("skipped line without a line number or reason: %+v", s)
			}
		}
	})
}

func FuzzParseGroupsFile(f *testing.F) {
	f.Add("staff\talice\nStaff\tBOB\n")
	f.Add("\ufeff#x\r\n\t\n a \t b \n")
	f.Fuzz(func(t *testing.T, input string) {
		groups, skipped, err := ParseGroupsFile(strings.NewReader(input))
		if err != nil {
			t.Fatalf("a string reader cannot fail: %v", err)
		}
		names := make(map[string]bool)
		for _, g := range groups {
			key := strings.ToLower(g.Name)
			if g.Name == "" || names[key] {
				t.Errorf("group name %q empty or repeated", g.Name)
			}
			names[key] = true
			members := make(map[string]bool)
			for _, m := range g.Members {
				if m == "" || members[m] || m != strings.ToLower(m) {
					t.Errorf("group %q: member %q empty, repeated or not lower-case", g.Name, m)
				}
				members[m] = true
			}
		}
		for _, s := range skipped {
			if s.Line <= 0 || s.Reason == "" {
				t.Errorf("skipped line without a line number or reason: %+v", s)
			}
		}
	})
}
