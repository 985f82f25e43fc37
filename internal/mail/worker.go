package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/store"
)

// ErrNotConfigured is returned by a delivery pass when no usable SMTP server
// is set: the queue is left alone, so nothing waits in vain for an attempt
// budget to run out.
var ErrNotConfigured = errors.New("mail: SMTP is not configured")

// Worker delivers the durable outbox in the background: it leases due
// messages (so that two servers sharing a database never send the same
// one), sends each through the configured SMTP server, and records the
// outcome. Temporary failures are retried with exponential back-off; a
// message the server refuses for good, or keeps deferring after
// MaxAttempts tries, is marked failed with the reason. While the server
// cannot be reached at all, messages stay queued however long it takes.
//
// Delivery is at least once. The one window for a duplicate is between the
// SMTP server accepting a message and MarkMailSent recording it (a single
// UPDATE, a few milliseconds): if the process dies there, the lease runs
// out and the message is sent again, with the same Message-ID, so mail
// systems and readers can recognise it as the same message. A message is
// never dropped: it stays queued until a server accepts or refuses it.
type Worker struct {
	store  *store.Store
	config func(ctx context.Context) (SMTPConfig, error)
	log    *slog.Logger

	// Name identifies this worker's claims; unique per process by default.
	Name string
	// NewSender makes the sender for a configuration (NewSMTPSender).
	NewSender func(SMTPConfig) Sender
	// Lease is how long a claim lasts; a send is cut off at half of it, so
	// a live worker always finishes before its lease runs out.
	Lease time.Duration
	// Poll is the longest the worker sleeps without being woken.
	Poll time.Duration
	// Batch is how many messages one claim takes.
	Batch int
	// MaxAttempts is how often a message the server defers (4xx) is tried
	// before it is marked failed.
	MaxAttempts int
	// RetryBase and RetryMax bound the back-off: RetryBase doubled for every
	// attempt so far, at most RetryMax.
	RetryBase, RetryMax time.Duration

	wake   chan struct{}
	counts atomic.Pointer[map[string]int]

	// crash lets tests stop a delivery at a stage ("claimed", "sent") the
	// way a process dying there would: nothing more is recorded.
	crash func(stage string, m *store.OutboxMessage) bool
}

// NewWorker returns a worker over the store's outbox; config is read before
// every pass, so changed SMTP settings apply to the next message.
func NewWorker(s *store.Store, config func(ctx context.Context) (SMTPConfig, error), log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	var r [4]byte
	_, _ = rand.Read(r[:])
	return &Worker{
		store: s, config: config, log: log,
		Name:        fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(r[:])),
		NewSender:   NewSMTPSender,
		Lease:       5 * time.Minute,
		Poll:        30 * time.Second,
		Batch:       50,
		MaxAttempts: 10,
		RetryBase:   time.Minute,
		RetryMax:    time.Hour,
		wake:        make(chan struct{}, 1),
	}
}

// Wake makes a running worker look at the queue now (after a change queued
// mail, or for Send test email). It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// PassResult counts what one delivery pass did.
type PassResult struct {
	Sent, Retried, Failed int
}

