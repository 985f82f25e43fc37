package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/importfile"
)

// FileConfig is the text-file user source: a users file and an optional
// groups file (SPEC §4). File users have no passwords, so it is not an
// Authenticator.
type FileConfig struct {
	UsersFile  string
	GroupsFile string
}

// userFields names the columns of the users file, in order.
var userFields = [...]string{
	"username", "full name", "email", "department", "office", "primary card",
	"other emails", "secondary card", "username alias", "home folder", "PIN",
}

// MaxLineLength bounds one line of a users or groups file, in bytes. A
// longer line is reported and skipped; parsing goes on with the next one.
const MaxLineLength = 64 << 10

const (
	maxCardLength  = 64
	maxPINLength   = 32
	maxGroupLength = 256
)

// Name identifies the source.
func (c FileConfig) Name() string { return "file" }

// Read parses both files. A file that cannot be opened or read fails the
// whole read; bad lines are skipped and listed in Result.Skipped.
func (c FileConfig) Read(ctx context.Context, opts ReadOptions, progress func(n int)) (*Result, error) {
	if c.UsersFile == "" {
		return nil, errors.New("directory: the users file is not set")
	}
	users, skipped, err := readFile(ctx, c.UsersFile, ParseUsersFile)
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(len(users))
	}
	res := &Result{Users: users, Skipped: skipped}
	if c.GroupsFile != "" {
		var lines memberLines
		groups, gskipped, err := readFile(ctx, c.GroupsFile, func(r io.Reader) ([]GroupRecord, []LineError, error) {
			var (
				groups  []GroupRecord
				skipped []LineError
				err     error
			)
			groups, skipped, lines, err = parseGroupsFile(r)
			return groups, skipped, err
		})
		if err != nil {
			return nil, err
		}
		res.Skipped = append(res.Skipped, gskipped...)
		res.Skipped = append(res.Skipped, unknownMembers(groups, users, lines)...)
		res.Groups = groups
	} else if len(opts.Groups) > 0 {
		return nil, errors.New("directory: members of chosen groups were asked for but no groups file is set")
	}
	filterUsers(res, opts)
	return res, nil
}

// readFile opens path and parses it with parse.
func readFile[T any](ctx context.Context, path string, parse func(io.Reader) ([]T, []LineError, error)) ([]T, []LineError, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("directory: unable to read %s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: unable to open %s: %w", path, err)
	}
	defer f.Close()
	recs, skipped, err := parse(f)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: unable to read %s: %w", path, err)
	}
	return recs, skipped, nil
}

// unknownMembers reports group members that the users file does not have;
// filterUsers then drops them from the groups.
func unknownMembers(groups []GroupRecord, users []UserRecord, lines memberLines) []LineError {
	known := make(map[string]bool, len(users))
	for _, u := range users {
		known[u.Username] = true
	}
	var errs []LineError
	for _, g := range groups {
		for _, m := range g.Members {
			if !known[m] {
				line := lines[memberKey{strings.ToLower(g.Name), m}]
				errs = append(errs, LineError{Line: line, Field: "username", Reason: fmt.Sprintf("%q is not in the users file", m)})
			}
		}
	}
	return errs
}

// ParseUsersFile reads a users file: one user a line, tab-separated fields
// in the order of SPEC §4, only the username required. Bad lines and later
// duplicates of a username are skipped and reported; the error is only for
// a reader that fails.
func ParseUsersFile(r io.Reader) ([]UserRecord, []LineError, error) {
	lr := importfile.NewReader(r, MaxLineLength)
	var users []UserRecord
	var skipped []LineError
	firstLine := make(map[string]int)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return users, skipped, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("directory: unable to read line %d: %w", l.Number, err)
		}
		if l.Problem == importfile.TooLong {
			skipped = append(skipped, tooLong(l.Number))
			continue
		}
		u, lineErr := parseUserLine(l.Number, l.Fields)
		if lineErr != nil {
			skipped = append(skipped, *lineErr)
			continue
		}
		if first, dup := firstLine[u.Username]; dup {
			skipped = append(skipped, LineError{Line: l.Number, Field: "username", Reason: fmt.Sprintf("%q is a duplicate of line %d", u.Username, first)})
			continue
		}
		firstLine[u.Username] = l.Number
		users = append(users, u)
	}
}

// tooLong is the report of a line over MaxLineLength.
func tooLong(line int) LineError {
	return LineError{Line: line, Reason: fmt.Sprintf("line is longer than %d bytes", MaxLineLength)}
}

