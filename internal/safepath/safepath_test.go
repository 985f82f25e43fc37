package safepath

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// layout makes a sync root with a source inside, a sibling whose name
// starts with the root's name, and links that point inside and outside.
func layout(t testing.TB) (base, root string) {
	t.Helper()
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root = filepath.Join(base, "root")
	for _, d := range []string{"root/customers/Client 1", "rootX", "outside"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "accounts.txt"), []byte("A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"root/out":      filepath.Join(base, "outside"),
		"root/etc":      "/etc",
		"root/in":       filepath.Join(root, "customers"),
		"root/rel-up":   "../outside",
		"root/dangling": filepath.Join(base, "outside", "later"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	return base, root
}

func TestResolve(t *testing.T) {
	base, root := layout(t)
	roots := []string{root}
	for _, tc := range []struct {
		name    string
		path    string
		want    string // resolved path when accepted
		errPart string // part of the error when refused
	}{
		{"root itself", root, root, ""},
		{"file in root", root + "/accounts.txt", root + "/accounts.txt", ""},
		{"trailing slash", root + "/customers/", root + "/customers", ""},
		{"dot dot inside", root + "/customers/../accounts.txt", root + "/accounts.txt", ""},
		{"not yet existing", root + "/exports/tonight.txt", root + "/exports/tonight.txt", ""},
		{"link inside root", root + "/in/Client 1", root + "/customers/Client 1", ""},
		{"dot dot out", root + "/../outside", "", "outside the allowed sync roots"},
		{"many dot dots", root + "/../../../../etc/passwd", "", "outside the allowed sync roots"},
		{"sibling with root as prefix", base + "/rootX", "", "outside the allowed sync roots"},
		{"link out", root + "/out", "", "outside the allowed sync roots"},
		{"link to etc", root + "/etc/passwd", "", "outside the allowed sync roots"},
		{"relative link out", root + "/rel-up", "", "outside the allowed sync roots"},
		{"dangling link", root + "/dangling", "", "symbolic link to a location that does not exist"},
		{"missing below dangling link", root + "/dangling/x/y", "", "symbolic link"},
		{"etc", "/etc", "", `location "/etc" is outside the allowed sync roots (` + root + `); add it to sync.allowed-roots in ream.toml`},
		{"empty", "", "", "empty"},
		{"relative", "customers", "", "not an absolute path"},
		{"dot relative", "./customers", "", "not an absolute path"},
		{"backslash", root + `\..\outside`, "", `contains "\"`},
		{"windows", `C:\data`, "", `contains "\"`},
		{"nul", root + "/a\x00b", "", "NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(roots, tc.path)
			if tc.errPart == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Resolve(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Resolve(%q) = %q, want an error containing %q", tc.path, got, tc.errPart)
			}
			if !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("Resolve(%q) error %q does not contain %q", tc.path, err, tc.errPart)
			}
		})
	}
}

func TestResolveNoRoots(t *testing.T) {
	_, err := Resolve(nil, "/srv/ream-sync/accounts.txt")
	if !errors.Is(err, ErrNoRoots) || !strings.Contains(err.Error(), "sync.allowed-roots") {
		t.Fatalf("err = %v, want ErrNoRoots naming sync.allowed-roots", err)
	}
}

func TestResolveRootThroughLink(t *testing.T) {
	base, root := layout(t)
	// The configured root is itself a link: paths are compared after
	// resolving both sides, so its real directory is the boundary.
	linkRoot := filepath.Join(base, "root-link")
	if err := os.Symlink(root, linkRoot); err != nil {
		t.Fatal(err)
	}
	got, err := Resolve([]string{linkRoot}, linkRoot+"/accounts.txt")
	if err != nil || got != root+"/accounts.txt" {
		t.Fatalf("got %q, %v", got, err)
	}
	got, err = Resolve([]string{linkRoot}, root+"/accounts.txt")
	if err != nil || got != root+"/accounts.txt" {
		t.Fatalf("real path under linked root: got %q, %v", got, err)
	}
	if _, err := Resolve([]string{linkRoot}, base+"/outside"); !errors.Is(err, ErrOutsideRoots) {
		t.Fatalf("err = %v, want ErrOutsideRoots", err)
	}
}

func TestResolveBadRootConfig(t *testing.T) {
	for _, root := range []string{"", "relative/dir", `C:\sync`} {
		_, err := Resolve([]string{root}, "/srv/x")
		if err == nil || !strings.Contains(err.Error(), "sync.allowed-roots") {
			t.Errorf("root %q: err = %v, want one naming sync.allowed-roots", root, err)
		}
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		root, path string
		want       bool
	}{
		{"/data/root", "/data/root", true},
		{"/data/root", "/data/root/a", true},
		{"/data/root", "/data/rootX", false},
		{"/data/root", "/data", false},
		{"/", "/etc", true},
	} {
		if got := Within(tc.root, tc.path); got != tc.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tc.root, tc.path, got, tc.want)
		}
	}
}

func FuzzResolve(f *testing.F) {
	base, root := layout(f)
	for _, s := range []string{"", "/", "..", "a/../..", "/etc", "out/x", "in/../../outside",
		"rel-up/x", `\x`, "a\x00", "dangling", "./././in", "//", root, base + "/rootX"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []string{s, root + "/" + s} {
			got, err := Resolve([]string{root}, p)
			if err != nil {
				continue
			}
			if !Within(root, got) {
				t.Fatalf("Resolve(%q) = %q, outside root %q", p, got, root)
			}
			if got != filepath.Clean(got) || strings.ContainsAny(got, "\x00\\") {
				t.Fatalf("Resolve(%q) = %q, not a clean path", p, got)
			}
		}
	})
}
