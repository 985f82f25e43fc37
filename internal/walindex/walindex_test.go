package walindex

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"
)

// openWAL opens a database in WAL mode on a fresh file, with one
// connection held open, and returns it with its File.
func openWAL(t testing.TB) (*sql.DB, *File, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "test.db")
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE cards (number TEXT PRIMARY KEY, owner TEXT)`); err != nil {
		t.Fatal(err)
	}
	w, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	return db, w, file
}

func header(t testing.TB, w *File) Header {
	t.Helper()
	h, ok := w.Header()
	if !ok {
		t.Fatal("the wal-index header SQLite wrote was not read as valid")
	}
	return h
}

// TestHeaderChangesWithEveryCommitAndCheckpoint: the header SQLite writes
// is read as valid, stays the same across reads, and differs after every
// commit and after a checkpoint that truncates the WAL, including a commit
// that leaves the WAL as long as an earlier state did.
func TestHeaderChangesWithEveryCommitAndCheckpoint(t *testing.T) {
	db, w, _ := openWAL(t)
	seen := map[Header]string{}
	step := func(what string) {
		t.Helper()
		h := header(t, w)
		if prev, ok := seen[h]; ok {
			t.Fatalf("after %s the header is the one seen after %s", what, prev)
		}
		seen[h] = what
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM cards`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if header(t, w) != h {
			t.Fatalf("a read changed the header (after %s)", what)
		}
	}
	exec := func(q string) {
		t.Helper()
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	step("create")
	exec(`INSERT INTO cards VALUES ('1', 'alice')`)
	step("insert")
	exec(`UPDATE cards SET owner = 'bob'`)
	step("update")
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	step("checkpoint")
	exec(`UPDATE cards SET owner = 'carol'`)
	step("update after checkpoint")
	exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	step("second checkpoint")
	exec(`UPDATE cards SET owner = 'dave'`)
	step("same update after second checkpoint")
	if c := header(t, w).Change(); c == 0 {
		t.Errorf("iChange is still 0 after commits")
	}
}

// TestParseRefusesTornAndDamagedHeaders: copies that disagree, an
// uninitialised header and a wrong checksum are not headers to trust.
func TestParseRefusesTornAndDamagedHeaders(t *testing.T) {
	_, _, file := openWAL(t)
	raw, err := os.ReadFile(file + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	good := raw[:2*HeaderSize]
	if _, ok := Parse(good); !ok {
		t.Fatal("the header SQLite wrote does not parse")
	}
	if _, ok := Parse(good[:2*HeaderSize-1]); ok {
		t.Error("a short header parsed")
	}
	for i := range 2 * HeaderSize {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		if _, ok := Parse(b); ok {
			t.Errorf("a header with byte %d changed parsed", i)
		}
	}
	both := bytes.Clone(good)
	both[12], both[HeaderSize+12] = 0, 0 // isInit in both copies
	if _, ok := Parse(both); ok {
		t.Error("an uninitialised header parsed")
	}
}

// FuzzParse: Parse never panics, and accepts only two equal, initialised
// copies whose checksum holds; any single changed byte of an accepted
// header makes it refused.
func FuzzParse(f *testing.F) {
	_, _, file := openWAL(f)
	raw, err := os.ReadFile(file + "-shm")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw[:2*HeaderSize], 0)
	f.Add(make([]byte, 2*HeaderSize), 5)
	f.Fuzz(func(t *testing.T, b []byte, flip int) {
		h, ok := Parse(b)
		if !ok {
			return
		}
		if !bytes.Equal(b[:HeaderSize], h[:]) || !bytes.Equal(b[HeaderSize:2*HeaderSize], h[:]) || h[12] == 0 {
			t.Fatalf("accepted %x", b[:2*HeaderSize])
		}
		var s1, s2 uint32
		for i := 0; i < 40; i += 8 {
			s1 += binary.NativeEndian.Uint32(h[i:]) + s2
			s2 += binary.NativeEndian.Uint32(h[i+4:]) + s1
		}
		if s1 != binary.NativeEndian.Uint32(h[40:]) || s2 != binary.NativeEndian.Uint32(h[44:]) {
			t.Fatalf("accepted a wrong checksum: %x", h)
		}
		c := bytes.Clone(b)
		i := (flip%(2*HeaderSize) + 2*HeaderSize) % (2 * HeaderSize)
		c[i] ^= 0x80
		if _, ok := Parse(c); ok {
			t.Fatalf("accepted a header with byte %d changed", i)
		}
	})
}

// BenchmarkHeader is the cost of one check: reading the 96 bytes from the
// read-only mapping and checking them.
func BenchmarkHeader(b *testing.B) {
	_, w, _ := openWAL(b)
	for b.Loop() {
		if _, ok := w.Header(); !ok {
			b.Fatal("no header")
		}
	}
}
