package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/testenv/smtptest"
)

// testClock is a store clock tests move forward to make retries and
// expired leases due without waiting.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// forEachStore runs fn on SQLite, and on PostgreSQL when it is available.
func forEachStore(t *testing.T, fn func(t *testing.T, s *store.Store, clock *testClock)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := store.Open(context.Background(), "", filepath.Join(t.TempDir(), "ream.db"))
		if err != nil {
			t.Fatal(err)
		}
		migrated(t, s, fn)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := store.Open(context.Background(), testenv.PostgresURL(t), "")
		if err != nil {
			t.Fatal(err)
		}
		migrated(t, s, fn)
	})
}

func migrated(t *testing.T, s *store.Store, fn func(t *testing.T, s *store.Store, clock *testClock)) {
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{}
	s.SetClock(clock.now)
	fn(t, s, clock)
}

func newTestWorker(s *store.Store, srv *smtptest.Server) *Worker {
	w := NewWorker(s, func(context.Context) (SMTPConfig, error) { return configFor(srv, SecurityNone), nil }, quiet)
	w.Name = "worker-" + fmt.Sprint(time.Now().UnixNano())
	return w
}

func queue(t *testing.T, s *store.Store, msgs ...Outgoing) {
	t.Helper()
	err := s.InTx(context.Background(), func(tx *store.Tx) error { return Queue(context.Background(), tx, "ream@example.org", msgs...) })
	if err != nil {
		t.Fatal(err)
	}
}

func pass(t *testing.T, w *Worker) PassResult {
	t.Helper()
	res, err := w.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	return res
}

func onlyMessage(t *testing.T, s *store.Store) *store.OutboxMessage {
	t.Helper()
	list, total, err := s.ListOutbox(context.Background(), "", 0, 10)
	if err != nil || total != 1 {
		t.Fatalf("ListOutbox: %d messages, %v; want 1", total, err)
	}
	return list[0]
}

// parse reads an arrived message: its headers and decoded body.
func parse(t *testing.T, m smtptest.Message) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("arrived mail does not parse: %v", err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("arrived body does not decode: %v", err)
	}
	return msg.Header, strings.ReplaceAll(string(body), "\r\n", "\n")
}

var quiet = slog.New(slog.DiscardHandler)

var cardNotice = Outgoing{Kind: "card-generated", To: "alice@example.org", Subject: "Your new card/ID number", Body: "Hello alice,\n\n    482913375510\n"}

func TestOutboxDeliversOverSMTP(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		srv := smtptest.Start(t)
		queue(t, s, cardNotice)
		if res := pass(t, newTestWorker(s, srv)); res.Sent != 1 {
			t.Fatalf("pass = %+v, want one sent", res)
		}
		got := srv.WaitFor(1, wait)
		hdr, body := parse(t, got[0])
		row := onlyMessage(t, s)
		if got[0].To[0] != "alice@example.org" || hdr.Get("Subject") != cardNotice.Subject || body != cardNotice.Body {
			t.Errorf("arrived to %v, subject %q, body %q", got[0].To, hdr.Get("Subject"), body)
		}
		if hdr.Get("Message-Id") != row.MessageID {
			t.Errorf("Message-ID %q, outbox has %q", hdr.Get("Message-Id"), row.MessageID)
		}
		if row.State != store.MailSent || row.SentAt == nil || row.Attempts != 1 {
			t.Errorf("outbox row after sending: %+v", row)
		}
		if res := pass(t, newTestWorker(s, srv)); res != (PassResult{}) || len(srv.Messages()) != 1 {
			t.Errorf("second pass %+v, %d messages: a sent message went again", res, len(srv.Messages()))
		}
	})
}

