package store

import "context"

// ForceSchemaVersionForTest pretends a newer binary migrated the database.
func (s *Store) ForceSchemaVersionForTest(ctx context.Context, v int) error {
	_, err := s.exec(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, v)
	return err
}
