package source

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fieldDirectory is the Field of a LineError from a directory scan.
const fieldDirectory = "directory"

// ScanDirectory reads the accounts of a file-system directory scan (SPEC
// §3): each directory directly inside root is an account and, with
// subAccounts, each directory inside one of those is a sub-account. Files,
// hidden entries (".name") and deeper levels are ignored. Symbolic links are
// never followed: a link, even to a directory, is ignored with a warning.
//
// root must already be confined with safepath.Resolve. An unreadable root
// is an error; an unreadable account directory is a skipped entry, so that
// a run asked to delete refuses to (its sub-accounts are unknown).
func ScanDirectory(ctx context.Context, root string, subAccounts bool) (*Result, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("source: unable to read the directory %q: %w", root, err)
	}
	s := dirScan{res: &Result{}, seen: make(map[string]string)}
	for _, parent := range entries {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("source: directory scan of %q stopped: %w", root, err)
		}
		name, ok := s.accountName(parent, parent.Name(), "")
		if !ok {
			continue
		}
		s.res.Records = append(s.res.Records, Record{Parent: name})
		if !subAccounts {
			continue
		}
		subs, err := os.ReadDir(filepath.Join(root, parent.Name()))
		if err != nil {
			s.skip(parent.Name(), fmt.Sprintf("unable to read its sub-account directories: %v", err))
			continue
		}
		for _, sub := range subs {
			subName, ok := s.accountName(sub, parent.Name()+"/"+sub.Name(), name)
			if ok {
				s.res.Records = append(s.res.Records, Record{Parent: name, Sub: subName})
			}
		}
	}
	return s.res, nil
}

// dirScan holds one scan's result and the names it has already given.
type dirScan struct {
	res  *Result
	seen map[string]string // lower-case "parent\sub" → directory that gave it
}

func (s *dirScan) skip(path, reason string) {
	s.res.Skipped = append(s.res.Skipped, LineError{Path: path, Field: fieldDirectory, Reason: reason})
}

// accountName returns the account name an entry gives, or false when the
// entry is not an account (reported when it looks like one but cannot be).
func (s *dirScan) accountName(e fs.DirEntry, path, parent string) (string, bool) {
	if strings.HasPrefix(e.Name(), ".") {
		return "", false
	}
	// DirEntry.Type comes from the directory listing (lstat semantics):
	// a link to a directory is a link here, never a directory.
	if e.Type()&fs.ModeSymlink != 0 {
		s.res.Warnings = append(s.res.Warnings, LineError{Path: path, Field: fieldDirectory,
			Reason: "is a symbolic link; links are never followed, so it is not an account"})
		return "", false
	}
	if !e.IsDir() {
		return "", false
	}
	name := strings.TrimSpace(e.Name())
	if err := CheckName(name); err != nil {
		s.skip(path, err.Error())
		return "", false
	}
	key := strings.ToLower(parent) + `\` + strings.ToLower(name)
	if parent == "" {
		key = strings.ToLower(name) + `\`
	}
	if first, dup := s.seen[key]; dup {
		s.skip(path, fmt.Sprintf("names the same account as the directory %q (names are not case-sensitive)", first))
		return "", false
	}
	s.seen[key] = path
	return name, true
}
