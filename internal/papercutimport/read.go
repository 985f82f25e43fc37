package papercutimport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// pageSize is how many names one list call asks for; PaperCut answers up
// to 1000 per call in its own scripts' examples.
const pageSize = 1000

// userProps are the user properties read, in the order of SourceUser's
// fields: every one PaperCut's getUserProperties returns that Ream keeps.
var userProps = []string{"full-name", "email", "other-emails", "department", "office", "notes", "username-alias", "home",
	"primary-card-number", "secondary-card-number", "balance", "restricted", "disabled-print", "internal",
	"account-selection.mode", "account-selection.can-charge-personal", "account-selection.can-charge-shared-from-list",
	"account-selection.can-charge-shared-by-pin", "account-selection.can-print-as-other-user",
	"account-selection.charge-to-personal", "account-selection.auto-shared-account", "account-selection.default-shared-account"}

// accountProps are the shared-account properties read.
var accountProps = []string{"balance", "pin", "restricted", "disabled", "access-users", "access-groups",
	"invoice-option", "comment-option", "notes", "overdraft-amount"}

// SourceUser is one user as the source reports it: the property values by name.
type SourceUser struct {
	Username string
	Props    map[string]string
}

// SourceAccount is one shared account or sub-account ("Parent\Sub").
type SourceAccount struct {
	Name  string
	Props map[string]string
	// PINHidden is set when the source says the account has a PIN but
	// does not show it (a Ream source keeps PINs hashed).
	PINHidden bool
}

// SourceAdmin is one admin-access entry, when the source lists them.
type SourceAdmin struct {
	Kind, Name string // "user" or "group"
	Rights     string // "rights=…<TAB>scope=…", as listAdminAccess prints them
}

// Snapshot is everything read from the source.
type Snapshot struct {
	URL      string
	Users    []SourceUser
	Groups   map[string][]string // group name → member usernames
	Accounts []SourceAccount
	// Admins is nil when the source's API cannot list admin access
	// (PaperCut's cannot); AdminsNote then says so.
	Admins     []SourceAdmin
	AdminsNote string
}

// Parts chooses what to import.
type Parts struct{ Users, Groups, Accounts bool }

// AllParts imports everything.
var AllParts = Parts{Users: true, Groups: true, Accounts: true}

// ParseParts reads --only's list: users, groups, accounts.
func ParseParts(list string) (Parts, error) {
	if strings.TrimSpace(list) == "" {
		return AllParts, nil
	}
	var p Parts
	for _, w := range strings.Split(list, ",") {
		switch strings.ToLower(strings.TrimSpace(w)) {
		case "users":
			p.Users = true
		case "groups":
			p.Groups = true
		case "accounts", "shared-accounts":
			p.Accounts = true
		default:
			return p, fmt.Errorf("--only: %q is not one of users, groups, accounts", w)
		}
	}
	return p, nil
}

// readProgress counts finished calls for the progress bar.
type readProgress struct {
	done, total atomic.Int64
	report      func(Progress)
}

func (r *readProgress) add(total int) { r.total.Add(int64(total)); r.tick(0) }
func (r *readProgress) tick(n int) {
	d := r.done.Add(int64(n))
	if r.report != nil {
		r.report(Progress{Phase: PhaseReading, Done: int(d), Total: int(r.total.Load())})
	}
}

