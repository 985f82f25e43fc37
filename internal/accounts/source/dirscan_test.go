package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// customers builds the tree of SPEC §3's example, with everything a scan
// must ignore or refuse around it.
func customers(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "Customers")
	for _, d := range []string{
		"Client 1/Project 1/Deeper",
		"Client 1/Project 2",
		"Client 1/.git",
		"Client 2",
		".hidden/Project",
		"A\\B",
		"Bad\x01Name",
		"client 2",
		"Client 3/Sub\\Bad",
		"Caf\xe9",
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"readme.txt", "Client 1/invoice.pdf"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(base, "Outside")
	if err := os.MkdirAll(filepath.Join(outside, "Secret"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"Escape":            outside,
		"Client 1/Escape":   outside,
		"Client 2/Loop":     root,
		"Client 2/Dangling": filepath.Join(base, "nowhere"),
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func names(res *Result) []string {
	var out []string
	for _, r := range res.Records {
		if r.Line != 0 || r.Enabled != nil || r.Groups != nil {
			out = append(out, "unexpected values in "+r.FullName())
		}
		out = append(out, r.FullName())
	}
	return out
}

func TestScanDirectory(t *testing.T) {
	root := customers(t)
	for _, tc := range []struct {
		name        string
		subAccounts bool
		want        []string
		skipped     []string
		warned      []string
	}{
		{
			name: "accounts only",
			want: []string{"Client 1", "Client 2", "Client 3"},
			skipped: []string{
				`directory "A\\B": "A\\B" contains "\", which separates an account from its sub-account`,
				`directory "Bad\x01Name": "Bad\x01Name" contains the control character U+0001 at byte 4`,
				`directory "Caf\xe9": the name is not valid UTF-8 text`,
				`directory "client 2": names the same account as the directory "Client 2" (names are not case-sensitive)`,
			},
			warned: []string{"Escape"},
		},
		{
			name:        "with sub-accounts",
			subAccounts: true,
			want:        []string{"Client 1", `Client 1\Project 1`, `Client 1\Project 2`, "Client 2", "Client 3"},
			skipped: []string{
				`directory "A\\B": "A\\B" contains "\", which separates an account from its sub-account`,
				`directory "Bad\x01Name": "Bad\x01Name" contains the control character U+0001 at byte 4`,
				`directory "Caf\xe9": the name is not valid UTF-8 text`,
				`directory "Client 3/Sub\\Bad": "Sub\\Bad" contains "\", which separates an account from its sub-account`,
				`directory "client 2": names the same account as the directory "Client 2" (names are not case-sensitive)`,
			},
			warned: []string{"Client 1/Escape", "Client 2/Dangling", "Client 2/Loop", "Escape"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ScanDirectory(context.Background(), root, tc.subAccounts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(res); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("accounts %q, want %q", got, tc.want)
			}
			var skipped []string
			for _, s := range res.Skipped {
				if s.Line != 0 || s.Field != "directory" {
					t.Errorf("skipped entry %+v: want line 0 and field directory", s)
				}
				skipped = append(skipped, s.Error())
			}
			if !reflect.DeepEqual(skipped, tc.skipped) {
				t.Errorf("skipped\n got %q\nwant %q", skipped, tc.skipped)
			}
			var warned []string
			for _, w := range res.Warnings {
				warned = append(warned, w.Path)
				if !strings.Contains(w.Reason, "symbolic link") {
					t.Errorf("warning %v does not explain the link", w)
				}
			}
			if !reflect.DeepEqual(warned, tc.warned) {
				t.Errorf("warned about %q, want %q", warned, tc.warned)
			}
		})
	}
}

func TestScanDirectoryErrors(t *testing.T) {
	if _, err := ScanDirectory(context.Background(), filepath.Join(t.TempDir(), "missing"), true); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing root: err = %v", err)
	}
	file := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ScanDirectory(context.Background(), file, false); err == nil || !strings.Contains(err.Error(), "unable to read the directory") {
		t.Fatalf("file as root: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanDirectory(ctx, customers(t), true); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
	empty, err := ScanDirectory(context.Background(), t.TempDir(), true)
	if err != nil || !empty.Empty() {
		t.Fatalf("empty root: %+v, %v; want an empty result", empty, err)
	}
}

func TestScanDirectoryUnreadableAccount(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: directory permissions do not stop reading, so an unreadable directory cannot be made")
	}
	root := t.TempDir()
	locked := filepath.Join(root, "Locked")
	if err := os.Mkdir(locked, 0o000); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	res, err := ScanDirectory(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || len(res.Skipped) != 1 || res.Skipped[0].Path != "Locked" {
		t.Fatalf("records %v skipped %v", res.Records, res.Skipped)
	}
}

func TestMakeSampleTree(t *testing.T) {
	root := t.TempDir()
	if err := MakeSampleTree(root, 50); err != nil {
		t.Fatal(err)
	}
	res, err := ScanDirectory(context.Background(), root, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 50 || len(res.Skipped) != 0 || len(res.Warnings) != 0 {
		t.Fatalf("records %d skipped %v warnings %v", len(res.Records), res.Skipped, res.Warnings)
	}
	flat, err := ScanDirectory(context.Background(), root, false)
	if err != nil || len(flat.Records) != 10 {
		t.Fatalf("without sub-accounts: %d records, %v", len(flat.Records), err)
	}
}

func BenchmarkScanDirectory100k(b *testing.B) {
	root := b.TempDir()
	if err := MakeSampleTree(root, 100_000); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.ReportAllocs()
	for b.Loop() {
		res, err := ScanDirectory(context.Background(), root, true)
		if err != nil || len(res.Records) != 100_000 {
			b.Fatalf("records %d, err %v", len(res.Records), err)
		}
	}
}