// Run delivers until ctx is done. It reports the queue through
// metrics.MailQueue.
func (w *Worker) Run(ctx context.Context) error {
	metrics.MailQueue.Set(w.queueSamples)
	defer metrics.MailQueue.Set(nil)
	notConfiguredLogged := false
	for {
		_, err := w.DeliverDue(ctx)
		switch {
		case errors.Is(err, ErrNotConfigured):
			if !notConfiguredLogged {
				w.log.Warn("mail waits in the outbox until SMTP is configured (Options > Notifications)", "reason", err)
				notConfiguredLogged = true
			}
		case err != nil && ctx.Err() == nil:
			w.log.Error("mail delivery pass failed", "err", err)
		default:
			notConfiguredLogged = false
		}
		w.refreshCounts(ctx)
		sleep := w.Poll
		if next, err := w.store.NextMailDue(ctx); err == nil && !next.IsZero() {
			sleep = min(max(time.Until(next), 10*time.Millisecond), w.Poll)
		}
		timer := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-w.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// DeliverDue makes one pass: it claims due messages batch by batch and
// delivers them, until none is due.
func (w *Worker) DeliverDue(ctx context.Context) (PassResult, error) {
	var res PassResult
	cfg, err := w.config(ctx)
	if err != nil {
		return res, fmt.Errorf("mail: unable to read the SMTP settings: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		// Only worth a word when mail is actually waiting.
		if next, qerr := w.store.NextMailDue(ctx); qerr != nil || next.IsZero() {
			return res, qerr
		}
		return res, fmt.Errorf("%w: %w", ErrNotConfigured, err)
	}
	sender := w.NewSender(cfg)
	for ctx.Err() == nil {
		msgs, err := w.store.ClaimMail(ctx, w.Name, w.Lease, w.Batch)
		if err != nil {
			return res, fmt.Errorf("mail: %w", err)
		}
		var unreachable error
		for _, m := range msgs {
			if unreachable != nil {
				// The server is down: the rest of the batch waits as the
				// first one does, without a connection attempt each.
				w.finish(ctx, &res, w.retry(ctx, m, unreachable))
				continue
			}
			outcome, err := w.deliver(ctx, cfg, sender, m)
			if errors.Is(err, errUnreachable) {
				unreachable = err
			}
			w.finish(ctx, &res, outcome)
		}
		if len(msgs) < w.Batch {
			break
		}
	}
	return res, nil
}

// errUnreachable marks a failure to reach the SMTP server at all.
var errUnreachable = errors.New("SMTP server unreachable")

type outcome struct {
	kind string // "sent", "retried", "failed", "abandoned"
	err  error  // recording the outcome failed
}

func (w *Worker) finish(ctx context.Context, res *PassResult, o outcome) {
	switch o.kind {
	case store.MailSent:
		res.Sent++
		metrics.MailDeliveries.WithLabelValues("sent").Inc()
	case "retried":
		res.Retried++
		metrics.MailDeliveries.WithLabelValues("retried").Inc()
	case store.MailFailed:
		res.Failed++
		metrics.MailDeliveries.WithLabelValues("failed").Inc()
	}
	if o.err != nil {
		w.log.Error("mail outcome not recorded; the message is retried when its lease ends", "err", o.err)
	}
}

func (w *Worker) deliver(ctx context.Context, cfg SMTPConfig, sender Sender, m *store.OutboxMessage) (outcome, error) {
	if w.crash != nil && w.crash("claimed", m) {
		return outcome{kind: "abandoned"}, nil
	}
	msg := Message{To: []string{m.Recipient}, Subject: m.Subject, Body: m.Body}
	// The Date is when the message was queued, so a resend is the same
	// message byte for byte.
	data, err := Build(cfg, msg, m.CreatedAt, m.MessageID)
	if err != nil {
		return w.fail(ctx, m, err), nil
	}
	from, to, err := Envelope(cfg, msg)
	if err != nil {
		return w.fail(ctx, m, err), nil
	}
	// A shutdown does not cut a conversation short: cut after DATA, the
	// server may have taken the message without our hearing its reply,
	// which would make a duplicate. The send's own timeout bounds the wait.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), min(cfg.timeout(), w.Lease/2))
	err = sender.Send(sendCtx, from, to, data)
	cancel()
	if err == nil {
		if w.crash != nil && w.crash("sent", m) {
			return outcome{kind: "abandoned"}, nil
		}
		// Recorded even when ctx is being cancelled: this is the window
		// in which a shutdown would otherwise cause a resend.
		if err := w.store.MarkMailSent(context.WithoutCancel(ctx), m.ID, w.Name); err != nil {
			return outcome{kind: store.MailSent, err: err}, nil
		}
		w.log.Info("mail sent", "id", m.ID, "to", m.Recipient, "kind", m.Kind)
		return outcome{kind: store.MailSent}, nil
	}
	if !IsTemporary(err) {
		return w.fail(ctx, m, err), nil
	}
	var se *SendError
	if !errors.As(err, &se) || se.Code == 0 {
		// No SMTP reply at all: the server is down or unreachable. Such a
		// message waits however long it takes; it has not been refused.
		err = fmt.Errorf("%w: %w", errUnreachable, err)
		return w.retry(ctx, m, err), err
	}
	if m.Attempts >= w.MaxAttempts {
		return w.fail(ctx, m, fmt.Errorf("gave up after %d attempts: %w", m.Attempts, err)), nil
	}
	return w.retry(ctx, m, err), nil
}

// backoff is RetryBase doubled per attempt so far, at most RetryMax.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.RetryBase
	for i := 1; i < attempts && d < w.RetryMax; i++ {
		d *= 2
	}
	return min(d, w.RetryMax)
}

func (w *Worker) retry(ctx context.Context, m *store.OutboxMessage, reason error) outcome {
	err := w.store.RetryMailLater(context.WithoutCancel(ctx), m.ID, w.Name, w.backoff(m.Attempts), reason.Error())
	w.log.Warn("mail deferred", "id", m.ID, "to", m.Recipient, "attempts", m.Attempts, "reason", reason)
	return outcome{kind: "retried", err: err}
}

func (w *Worker) fail(ctx context.Context, m *store.OutboxMessage, reason error) outcome {
	err := w.store.MarkMailFailed(context.WithoutCancel(ctx), m.ID, w.Name, reason.Error())
	w.log.Error("mail failed", "id", m.ID, "to", m.Recipient, "reason", reason)
	return outcome{kind: store.MailFailed, err: err}
}

func (w *Worker) refreshCounts(ctx context.Context) {
	counts, err := w.store.OutboxCounts(ctx)
	if err != nil {
		return
	}
	w.counts.Store(&counts)
}

// queueSamples reports the last counted queue for ream_mail_queue; it never
// touches the database, because a scrape must be quick.
func (w *Worker) queueSamples() []metrics.LabeledValue {
	c := w.counts.Load()
	if c == nil {
		return nil
	}
	out := make([]metrics.LabeledValue, 0, len(*c))
	for _, state := range store.MailStates {
		out = append(out, metrics.LabeledValue{LabelValues: []string{state}, Value: float64((*c)[state])})
	}
	return out
}