// Read reads the chosen parts of the source. Calls run over the source's
// connections, Concurrency at a time; the first failure stops the read.
func (s *Source) Read(ctx context.Context, parts Parts, report func(Progress)) (*Snapshot, error) {
	snap := &Snapshot{URL: s.url, Groups: map[string][]string{}}
	// A first cheap call tells a wrong token, address or URL before anything else.
	total, err := s.call(ctx, "getTotalUsers")
	if err != nil {
		return nil, err
	}
	prog := &readProgress{report: report}
	if n, ok := total.(int); ok && parts.Users {
		prog.add(n)
	}
	if parts.Users {
		names, err := s.list(ctx, "listUserAccounts")
		if err != nil {
			return nil, err
		}
		prog.add(len(names) - int(prog.total.Load()))
		snap.Users = make([]SourceUser, len(names))
		err = s.each(ctx, len(names), func(ctx context.Context, i int) error {
			vals, err := s.strings(ctx, "getUserProperties", names[i], userProps)
			if err != nil {
				return err
			}
			if len(vals) != len(userProps) {
				return fmt.Errorf("getUserProperties of %q returned %d values for %d properties", names[i], len(vals), len(userProps))
			}
			u := SourceUser{Username: names[i], Props: make(map[string]string, len(userProps))}
			for j, p := range userProps {
				u.Props[p] = vals[j]
			}
			snap.Users[i] = u
			prog.tick(1)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if parts.Groups || parts.Users {
		groups, err := s.list(ctx, "listUserGroups")
		if err != nil {
			return nil, err
		}
		prog.add(len(groups))
		members := make([][]string, len(groups))
		err = s.each(ctx, len(groups), func(ctx context.Context, i int) error {
			m, err := s.listOf(ctx, "getGroupMembers", groups[i])
			members[i] = m
			prog.tick(1)
			return err
		})
		if err != nil {
			return nil, err
		}
		for i, g := range groups {
			snap.Groups[g] = members[i]
		}
	}
	if parts.Accounts {
		names, err := s.list(ctx, "listSharedAccounts")
		if err != nil {
			return nil, err
		}
		prog.add(len(names))
		props := accountProps
		// A Ream source keeps PINs hashed and says only whether one is set;
		// PaperCut has no such property, so ask it only of a source that knows it.
		if len(names) > 0 {
			if _, err := s.call(ctx, "getSharedAccountProperty", names[0], "pin-set"); err == nil {
				props = append(append([]string(nil), accountProps...), "pin-set")
			}
		}
		snap.Accounts = make([]SourceAccount, len(names))
		err = s.each(ctx, len(names), func(ctx context.Context, i int) error {
			vals, err := s.strings(ctx, "getSharedAccountProperties", names[i], props)
			if err != nil {
				return err
			}
			if len(vals) != len(props) {
				return fmt.Errorf("getSharedAccountProperties of %q returned %d values for %d properties", names[i], len(vals), len(props))
			}
			a := SourceAccount{Name: names[i], Props: make(map[string]string, len(props))}
			for j, p := range props {
				a.Props[p] = vals[j]
			}
			a.PINHidden = a.Props["pin"] == "" && a.Props["pin-set"] == "true"
			snap.Accounts[i] = a
			prog.tick(1)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	s.readAdmins(ctx, snap)
	return snap, nil
}

// readAdmins asks for the admin-access list. PaperCut's API has no such
// read (only add/remove); a Ream source answers listAdminAccess.
func (s *Source) readAdmins(ctx context.Context, snap *Snapshot) {
	v, err := s.call(ctx, "listAdminAccess")
	if err != nil {
		snap.AdminsNote = "admin access entries: the source's API does not list them (PaperCut's has no such call); give them again in Options > Admin Rights or with server-command add-admin-access-user/group"
		return
	}
	lines, _ := toStrings(v)
	snap.Admins = []SourceAdmin{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) < 2 {
			continue
		}
		a := SourceAdmin{Kind: f[0], Name: f[1]}
		if len(f) > 2 {
			a.Rights = strings.Join(f[2:], "\t")
		}
		snap.Admins = append(snap.Admins, a)
	}
}

// list reads a whole paged list (listUserAccounts, listSharedAccounts…).
func (s *Source) list(ctx context.Context, method string) ([]string, error) {
	return s.listOf(ctx, method)
}

func (s *Source) listOf(ctx context.Context, method string, lead ...any) ([]string, error) {
	var out []string
	for offset := 0; ; offset += pageSize {
		params := append(append([]any(nil), lead...), offset, pageSize)
		v, err := s.call(ctx, method, params...)
		if err != nil {
			return nil, err
		}
		page, err := toStrings(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		out = append(out, page...)
		if len(page) < pageSize {
			return out, nil
		}
	}
}

// strings calls a method whose answer is an array of strings.
func (s *Source) strings(ctx context.Context, method string, params ...any) ([]string, error) {
	v, err := s.call(ctx, method, params...)
	if err != nil {
		return nil, err
	}
	out, err := toStrings(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	return out, nil
}

func toStrings(v any) ([]string, error) {
	if s, ok := v.(string); ok && s == "" {
		return nil, nil // PaperCut answers "" for an empty list
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array, got %T", v)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		switch e := e.(type) {
		case string:
			out[i] = e
		default:
			out[i] = fmt.Sprint(e)
		}
	}
	return out, nil
}

// each runs fn for 0..n-1 on the source's connections, Concurrency at a
// time, and returns the first error (the others are cancelled).
func (s *Source) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(s.concurrency, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
