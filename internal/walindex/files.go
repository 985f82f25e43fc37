package walindex

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// shmFiles are the -shm files this process has opened, one File per file,
// kept open until the process ends. Closing a descriptor drops every POSIX
// lock the process holds on that file, SQLite's own locks on the wal-index
// among them (the lock that tells other processes this one still uses it,
// and its readers' marks): another process could then truncate and rebuild
// the wal-index under this process's connections (their next read fails
// with SQLITE_IOERR_IN_PAGE) or checkpoint over pages a reader still
// needs. So a File is never closed, and never left to the garbage
// collector, whose finalizer would close it.
var shmFiles = fileSet{byPath: map[string][]*File{}}

type fileSet struct {
	mu     sync.Mutex
	byPath map[string][]*File // every File opened for a path, the current last
	failed []*os.File         // opened, then found not usable yet
}

// open returns the File of dbPath's -shm file, making it with build when
// the path names a file not opened before.
func (s *fileSet) open(dbPath string, build func(*os.File) (*File, error)) (*File, error) {
	path, err := filepath.Abs(dbPath + "-shm")
	if err != nil {
		return nil, fmt.Errorf("walindex: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("walindex: unable to open the wal-index: %w", err)
	}
	if files := s.byPath[path]; len(files) > 0 {
		last := files[len(files)-1]
		if lst, err := last.f.Stat(); err == nil && os.SameFile(st, lst) {
			return last, nil
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("walindex: unable to open the wal-index: %w", err)
	}
	w, err := build(f)
	if err != nil {
		s.failed = append(s.failed, f) // not closed either
		return nil, err
	}
	s.byPath[path] = append(s.byPath[path], w)
	return w, nil
}
