package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/walindex"
)

// cardCacheMax bounds the card cache: past it the cache starts again
// empty. It holds a site of 100,000 users with a card each, and room for
// numbers that belong to nobody; 100,000 entries took 12 MB of heap.
const cardCacheMax = 1 << 17

// Card lookups by how they were answered, for ream_card_lookups_total.
var (
	cardLookupsCached   = metrics.CardLookups.WithLabelValues("cache")
	cardLookupsDatabase = metrics.CardLookups.WithLabelValues("database")
)

// cardCache remembers the answers of UsernameByCard (the username, or ""
// for a number nobody owns) on SQLite, and serves them only while the
// database is provably unchanged: while the wal-index header (see package
// walindex) is the one read before the answers were looked up. Every
// commit, by this process or any other (ream server-command, an import,
// the sqlite3 shell), changes that header, and the cache then starts
// again empty. Reading the header before the database means a
// commit in between costs a needless refill, never a stale answer.
//
// PostgreSQL has no such signal, and several servers may share one
// database there, so its lookups always go to the database.
type cardCache struct {
	mu    sync.Mutex
	shm   *walindex.File
	seen  walindex.Header   // the header the entries were looked up under
	names map[string]string // card number → username, "" for nobody
	// pin is a connection held open for the cache's life: SQLite recreates
	// the -shm file only after the last connection to the database closes,
	// and then shm would read a dead file.
	pin *sql.Conn
	pdb *sql.DB
}

// openCardCache pins a connection to the database, so that its -shm file
// stays the one in use, and opens the -shm file. On any failure the store
// goes without a cache.
func openCardCache(ctx context.Context, dsn, path string) (*cardCache, error) {
	pdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	pin, err := pdb.Conn(ctx)
	if err != nil {
		pdb.Close()
		return nil, err
	}
	// A read: the connection opens the WAL and its shared memory, and holds
	// its shared lock on the database from now on.
	var mode string
	if err := pin.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		pin.Close()
		pdb.Close()
		return nil, fmt.Errorf("store: the card cache needs WAL mode, the database is in %q mode (%v)", mode, err)
	}
	if _, err := pin.ExecContext(ctx, `SELECT COUNT(*) FROM sqlite_master`); err != nil {
		pin.Close()
		pdb.Close()
		return nil, err
	}
	shm, err := walindex.Open(path)
	if err != nil {
		pin.Close()
		pdb.Close()
		return nil, err
	}
	return &cardCache{shm: shm, pin: pin, pdb: pdb, names: map[string]string{}}, nil
}

// CacheCardLookups lets UsernameByCard answer from memory while the
// database is unchanged, for a long-running server; on PostgreSQL it does
// nothing. An error leaves lookups reading the database every time.
func (s *Store) CacheCardLookups(ctx context.Context) error {
	if s.flavor != SQLite {
		return nil
	}
	s.cardMu.Lock()
	defer s.cardMu.Unlock()
	if s.cardCacheP.Load() != nil {
		return nil
	}
	c, err := openCardCache(ctx, s.readDSN, s.path)
	if err != nil {
		return fmt.Errorf("store: unable to cache card lookups: %w", err)
	}
	s.cardCacheP.Store(c)
	return nil
}

// lookUp answers from the cache while the database is unchanged, and asks
// read otherwise, remembering its answer.
func (c *cardCache) lookUp(ctx context.Context, number string, read func(context.Context, string) (string, error)) (string, error) {
	h, ok := c.shm.Header()
	if !ok {
		cardLookupsDatabase.Inc()
		return read(ctx, number) // a writer is updating it: no answer can be trusted
	}
	c.mu.Lock()
	if h != c.seen {
		clear(c.names)
		c.seen = h
	}
	name, hit := c.names[number]
	c.mu.Unlock()
	if hit {
		cardLookupsCached.Inc()
		if name == "" {
			return "", ErrNotFound
		}
		return name, nil
	}
	cardLookupsDatabase.Inc()
	name, err := read(ctx, number)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	c.mu.Lock()
	if c.seen == h { // else the database changed meanwhile and the cache started again
		if len(c.names) >= cardCacheMax {
			clear(c.names)
		}
		c.names[strings.Clone(number)] = name
	}
	c.mu.Unlock()
	return name, err
}

func (c *cardCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pin.Close() // shm stays open: see walindex.Open
	c.pdb.Close()
}
