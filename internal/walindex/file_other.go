//go:build !unix

package walindex

import "os"

// File reads the wal-index header of one database with a positioned read
// of its -shm file (a mapping is used where the system offers it).
type File struct{ f *os.File }

// Open returns the File of the SQLite database at dbPath, opening its -shm
// file read only on first use. The caller must keep a connection to the
// database open for as long as it uses the File: SQLite deletes and
// recreates the -shm file only when the last connection to it closes.
func Open(dbPath string) (*File, error) {
	return shmFiles.open(dbPath, func(f *os.File) (*File, error) { return &File{f: f}, nil })
}

// Header reads the current header; ok is false while a writer is in the
// middle of updating it, or when it is not initialised. Safe for
// concurrent use.
func (w *File) Header() (h Header, ok bool) {
	var buf [2 * HeaderSize]byte
	if n, err := w.f.ReadAt(buf[:], 0); err != nil || n != len(buf) {
		return Header{}, false
	}
	return Parse(buf[:])
}