func TestOutboxWaitsWhileTheServerIsDown(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, clock *testClock) {
		srv := smtptest.Start(t)
		srv.Stop()
		w := newTestWorker(s, srv)
		w.MaxAttempts = 2
		queue(t, s, cardNotice, Outgoing{Kind: "test", To: "bob@example.org", Subject: "Test", Body: "test\n"})
		// Far more passes than MaxAttempts: an unreachable server never
		// makes a message fail.
		for i := range 5 {
			if res := pass(t, w); res.Retried != 2 {
				t.Fatalf("pass %d while down = %+v, want both retried", i, res)
			}
			if res := pass(t, w); res != (PassResult{}) {
				t.Fatalf("pass before the back-off ended = %+v, want nothing", res)
			}
			clock.advance(w.RetryMax + time.Second)
		}
		list, _, _ := s.ListOutbox(context.Background(), store.MailQueued, 0, 10)
		if len(list) != 2 || !strings.Contains(list[0].LastError, "unreachable") {
			t.Fatalf("queued while down: %d, last error %q", len(list), list[0].LastError)
		}
		srv.Restart()
		if res := pass(t, w); res.Sent != 2 {
			t.Fatalf("pass after restart = %+v, want both sent", res)
		}
		srv.WaitFor(2, wait)
		clock.advance(24 * time.Hour)
		pass(t, w)
		if n := len(srv.Messages()); n != 2 {
			t.Errorf("%d messages arrived, want each once", n)
		}
	})
}

func TestOutboxBacksOffThenFails(t *testing.T) {
	srv := smtptest.Start(t)
	forEachStore(t, func(t *testing.T, s *store.Store, clock *testClock) {
		w := newTestWorker(s, srv)
		w.MaxAttempts = 3
		queue(t, s, cardNotice)
		var delays []time.Duration
		for range 2 {
			srv.FailNext(1, 451)
			before := clock.now()
			if res := pass(t, w); res.Retried != 1 {
				t.Fatalf("deferred pass = %+v", res)
			}
			row := onlyMessage(t, s)
			delays = append(delays, row.NextAttemptAt.Sub(before).Round(time.Second))
			if !strings.Contains(row.LastError, "451") {
				t.Errorf("last error %q does not carry the server's reply", row.LastError)
			}
			clock.advance(time.Hour)
		}
		if delays[0] != w.RetryBase || delays[1] != 2*w.RetryBase {
			t.Errorf("back-off %v, want %v then %v", delays, w.RetryBase, 2*w.RetryBase)
		}
		srv.FailNext(1, 451)
		if res := pass(t, w); res.Failed != 1 {
			t.Fatalf("pass at the attempt limit = %+v, want failed", res)
		}
		row := onlyMessage(t, s)
		if row.State != store.MailFailed || !strings.Contains(row.LastError, "gave up after 3 attempts") {
			t.Errorf("row %+v", row)
		}
		if err := s.RequeueMail(context.Background(), row.ID); err != nil {
			t.Fatal(err)
		}
		if res := pass(t, w); res.Sent != 1 {
			t.Errorf("requeued message: pass = %+v", res)
		}
	})
}

func TestOutboxPermanentRefusalFailsAtOnce(t *testing.T) {
	srv := smtptest.Start(t)
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		srv.FailNext(1, 550)
		queue(t, s, cardNotice)
		if res := pass(t, newTestWorker(s, srv)); res.Failed != 1 {
			t.Fatalf("pass = %+v", res)
		}
		if row := onlyMessage(t, s); row.State != store.MailFailed || !strings.Contains(row.LastError, "550") {
			t.Errorf("row %+v", row)
		}
	})
}

func TestOutboxWaitsForConfiguration(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		w := NewWorker(s, func(context.Context) (SMTPConfig, error) { return SMTPConfig{Port: 25, Security: SecurityNone}, nil }, quiet)
		queue(t, s, cardNotice)
		if _, err := w.DeliverDue(context.Background()); !errors.Is(err, ErrNotConfigured) {
			t.Fatalf("DeliverDue without a host: %v", err)
		}
		if row := onlyMessage(t, s); row.State != store.MailQueued || row.Attempts != 0 {
			t.Errorf("row %+v: waiting for configuration used up an attempt", row)
		}
	})
}

