package auth

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// Reasons Limiter.Allow gives for a refusal.
const (
	ReasonAccount = "account" // too many failures for this account: it is locked out
	ReasonClient  = "client"  // too many failures from this client address
	ReasonGlobal  = "global"  // too many failures across the server
	// ReasonUnfamiliar: too many failures for this account from addresses
	// it never logged in from; callers answer as for a wrong password.
	ReasonUnfamiliar = "unfamiliar"
)

// LimiterConfig sets the failure budgets of a Limiter. Zero fields take the
// defaults of DefaultLimiterConfig; a negative failure count turns that check off.
type LimiterConfig struct {
	AccountFailures int           // failures per account within AccountWindow before a lockout
	AccountWindow   time.Duration //
	LockoutBase     time.Duration // first lockout; each further one doubles
	LockoutMax      time.Duration // longest lockout
	ClientFailures  int           // failures per client address within ClientWindow
	ClientWindow    time.Duration //
	GlobalFailures  int           // failures across all accounts within GlobalWindow
	GlobalWindow    time.Duration //
	Forget          time.Duration // an account quiet this long starts again at the first lockout
	MaxEntries      int           // accounts and client addresses remembered, each
	// UnfamiliarFailures bounds the failed guesses per account, within
	// UnfamiliarWindow, from all the addresses the account has not logged
	// in from lately, together (see AllowFrom).
	UnfamiliarFailures int
	UnfamiliarWindow   time.Duration
}

// DefaultLimiterConfig is the budget for interactive logins: 5 failures per account
// in 15 minutes, then a lockout of 1 minute doubling up to 1 hour; 20 failures per
// client in 15 minutes; 200 failures per minute in all.
var DefaultLimiterConfig = LimiterConfig{
	AccountFailures: 5,
	AccountWindow:   15 * time.Minute,
	LockoutBase:     time.Minute,
	LockoutMax:      time.Hour,
	ClientFailures:  20,
	ClientWindow:    15 * time.Minute,
	GlobalFailures:  200,
	GlobalWindow:    time.Minute,
	Forget:          24 * time.Hour,
	MaxEntries:      50_000,

	UnfamiliarFailures: 10,
	UnfamiliarWindow:   10 * time.Minute,
}

// CardRegistrationLimiterConfig is the budget of the portal's self-service
// Card/ID numbers (registering a card, generating a number), which must not
// become a way to probe which numbers exist. The caller reports every
// attempt as a Failure, not only refusals: a registration that works also
// says the number was free. Per user: 5 attempts in 15 minutes, then a
// lockout of 15 minutes doubling up to a day; per address: 20 attempts an
// hour, whoever is logged in; 200 a minute across the server.
var CardRegistrationLimiterConfig = LimiterConfig{
	AccountFailures:    5,
	AccountWindow:      15 * time.Minute,
	LockoutBase:        15 * time.Minute,
	LockoutMax:         24 * time.Hour,
	ClientFailures:     20,
	ClientWindow:       time.Hour,
	GlobalFailures:     200,
	GlobalWindow:       time.Minute,
	Forget:             7 * 24 * time.Hour,
	MaxEntries:         50_000,
	UnfamiliarFailures: -1, // the user is logged in: there is no unfamiliar address to tell apart
}

func (c LimiterConfig) withDefaults() LimiterConfig {
	d := DefaultLimiterConfig
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&c.AccountFailures, d.AccountFailures)
	setInt(&c.ClientFailures, d.ClientFailures)
	setInt(&c.GlobalFailures, d.GlobalFailures)
	setInt(&c.UnfamiliarFailures, d.UnfamiliarFailures)
	setDur(&c.UnfamiliarWindow, d.UnfamiliarWindow)
	if c.MaxEntries <= 0 {
		c.MaxEntries = d.MaxEntries
	}
	setDur(&c.AccountWindow, d.AccountWindow)
	setDur(&c.LockoutBase, d.LockoutBase)
	setDur(&c.LockoutMax, d.LockoutMax)
	setDur(&c.ClientWindow, d.ClientWindow)
	setDur(&c.GlobalWindow, d.GlobalWindow)
	setDur(&c.Forget, d.Forget)
	return c
}

