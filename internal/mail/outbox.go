package mail

import (
	"context"
	"fmt"

	"github.com/reamprint/ream/internal/store"
)

// Outgoing is a mail to put in the durable outbox.
type Outgoing struct {
	Kind    string // what caused it, e.g. "card-generated" or "test"
	To      string
	Subject string
	Body    string
}

// CheckRecipient reports whether s is an address the outbox can deliver to,
// so that callers can count users with a missing or unusable address
// instead of queueing mail that can only fail.
func CheckRecipient(s string) error {
	_, err := parseAddress("recipient", s)
	return err
}

// Queue puts messages in the outbox inside tx, the transaction of the change
// that causes them: they exist if and only if the change is committed. Each
// gets its Message-ID now (its domain from the sender address from), and
// keeps it on every retry, so a message sent twice after a crash is
// recognisable as one. A bad recipient fails the whole call, naming it.
func Queue(ctx context.Context, tx *store.Tx, from string, msgs ...Outgoing) error {
	rows := make([]*store.OutboxMessage, len(msgs))
	for i, m := range msgs {
		if err := CheckRecipient(m.To); err != nil {
			return fmt.Errorf("mail: unable to queue %q: %w", m.Subject, err)
		}
		if _, err := encodeSubject(m.Subject); err != nil {
			return fmt.Errorf("mail: unable to queue mail to %s: %w", m.To, err)
		}
		rows[i] = &store.OutboxMessage{Kind: m.Kind, Recipient: m.To, Subject: m.Subject, Body: m.Body, MessageID: NewMessageID(from)}
	}
	if err := tx.QueueMail(ctx, rows...); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}
