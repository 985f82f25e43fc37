// Package reamtest builds the store and Core that most Ream tests run on,
// so each test file does not carry its own copy of the set-up.
package reamtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
)

// CheapHashParams make password hashing fast enough for tests; they are
// far below what a server may use.
var CheapHashParams = auth.HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

// Store opens a migrated store that is closed when the test ends: SQLite in
// t.TempDir, or a fresh PostgreSQL database (see testenv.PostgresURL, which
// skips the test when none is configured).
func Store(t testing.TB, postgres bool) *store.Store {
	t.Helper()
	ctx := context.Background()
	var s *store.Store
	var err error
	if postgres {
		s, err = store.Open(ctx, testenv.PostgresURL(t), "")
	} else {
		s, err = store.Open(ctx, "", filepath.Join(t.TempDir(), "ream.db"))
	}
	if err != nil {
		t.Fatalf("reamtest: unable to open the store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("reamtest: unable to migrate the store: %v", err)
	}
	return s
}

// Core returns a migrated store (see Store) and a Core over it (see NewCore).
func Core(t testing.TB, postgres bool) (*store.Store, *core.Core) {
	t.Helper()
	s := Store(t, postgres)
	return s, NewCore(t, s)
}

// NewCore builds a Core over s with uncached settings, the default
// configuration, cheap password hashing and a log that is thrown away.
// Tests may change c.Config before using it.
func NewCore(t testing.TB, s *store.Store) *core.Core {
	t.Helper()
	h, err := auth.NewHasher(CheapHashParams, 4)
	if err != nil {
		t.Fatalf("reamtest: unable to build the hasher: %v", err)
	}
	return core.New(s, settings.New(s, 0), h, config.Default(), slog.New(slog.DiscardHandler))
}