// Limiter counts failed attempts (logins, PINs, card lookups; one Limiter each) per
// account, per client address and globally. Callers ask Allow before checking a
// secret and report Failure or Success after. Windows are fixed, starting at the
// first failure, so a budget can at most double across a window boundary. Memory
// is bounded by MaxEntries per kind; the least recently failing entries go first,
// and the global budget limits how fast an attacker can push others out.
type Limiter struct {
	cfg        LimiterConfig
	mu         sync.Mutex
	accounts   *failureTable
	clients    *failureTable
	unfamiliar *failureTable // per account, failures from unfamiliar addresses
	global     failureRecord
	journal    Journal // shares the counts with other servers; nil: this process only
	// plainJournal: the journal's events are Failure/Allow ones (SetPlainJournal).
	plainJournal bool
}

// NewLimiter returns a Limiter with cfg's budgets.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg = cfg.withDefaults()
	return &Limiter{
		cfg:        cfg,
		accounts:   newFailureTable(cfg.MaxEntries),
		clients:    newFailureTable(cfg.MaxEntries),
		unfamiliar: newFailureTable(cfg.MaxEntries),
	}
}

// AllowFrom is Allow for a login, told whether the client address is
// familiar: one the account logged in from successfully lately. Failures
// from a familiar address lock the account for that address only, as Allow
// would, so nobody elsewhere can lock the owner out. Failures from all
// unfamiliar addresses share one small budget per account
// (UnfamiliarFailures per UnfamiliarWindow) that has no lockout to grow and
// no effect on familiar addresses (the "smart lockout" idea). The client's
// and the global budgets apply either way.
func (l *Limiter) AllowFrom(account, client string, familiar bool, now time.Time) (ok bool, retryAfter time.Duration, reason string) {
	l.catchUp()
	if familiar {
		return l.Allow(familiarKey(account, client), client, now)
	}
	account = strings.ToLower(account)
	if ok, wait, reason := l.Allow("", client, now); !ok {
		return ok, wait, reason
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.unfamiliar.get(account); r != nil {
		if wait, full := r.windowFull(now, l.cfg.UnfamiliarFailures, l.cfg.UnfamiliarWindow); full {
			return false, wait, ReasonUnfamiliar
		}
	}
	return true, 0, ""
}

// FailureFrom records a failed login, familiar or not (see AllowFrom).
func (l *Limiter) FailureFrom(account, client string, familiar bool, now time.Time) {
	l.failureFrom(account, client, familiar, now)
	l.record(LoginEvent{Failure: true, Account: account, Client: client, Familiar: familiar, At: now})
}

func (l *Limiter) failureFrom(account, client string, familiar bool, now time.Time) {
	if familiar {
		l.Failure(familiarKey(account, client), client, now)
		return
	}
	l.Failure("", client, now)
	if l.cfg.UnfamiliarFailures > 0 && account != "" {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.unfamiliar.touch(strings.ToLower(account), now).count(now, l.cfg.UnfamiliarWindow)
	}
}

// SuccessFrom records a successful login. It forgets the failures of that
// account from that address; the unfamiliar budget is kept, so that the
// owner logging in does not hand an attacker elsewhere a fresh one.
func (l *Limiter) SuccessFrom(account, client string, now time.Time) {
	l.successFrom(account, client, now)
	l.record(LoginEvent{Account: account, Client: client, At: now})
}

func (l *Limiter) successFrom(account, client string, now time.Time) {
	l.Success(familiarKey(account, client), client, now)
}

// familiarKey is the account-table key of one account at one address.
func familiarKey(account, client string) string {
	return strings.ToLower(account) + "\x00" + client
}

// Allow reports whether an attempt for account from client may go ahead now. When
// it may not, retryAfter says how long until it may and reason is one of the
// Reason constants. An empty account or client skips that check.
func (l *Limiter) Allow(account, client string, now time.Time) (ok bool, retryAfter time.Duration, reason string) {
	account = strings.ToLower(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	if r := l.accounts.get(account); r != nil && now.Before(r.lockedUntil) {
		return false, r.lockedUntil.Sub(now), ReasonAccount
	}
	if r := l.clients.get(client); r != nil {
		if wait, full := r.windowFull(now, l.cfg.ClientFailures, l.cfg.ClientWindow); full {
			return false, wait, ReasonClient
		}
	}
	if wait, full := l.global.windowFull(now, l.cfg.GlobalFailures, l.cfg.GlobalWindow); full {
		return false, wait, ReasonGlobal
	}
	return true, 0, ""
}

// Failure records a failed attempt for account from client.
func (l *Limiter) Failure(account, client string, now time.Time) {
	account = strings.ToLower(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	if l.cfg.AccountFailures > 0 && account != "" {
		r := l.accounts.touch(account, now)
		if r.count(now, l.cfg.AccountWindow) >= l.cfg.AccountFailures {
			lockout := l.cfg.LockoutBase
			for i := 0; i < r.level && lockout < l.cfg.LockoutMax; i++ {
				lockout *= 2
			}
			r.lockedUntil = now.Add(min(lockout, l.cfg.LockoutMax))
			r.level++
			r.failures, r.windowStart = 0, now
		}
	}
	if l.cfg.ClientFailures > 0 && client != "" {
		l.clients.touch(client, now).count(now, l.cfg.ClientWindow)
	}
	if l.cfg.GlobalFailures > 0 {
		l.global.count(now, l.cfg.GlobalWindow)
	}
}

// Success records a successful attempt: the account's failures and lockout level
// are forgotten. The client's failures are kept, so that an attacker holding one
// valid account cannot reset the budget of the address guessing at others.
func (l *Limiter) Success(account, client string, now time.Time) {
	account = strings.ToLower(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accounts.remove(account)
	l.prune(now)
}

// prune drops entries nobody has failed for long enough to matter: accounts after
// Forget (their lockout level with them), clients after their window.
func (l *Limiter) prune(now time.Time) {
	l.accounts.pruneBefore(now.Add(-l.cfg.Forget), now)
	l.clients.pruneBefore(now.Add(-l.cfg.ClientWindow), now)
	l.unfamiliar.pruneBefore(now.Add(-l.cfg.UnfamiliarWindow), now)
}

// failureRecord counts failures in a fixed window and, for accounts, the lockout.
type failureRecord struct {
	key         string
	failures    int
	windowStart time.Time
	lastFailure time.Time
	lockedUntil time.Time
	level       int // lockouts so far; the next one lasts LockoutBase << level
}

// count adds a failure at now and returns the failures in the current window.
func (r *failureRecord) count(now time.Time, window time.Duration) int {
	if r.failures == 0 || now.Sub(r.windowStart) >= window {
		r.failures, r.windowStart = 0, now
	}
	r.failures++
	r.lastFailure = now
	return r.failures
}

// windowFull reports whether the window holds limit failures, and if so how long
// until it ends.
func (r *failureRecord) windowFull(now time.Time, limit int, window time.Duration) (time.Duration, bool) {
	if limit <= 0 || r.failures < limit {
		return 0, false
	}
	end := r.windowStart.Add(window)
	if !now.Before(end) {
		return 0, false
	}
	return end.Sub(now), true
}

// failureTable is a map of records in least-recently-failed order, capped in size.
type failureTable struct {
	max   int
	byKey map[string]*list.Element
	order *list.List // of *failureRecord, oldest failure first
}

func newFailureTable(max int) *failureTable {
	return &failureTable{max: max, byKey: make(map[string]*list.Element), order: list.New()}
}

func (t *failureTable) get(key string) *failureRecord {
	if e, ok := t.byKey[key]; ok {
		return e.Value.(*failureRecord)
	}
	return nil
}

// touch returns key's record, created if need be, moved to the recent end.
func (t *failureTable) touch(key string, now time.Time) *failureRecord {
	if e, ok := t.byKey[key]; ok {
		t.order.MoveToBack(e)
		return e.Value.(*failureRecord)
	}
	for t.order.Len() >= t.max {
		t.remove(t.order.Front().Value.(*failureRecord).key)
	}
	r := &failureRecord{key: key, lastFailure: now}
	t.byKey[key] = t.order.PushBack(r)
	return r
}

func (t *failureTable) remove(key string) {
	if e, ok := t.byKey[key]; ok {
		t.order.Remove(e)
		delete(t.byKey, key)
	}
}

// pruneBefore removes records whose last failure is not after cutoff, from the oldest,
// stopping at the first one still recent or still locked at now.
func (t *failureTable) pruneBefore(cutoff, now time.Time) {
	for e := t.order.Front(); e != nil; e = t.order.Front() {
		r := e.Value.(*failureRecord)
		if r.lastFailure.After(cutoff) || r.lockedUntil.After(now) {
			return
		}
		t.remove(r.key)
	}
}

func (t *failureTable) len() int { return t.order.Len() }