// parseUserLine turns one data line of the users file into a record.
func parseUserLine(line int, fields []string) (UserRecord, *LineError) {
	if len(fields) > len(userFields) {
		return UserRecord{}, &LineError{Line: line, Reason: fmt.Sprintf("has %d fields, at most %d are allowed", len(fields), len(userFields))}
	}
	var f [len(userFields)]string
	for i, v := range fields {
		v = strings.TrimSpace(v)
		if reason := textProblem(v); reason != "" {
			return UserRecord{}, &LineError{Line: line, Field: userFields[i], Reason: reason}
		}
		f[i] = v
	}
	bad := func(i int, reason string) (UserRecord, *LineError) {
		return UserRecord{}, &LineError{Line: line, Field: userFields[i], Reason: reason}
	}
	username, reason := normalizeUsername(f[0])
	if reason != "" {
		return bad(0, reason)
	}
	if f[2] != "" && !looksLikeEmail(f[2]) {
		return bad(2, fmt.Sprintf("%q is not an email address", f[2]))
	}
	otherEmails, reason := parseOtherEmails(f[6])
	if reason != "" {
		return bad(6, reason)
	}
	for _, i := range []int{5, 7} {
		if reason := cardProblem(f[i]); reason != "" {
			return bad(i, reason)
		}
	}
	alias := ""
	if f[8] != "" {
		if alias, reason = normalizeUsername(f[8]); reason != "" {
			return bad(8, reason)
		}
	}
	if f[10] != "" && (len(f[10]) > maxPINLength || strings.IndexFunc(f[10], func(r rune) bool { return r < '0' || r > '9' }) >= 0) {
		return bad(10, fmt.Sprintf("must be at most %d digits", maxPINLength))
	}
	return UserRecord{
		Line:          line,
		Username:      username,
		FullName:      f[1],
		Email:         f[2],
		Department:    f[3],
		Office:        f[4],
		PrimaryCard:   f[5],
		OtherEmails:   otherEmails,
		SecondaryCard: f[7],
		Alias:         alias,
		HomeFolder:    f[9],
		PIN:           f[10],
	}, nil
}

// textProblem reports why a field value cannot be stored, or "".
func textProblem(v string) string {
	if !utf8.ValidString(v) {
		return "is not valid UTF-8"
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "contains a control character"
	}
	return ""
}

// looksLikeEmail is a shape check only: something@something, no spaces.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " ,;")
}

// parseOtherEmails accepts addresses separated by commas, semicolons or
// spaces and returns them comma separated.
func parseOtherEmails(s string) (string, string) {
	if s == "" {
		return "", ""
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' })
	for _, p := range parts {
		if !looksLikeEmail(p) {
			return "", fmt.Sprintf("%q is not an email address", p)
		}
	}
	return strings.Join(parts, ","), ""
}

// cardProblem reports why a card/ID number is unusable, or "". Cards are
// letters and digits (SPEC §5); separators some readers print are allowed.
func cardProblem(s string) string {
	if utf8.RuneCountInString(s) > maxCardLength {
		return fmt.Sprintf("is longer than %d characters", maxCardLength)
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "contains a space"
	}
	return ""
}

// ParseGroupsFile reads a groups file of `group<TAB>username` lines. Groups
// come back in the order they first appear; names that differ only in case
// are the same group. Repeated memberships are merged.
func ParseGroupsFile(r io.Reader) ([]GroupRecord, []LineError, error) {
	groups, skipped, _, err := parseGroupsFile(r)
	return groups, skipped, err
}

// memberKey is a membership: lower-case group name and username.
type memberKey struct{ group, username string }

// memberLines maps each membership to the line that first gave it.
type memberLines map[memberKey]int

func parseGroupsFile(r io.Reader) ([]GroupRecord, []LineError, memberLines, error) {
	lr := importfile.NewReader(r, MaxLineLength)
	var groups []GroupRecord
	var skipped []LineError
	index := make(map[string]int)
	lines := make(memberLines)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return groups, skipped, lines, nil
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("directory: unable to read line %d: %w", l.Number, err)
		}
		if l.Problem == importfile.TooLong {
			skipped = append(skipped, tooLong(l.Number))
			continue
		}
		name, username, lineErr := parseGroupLine(l.Number, l.Fields)
		if lineErr != nil {
			skipped = append(skipped, *lineErr)
			continue
		}
		key := strings.ToLower(name)
		i, ok := index[key]
		if !ok {
			i = len(groups)
			index[key] = i
			groups = append(groups, GroupRecord{Name: name})
		}
		if _, dup := lines[memberKey{key, username}]; dup {
			continue
		}
		lines[memberKey{key, username}] = l.Number
		groups[i].Members = append(groups[i].Members, username)
	}
}

// parseGroupLine checks one `group<TAB>username` line.
func parseGroupLine(line int, fields []string) (string, string, *LineError) {
	if len(fields) != 2 {
		return "", "", &LineError{Line: line, Reason: fmt.Sprintf("has %d fields, want group<TAB>username", len(fields))}
	}
	name := strings.TrimSpace(fields[0])
	if name == "" {
		return "", "", &LineError{Line: line, Field: "group", Reason: "is required"}
	}
	if reason := textProblem(name); reason != "" {
		return "", "", &LineError{Line: line, Field: "group", Reason: reason}
	}
	if utf8.RuneCountInString(name) > maxGroupLength {
		return "", "", &LineError{Line: line, Field: "group", Reason: fmt.Sprintf("is longer than %d characters", maxGroupLength)}
	}
	username, reason := normalizeUsername(fields[1])
	if reason != "" {
		return "", "", &LineError{Line: line, Field: "username", Reason: reason}
	}
	return name, username, nil
}
