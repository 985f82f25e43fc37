// Package safepath confines a path on the Ream server to the directories an
// administrator allowed in the configuration (sync.allowed-roots, SPEC §3), so
// that a sync source typed into the admin page or the API cannot read
// /etc/shadow or walk out of its root through "..", "\" or a symbolic link.
package safepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoRoots is returned when no allowed roots are configured: every path is
// refused until an administrator lists some.
var ErrNoRoots = errors.New("no sync roots are configured; list the directories Ream may read sources from in sync.allowed-roots in ream.toml")

// ErrOutsideRoots is wrapped by the error for a path that resolves outside
// every allowed root.
var ErrOutsideRoots = errors.New("outside the allowed sync roots")

// ErrInvalidPath is wrapped by the error for a path that is refused before
// it is looked at on disk (empty, relative, NUL byte, backslash).
var ErrInvalidPath = errors.New("invalid location")

// Resolve returns the real path of userPath (symbolic links resolved, "."
// and ".." removed) when it lies inside one of allowedRoots, and a clear
// error for the administrator otherwise.
//
// The path need not exist yet (a nightly export may not have been written):
// its longest existing ancestor is resolved and the rest appended. Because a
// link can be created after this check, callers resolve right before they
// open the source, not when the location is saved.
func Resolve(allowedRoots []string, userPath string) (string, error) {
	if len(allowedRoots) == 0 {
		return "", ErrNoRoots
	}
	if err := checkSyntax(userPath); err != nil {
		return "", err
	}
	roots := make([]string, 0, len(allowedRoots))
	for _, root := range allowedRoots {
		if err := checkSyntax(root); err != nil {
			return "", fmt.Errorf("sync.allowed-roots entry %q in ream.toml: %w", root, err)
		}
		real, err := resolveExisting(filepath.Clean(root))
		if err != nil {
			return "", fmt.Errorf("safepath: unable to resolve sync.allowed-roots entry %q: %w", root, err)
		}
		roots = append(roots, real)
	}
	real, err := resolveExisting(filepath.Clean(userPath))
	if err != nil {
		return "", fmt.Errorf("safepath: unable to resolve location %q: %w", userPath, err)
	}
	for _, root := range roots {
		if Within(root, real) {
			return real, nil
		}
	}
	return "", fmt.Errorf("location %q is %w (%s); add it to sync.allowed-roots in ream.toml",
		userPath, ErrOutsideRoots, strings.Join(allowedRoots, ", "))
}

// Within reports whether path is root or lies below it, comparing whole path
// components: /data/rootX is not within /data/root. Both must be clean and
// absolute.
func Within(root, path string) bool {
	if root == string(filepath.Separator) {
		return strings.HasPrefix(path, root)
	}
	if !strings.HasPrefix(path, root) {
		return false
	}
	return len(path) == len(root) || path[len(root)] == filepath.Separator
}

// checkSyntax refuses what must never reach the file system.
func checkSyntax(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: the location is empty; give an absolute path on the Ream server", ErrInvalidPath)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("%w: location %q contains a NUL byte", ErrInvalidPath, p)
	case strings.IndexByte(p, '\\') >= 0:
		return fmt.Errorf("%w: location %q contains \"\\\"; write the path on the Ream server with \"/\"", ErrInvalidPath, p)
	case !filepath.IsAbs(p):
		return fmt.Errorf("%w: location %q is not an absolute path; give the full path on the Ream server, starting with \"/\"", ErrInvalidPath, p)
	}
	return nil
}

// resolveExisting resolves symbolic links in the longest existing ancestor
// of the clean absolute path p and appends the components that do not exist.
func resolveExisting(p string) (string, error) {
	var missing []string
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			for i := len(missing) - 1; i >= 0; i-- {
				real = filepath.Join(real, missing[i])
			}
			return real, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		// A dangling link must not be treated as a missing path: its target
		// could be created later, anywhere.
		if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%q is a symbolic link to a location that does not exist", p)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		missing = append(missing, filepath.Base(p))
		p = parent
	}
}