// TestOutboxCrashes stops a worker the way a dying process would, at each
// point of a delivery, and lets a second worker take over once the lease
// has run out.
func TestOutboxCrashes(t *testing.T) {
	for _, tc := range []struct {
		stage    string
		arrivals int // a crash after sending is the documented duplicate window
	}{
		{"claimed", 1},
		{"sent", 2},
	} {
		t.Run("after "+tc.stage, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *store.Store, clock *testClock) {
				srv := smtptest.Start(t)
				queue(t, s, cardNotice)
				dying := newTestWorker(s, srv)
				dying.crash = func(stage string, _ *store.OutboxMessage) bool { return stage == tc.stage }
				pass(t, dying)

				heir := newTestWorker(s, srv)
				if res := pass(t, heir); res != (PassResult{}) {
					t.Fatalf("a claimed message was taken before its lease ran out: %+v", res)
				}
				clock.advance(dying.Lease + time.Second)
				if res := pass(t, heir); res.Sent != 1 {
					t.Fatalf("after the lease: %+v, want the message sent", res)
				}
				got := srv.WaitFor(tc.arrivals, wait)
				if len(got) != tc.arrivals {
					t.Fatalf("%d arrivals, want %d", len(got), tc.arrivals)
				}
				ids := map[string]bool{}
				for _, m := range got {
					hdr, _ := parse(t, m)
					ids[hdr.Get("Message-Id")] = true
				}
				if len(ids) != 1 {
					t.Errorf("a resend carries a different Message-ID: %v", ids)
				}
				if row := onlyMessage(t, s); row.State != store.MailSent {
					t.Errorf("row %+v", row)
				}
				if err := s.MarkMailSent(context.Background(), onlyMessage(t, s).ID, dying.Name); !errors.Is(err, store.ErrLeaseLost) {
					t.Errorf("the dead worker's late report: %v, want ErrLeaseLost", err)
				}
			})
		})
	}
}

func TestTwoWorkersNeverSendTheSameMessage(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		srv := smtptest.Start(t)
		const n = 60
		msgs := make([]Outgoing, n)
		for i := range msgs {
			msgs[i] = Outgoing{Kind: "test", To: fmt.Sprintf("user%d@example.org", i), Subject: fmt.Sprint("Message ", i), Body: "x\n"}
		}
		queue(t, s, msgs...)
		var wg sync.WaitGroup
		var sent atomic.Int64
		for range 2 {
			w := newTestWorker(s, srv)
			w.Batch = 5
			wg.Go(func() {
				res, err := w.DeliverDue(context.Background())
				if err != nil {
					t.Error(err)
				}
				sent.Add(int64(res.Sent))
			})
		}
		wg.Wait()
		got := srv.WaitFor(n, wait)
		seen := map[string]int{}
		for _, m := range got {
			seen[m.To[0]]++
		}
		if len(got) != n || len(seen) != n || sent.Load() != n {
			t.Errorf("%d arrivals for %d recipients, %d reported sent; want %d each", len(got), len(seen), sent.Load(), n)
		}
	})
}

func TestRunDeliversWhenWoken(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		srv := smtptest.Start(t)
		w := newTestWorker(s, srv)
		w.Poll = time.Hour
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		queue(t, s, cardNotice)
		w.Wake()
		srv.WaitFor(1, wait)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if row := onlyMessage(t, s); row.State != store.MailSent {
			t.Errorf("after shutdown the row is %+v, want sent", row)
		}
		w.refreshCounts(context.Background())
		want := map[string]float64{store.MailQueued: 0, store.MailSent: 1, store.MailFailed: 0}
		for _, v := range w.queueSamples() {
			if want[v.LabelValues[0]] != v.Value {
				t.Errorf("ream_mail_queue{state=%q} = %v, want %v", v.LabelValues[0], v.Value, want[v.LabelValues[0]])
			}
			delete(want, v.LabelValues[0])
		}
		if len(want) != 0 {
			t.Errorf("states missing from ream_mail_queue: %v", want)
		}
	})
}

func TestQueueRefusesABadRecipient(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *store.Store, _ *testClock) {
		err := s.InTx(context.Background(), func(tx *store.Tx) error {
			return Queue(context.Background(), tx, "ream@example.org", cardNotice, Outgoing{To: "not an address", Subject: "x"})
		})
		if err == nil || !strings.Contains(err.Error(), "not an address") {
			t.Fatalf("Queue: %v", err)
		}
		if _, total, _ := s.ListOutbox(context.Background(), "", 0, 10); total != 0 {
			t.Errorf("%d messages queued by a failed transaction", total)
		}
	})
}
