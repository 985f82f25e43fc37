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

// catchUp applies the other servers' events before a decision.
func (l *Limiter) catchUp() {
	if l.journal == nil {
		return
	}
	l.journal.Replay(func(e LoginEvent) {
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
