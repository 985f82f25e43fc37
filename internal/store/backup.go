package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Backup writes a consistent copy of the SQLite database to file while the
// server keeps running (VACUUM INTO reads one snapshot). For PostgreSQL, use
// pg_dump: the database server owns its backups.
func (s *Store) Backup(ctx context.Context, file string) error {
	if s.flavor != SQLite {
		return errors.New("store: ream backup is for the embedded SQLite database; back up PostgreSQL with pg_dump")
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("store: backup file %s already exists; choose a new name", file)
	}
	if strings.ContainsAny(file, "'\x00") {
		return fmt.Errorf("store: backup file name %q may not contain quotes or NUL", file)
	}
	if _, err := s.w.ExecContext(ctx, `VACUUM INTO '`+file+`'`); err != nil {
		return fmt.Errorf("store: unable to back up to %s: %w", file, err)
	}
	return nil
}
