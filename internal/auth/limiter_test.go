package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func mustAllow(t *testing.T, l *Limiter, account, client string, now time.Time) {
	t.Helper()
	if ok, wait, reason := l.Allow(account, client, now); !ok {
		t.Fatalf("Allow(%q, %q) at +%s refused (%s, retry after %s), want allowed", account, client, now.Sub(t0), reason, wait)
	}
}

func mustRefuse(t *testing.T, l *Limiter, account, client string, now time.Time, wantReason string, wantWait time.Duration) {
	t.Helper()
	ok, wait, reason := l.Allow(account, client, now)
	if ok || reason != wantReason || wait != wantWait {
		t.Fatalf("Allow(%q, %q) at +%s = %v, %s, %q; want refused, %s, %q", account, client, now.Sub(t0), ok, wait, reason, wantWait, wantReason)
	}
}

func TestLimiterAccountLockoutDoubles(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	now := t0
	wantLockouts := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, minutes := range wantLockouts {
		lockout := minutes * time.Minute
		for range 4 {
			mustAllow(t, l, "alice", "10.0.0.1", now)
			l.Failure("alice", fmt.Sprintf("10.0.%d.1", i), now)
			now = now.Add(time.Second)
		}
		mustAllow(t, l, "alice", "10.0.0.1", now)
		l.Failure("Alice", "10.0.0.2", now) // the fifth, with another case
		mustRefuse(t, l, "ALICE", "10.0.0.3", now, ReasonAccount, lockout)
		mustRefuse(t, l, "alice", "", now.Add(lockout-time.Second), ReasonAccount, time.Second)
		mustAllow(t, l, "bob", "10.0.0.3", now) // other accounts are not affected
		now = now.Add(lockout)
	}
	mustAllow(t, l, "alice", "10.0.0.9", now)
}

func TestLimiterAccountWindowExpires(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	for range 4 {
		l.Failure("alice", "", t0)
	}
	// Fifteen minutes later the window starts afresh: four more failures do not lock.
	later := t0.Add(15 * time.Minute)
	for range 4 {
		l.Failure("alice", "", later)
	}
	mustAllow(t, l, "alice", "", later)
	l.Failure("alice", "", later)
	mustRefuse(t, l, "alice", "", later, ReasonAccount, time.Minute)
}

func TestLimiterSuccessForgetsAccountNotClient(t *testing.T) {
	l := NewLimiter(LimiterConfig{AccountFailures: 3, ClientFailures: 5})
	for range 2 {
		l.Failure("alice", "10.0.0.1", t0)
	}
	l.Success("alice", "10.0.0.1", t0)
	for range 2 {
		l.Failure("alice", "10.0.0.1", t0)
	}
	mustAllow(t, l, "alice", "10.0.0.1", t0)
	l.Success("ALICE", "10.0.0.1", t0)
	// The client has 4 failures; one more refuses it, success or not.
	l.Failure("carol", "10.0.0.1", t0)
	mustRefuse(t, l, "alice", "10.0.0.1", t0, ReasonClient, 15*time.Minute)
}

func TestLimiterLockoutLevelForgottenAfterQuietDay(t *testing.T) {
	l := NewLimiter(LimiterConfig{AccountFailures: 1})
	l.Failure("alice", "", t0)
	l.Failure("alice", "", t0.Add(time.Minute))
	mustRefuse(t, l, "alice", "", t0.Add(time.Minute), ReasonAccount, 2*time.Minute)
	day := t0.Add(time.Minute + 24*time.Hour)
	l.Failure("alice", "", day)
	mustRefuse(t, l, "alice", "", day, ReasonAccount, time.Minute)
}

func TestLimiterPerClient(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	for i := range 20 {
		mustAllow(t, l, fmt.Sprintf("user%d", i), "192.0.2.7", t0)
		l.Failure(fmt.Sprintf("user%d", i), "192.0.2.7", t0.Add(time.Duration(i)*time.Second))
	}
	at := t0.Add(time.Minute)
	mustRefuse(t, l, "someone", "192.0.2.7", at, ReasonClient, 14*time.Minute)
	mustAllow(t, l, "someone", "192.0.2.8", at)
	mustAllow(t, l, "someone", "192.0.2.7", t0.Add(15*time.Minute))
}

func TestLimiterGlobal(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	for i := range 200 {
		l.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("client%d", i), t0)
	}
	mustRefuse(t, l, "fresh", "fresh-client", t0.Add(10*time.Second), ReasonGlobal, 50*time.Second)
	mustAllow(t, l, "fresh", "fresh-client", t0.Add(time.Minute))
}

func TestLimiterDisabledChecks(t *testing.T) {
	l := NewLimiter(LimiterConfig{AccountFailures: -1, ClientFailures: -1, GlobalFailures: -1})
	for range 1000 {
		l.Failure("alice", "10.0.0.1", t0)
	}
	mustAllow(t, l, "alice", "10.0.0.1", t0)
}

func TestLimiterMemoryBounded(t *testing.T) {
	l := NewLimiter(LimiterConfig{AccountFailures: 1, MaxEntries: 10, GlobalFailures: -1})
	for i := range 100 {
		l.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("client%d", i), t0)
	}
	if n, m := l.accounts.len(), l.clients.len(); n != 10 || m != 10 {
		t.Fatalf("limiter remembers %d accounts and %d clients, want 10 each", n, m)
	}
	mustAllow(t, l, "user0", "", t0) // the oldest were evicted
	mustRefuse(t, l, "user99", "", t0, ReasonAccount, time.Minute)
}

