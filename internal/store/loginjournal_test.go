package store

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/auth"
)

// TestLoginJournalSharesLimits: two servers' limiters on one database count
// together. Failures on one lock the account's unfamiliar budget and a
// familiar address on the other; a server started later catches up with
// the last hour. Both databases.
func TestLoginJournalSharesLimits(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, SchemaVersion())
		server := func() *auth.Limiter {
			t.Helper()
			j, err := NewLoginJournal(ctx, s, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			l := auth.NewLimiter(auth.DefaultLimiterConfig)
			l.SetJournal(j)
			return l
		}
		a, b := server(), server()
		now := time.Now()
		for i := range 10 {
			a.FailureFrom("bob", fmt.Sprintf("198.51.100.%d", i), false, now)
		}
		if ok, _, reason := b.AllowFrom("bob", "203.0.113.9", false, now); ok || reason != auth.ReasonUnfamiliar {
			t.Errorf("server B after 10 failures on A from unfamiliar addresses: ok %v, reason %q", ok, reason)
		}
		for range 5 {
			a.FailureFrom("carol", "192.0.2.7", true, now)
		}
		if ok, _, reason := b.AllowFrom("carol", "192.0.2.7", true, now); ok || reason != auth.ReasonAccount {
			t.Errorf("server B after 5 failures on A at carol's familiar address: ok %v, reason %q", ok, reason)
		}
		if ok, _, _ := b.AllowFrom("carol", "192.0.2.8", true, now); !ok {
			t.Errorf("carol's other familiar address is locked too")
		}
		late := server()
		if ok, _, reason := late.AllowFrom("bob", "203.0.113.9", false, now); ok || reason != auth.ReasonUnfamiliar {
			t.Errorf("a server started later: ok %v, reason %q", ok, reason)
		}
		// A server does not count its own events twice.
		if ok, _, _ := a.AllowFrom("dave", "192.0.2.1", true, now); !ok {
			t.Fatal("dave is locked before any failure")
		}
		for range 4 {
			a.FailureFrom("dave", "192.0.2.1", true, now)
		}
		if ok, _, _ := a.AllowFrom("dave", "192.0.2.1", true, now); !ok {
			t.Errorf("4 failures (under the 5 allowed) lock dave on the server that saw them")
		}
	})
}

// TestLimiterJournalsKeepTheirScopes: the reset-request limiter's events
// reach the other servers' reset-request limiters and not their login
// limiters, and the other way round. Both databases.
func TestLimiterJournalsKeepTheirScopes(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, SchemaVersion())
		server := func(scope string) *auth.Limiter {
			t.Helper()
			j, err := NewLimiterJournal(ctx, s, slog.New(slog.DiscardHandler), scope)
			if err != nil {
				t.Fatal(err)
			}
			l := auth.NewLimiter(auth.DefaultLimiterConfig)
			l.SetJournal(j)
			return l
		}
		resetA, resetB, loginB := server(JournalResetRequests), server(JournalResetRequests), server(JournalLogins)
		now := time.Now()
		for range 10 {
			resetA.FailureFrom("erin", "198.51.100.1", false, now)
		}
		if ok, _, _ := resetB.AllowFrom("erin", "198.51.100.2", false, now); ok {
			t.Error("server B's reset limiter does not see server A's reset requests")
		}
		if ok, _, reason := loginB.AllowFrom("erin", "198.51.100.2", false, now); !ok {
			t.Errorf("server B's login limiter counts reset requests: refused (%s)", reason)
		}
	})
}

// TestCardAttemptsAreCountedAcrossServers: the portal's card registration
// budget (auth.CardRegistrationLimiterConfig) is the site's: attempts on
// server A refuse the next one on server B, and the login limiter does
// not count them.
func TestCardAttemptsAreCountedAcrossServers(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openAtVersion(t, url, SchemaVersion())
		server := func(scope string, cfg auth.LimiterConfig) *auth.Limiter {
			t.Helper()
			j, err := NewLimiterJournal(ctx, s, slog.New(slog.DiscardHandler), scope)
			if err != nil {
				t.Fatal(err)
			}
			l := auth.NewLimiter(cfg)
			if scope == JournalCardAttempts {
				l.SetPlainJournal(j)
			} else {
				l.SetJournal(j)
			}
			return l
		}
		cardsA, cardsB := server(JournalCardAttempts, auth.CardRegistrationLimiterConfig), server(JournalCardAttempts, auth.CardRegistrationLimiterConfig)
		loginB := server(JournalLogins, auth.DefaultLimiterConfig)
		now := time.Now()
		for i := 0; ; i++ {
			if ok, _, _ := cardsA.AllowShared("frank", "198.51.100.7", now); !ok {
				break
			}
			if i > 1000 {
				t.Fatal("server A's card limiter never refused")
			}
			cardsA.FailureShared("frank", "198.51.100.7", now)
		}
		if ok, _, _ := cardsB.AllowShared("frank", "198.51.100.7", now); ok {
			t.Error("server B lets frank try another number after server A spent his budget")
		}
		if ok, _, reason := loginB.AllowFrom("frank", "198.51.100.7", true, now); !ok {
			t.Errorf("the login limiter counts card attempts: refused (%s)", reason)
		}
	})
}
