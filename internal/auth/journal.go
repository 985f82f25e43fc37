package auth

import "time"

// LoginEvent is one outcome a Limiter counted: a failure or a success of an
// account from a client address (Familiar as AllowFrom was told).
type LoginEvent struct {
	Failure  bool
	Account  string
	Client   string
	Familiar bool
	At       time.Time
}

// Journal shares a Limiter's counts with the other servers of a site: each
// server records its own events, and replays the others' before it
// decides. A Limiter without one counts for its own process only.
type Journal interface {
	// Record keeps an event of this server for the others.
	Record(e LoginEvent)
	// Replay calls fn, in order, with every event of the other servers not
	// replayed yet.
	Replay(fn func(LoginEvent))
}

// SetJournal makes the Limiter share its counts through j (see Journal).
// Call it before the Limiter is used.
func (l *Limiter) SetJournal(j Journal) { l.journal = j }

// SetPlainJournal is SetJournal for a limiter used through AllowShared and
// FailureShared (one budget per account and one per client, no familiar
// addresses): the portal's card registration attempts.
func (l *Limiter) SetPlainJournal(j Journal) { l.journal, l.plainJournal = j, true }

// AllowShared is Allow after the other servers' events are applied.
func (l *Limiter) AllowShared(account, client string, now time.Time) (ok bool, retryAfter time.Duration, reason string) {
	l.catchUp()
	return l.Allow(account, client, now)
}

// FailureShared is Failure, shared with the other servers.
func (l *Limiter) FailureShared(account, client string, now time.Time) {
	l.Failure(account, client, now)
	l.record(LoginEvent{Failure: true, Account: account, Client: client, At: now})
}

// catchUp applies the other servers' events before a decision.
func (l *Limiter) catchUp() {
	if l.journal == nil {
		return
	}
	l.journal.Replay(func(e LoginEvent) {
		if l.plainJournal {
			if e.Failure {
				l.Failure(e.Account, e.Client, e.At)
			}
			return
		}
		if e.Failure {
			l.failureFrom(e.Account, e.Client, e.Familiar, e.At)
		} else {
			l.successFrom(e.Account, e.Client, e.At)
		}
	})
}

func (l *Limiter) record(e LoginEvent) {
	if l.journal != nil {
		l.journal.Record(e)
	}
}