func TestLimiterPrunesStaleEntries(t *testing.T) {
	l := NewLimiter(LimiterConfig{})
	for i := range 50 {
		l.Failure(fmt.Sprintf("user%d", i), fmt.Sprintf("client%d", i), t0)
	}
	l.Allow("x", "y", t0.Add(25*time.Hour))
	if n, m := l.accounts.len(), l.clients.len(); n != 0 || m != 0 {
		t.Fatalf("after a quiet day the limiter still remembers %d accounts and %d clients", n, m)
	}
}

func TestLimiterConcurrentUse(t *testing.T) {
	l := NewLimiter(LimiterConfig{GlobalFailures: -1, ClientFailures: -1, AccountFailures: 1000})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				l.Allow("shared", fmt.Sprint(g), t0)
				l.Failure("shared", fmt.Sprint(g), t0)
				l.Success(fmt.Sprint("own", g, i), "", t0)
			}
		})
	}
	wg.Wait()
	// 800 failures: the 1000-failure budget holds; 200 more lock the account.
	mustAllow(t, l, "shared", "", t0)
	for range 200 {
		l.Failure("shared", "", t0)
	}
	mustRefuse(t, l, "shared", "", t0, ReasonAccount, time.Minute)
}

// TestLimiterSmartLockout: failures from addresses an account never logged
// in from cannot lock the owner out at a familiar address, and all of them
// together get a small budget per account.
func TestLimiterSmartLockout(t *testing.T) {
	l := NewLimiter(LimiterConfig{GlobalFailures: -1})
	now := t0
	// An attacker rotating addresses: ten guesses in all, then refused.
	for i := range 10 {
		client := fmt.Sprintf("10.9.%d.%d", i/200, i%200)
		if ok, _, reason := l.AllowFrom("admin", client, false, now); !ok {
			t.Fatalf("guess %d refused early (%s)", i+1, reason)
		}
		l.FailureFrom("admin", client, false, now)
	}
	if ok, wait, reason := l.AllowFrom("admin", "10.9.9.9", false, now); ok || reason != ReasonUnfamiliar || wait != 10*time.Minute {
		t.Fatalf("11th unfamiliar guess: %v, %s, %q; want refused for 10m as unfamiliar", ok, wait, reason)
	}
	// The owner at a familiar address is not affected, however many.
	for range 100 {
		l.FailureFrom("admin", fmt.Sprintf("10.8.0.%d", now.Second()), false, now)
	}
	if ok, _, reason := l.AllowFrom("admin", "127.0.0.1", true, now); !ok {
		t.Fatalf("the owner at a familiar address was refused (%s)", reason)
	}
	// Five failures at the familiar address lock only that address.
	for range 5 {
		l.FailureFrom("admin", "127.0.0.1", true, now)
	}
	if ok, _, reason := l.AllowFrom("admin", "127.0.0.1", true, now); ok || reason != ReasonAccount {
		t.Fatalf("familiar address after 5 failures: %v %q; want locked", ok, reason)
	}
	if ok, _, _ := l.AllowFrom("admin", "127.0.0.2", true, now); !ok {
		t.Fatal("a second familiar address was locked by the first one's failures")
	}
	// A success does not reset the unfamiliar budget.
	l.SuccessFrom("admin", "127.0.0.2", now)
	if ok, _, _ := l.AllowFrom("admin", "10.9.9.9", false, now); ok {
		t.Fatal("a success elsewhere gave unfamiliar addresses a fresh budget")
	}
	// The window passes.
	if ok, _, reason := l.AllowFrom("admin", "10.9.9.9", false, now.Add(10*time.Minute)); !ok {
		t.Fatalf("after the window: refused (%s)", reason)
	}
	// Per-address budgets still hold for unfamiliar addresses.
	for range 20 {
		l.FailureFrom(fmt.Sprintf("user%d", now.Nanosecond()), "10.7.0.1", false, now)
		now = now.Add(time.Nanosecond)
	}
	if ok, _, reason := l.AllowFrom("someone", "10.7.0.1", false, now); ok || reason != ReasonClient {
		t.Fatalf("an address with 20 failures: %v %q; want refused per client", ok, reason)
	}
}

// TestCardRegistrationBudget: the portal's self-service card budget counts
// attempts per user and per address; a user past it is locked out for 15
// minutes, doubling, and other users from other addresses are not affected.
func TestCardRegistrationBudget(t *testing.T) {
	l := NewLimiter(CardRegistrationLimiterConfig)
	now := t0
	for range 5 {
		mustAllow(t, l, "alice", "10.0.0.1", now)
		l.Failure("alice", "10.0.0.1", now)
		now = now.Add(time.Second)
	}
	mustRefuse(t, l, "alice", "10.0.0.9", now, ReasonAccount, 15*time.Minute-time.Second)
	mustAllow(t, l, "bob", "10.0.0.2", now)
	now = now.Add(15 * time.Minute)
	for range 5 {
		mustAllow(t, l, "alice", "10.0.0.1", now)
		l.Failure("alice", "10.0.0.1", now)
	}
	mustRefuse(t, l, "alice", "10.0.0.1", now, ReasonAccount, 30*time.Minute) // the second lockout doubles

	// One address may not spread its attempts over many users: 20 an hour.
	l = NewLimiter(CardRegistrationLimiterConfig)
	now = t0
	for i := range 20 {
		user := fmt.Sprintf("user%d", i/4)
		mustAllow(t, l, user, "10.0.0.5", now)
		l.Failure(user, "10.0.0.5", now)
		now = now.Add(time.Minute)
	}
	mustRefuse(t, l, "fresh", "10.0.0.5", now, ReasonClient, 40*time.Minute)
	mustAllow(t, l, "fresh", "10.0.0.6", now)
	mustAllow(t, l, "fresh", "10.0.0.5", now.Add(40*time.Minute))
}
