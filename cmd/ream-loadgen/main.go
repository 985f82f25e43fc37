// Command ream-loadgen measures card lookups over XML-RPC against a running
// `ream serve` (SPEC §11: with 100,000 users, ≥ 5,000 lookups/s and p99 ≤
// 10 ms, on loopback).
//
//	REAM_AUTH_WEBSERVICES_AUTH_TOKEN=s3cret ream serve --data-dir /tmp/lg &
//	REAM_LOADGEN_TOKEN=s3cret ream-loadgen --data-dir /tmp/lg --concurrency 4 --compare 5
//
// It first makes sure the database holds --users users named lg000000… with
// primary card numbers, writing the missing ones straight into the store in
// one transaction (the fast path; the server may be running). Then it fires
// lookUpUserNameByCardNo calls for random users from --concurrency
// keep-alive connections, checks every answer, and prints throughput and
// latency percentiles. It stops after --requests calls or --duration,
// whichever comes first.
//
// With --compare N it measures the machine's own limit in the same run: it
// starts a second process of itself (--plain-listen) whose plain net/http
// handler reads each call and answers a fixed XML-RPC response, and runs N
// rounds against Ream and N against that handler, alternately, printing
// each round, the medians and the ratio (issue 13: ≥ 0.7 × the plain
// handler, p99 ≤ 5 ms at 4 connections). Each Ream round also says how
// many of its calls, warm-up included, the server's card cache answered
// (from ream_card_lookups_total on its /metrics page).
package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/reamprint/ream/internal/cards"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

type options struct {
	url, token, dataDir, databaseURL string
	users, requests, concurrency     int
	duration                         time.Duration
	compare                          int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:9191/rpc/api/xmlrpc", "XML-RPC endpoint of the running server")
	flag.StringVar(&o.token, "token", os.Getenv("REAM_LOADGEN_TOKEN"), "web-services auth token (or REAM_LOADGEN_TOKEN)")
	flag.StringVar(&o.dataDir, "data-dir", "", "the server's data directory (SQLite), for creating the users")
	flag.StringVar(&o.databaseURL, "database-url", "", "the server's PostgreSQL URL, for creating the users")
	flag.IntVar(&o.users, "users", 100_000, "users with card numbers to look up")
	flag.IntVar(&o.requests, "requests", 200_000, "lookups to make (at most)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "longest time to run the lookups")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent keep-alive connections")
	flag.IntVar(&o.compare, "compare", 0, "rounds against Ream and, alternately, against a plain net/http handler (0: Ream only)")
	plain := flag.String("plain-listen", "", "serve only the plain comparison handler at this address (used by --compare)")
	flag.Parse()
	if *plain != "" {
		if err := servePlain(*plain, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ream-loadgen:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ream-loadgen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options, out io.Writer) error {
	switch {
	case o.token == "":
		return errors.New("--token is required: the server's auth.webservices.auth-token")
	case o.dataDir == "" && o.databaseURL == "":
		return errors.New("--data-dir or --database-url is required, to create the users")
	case o.users < 1 || o.requests < 1 || o.concurrency < 1 || o.duration <= 0:
		return errors.New("--users, --requests, --concurrency and --duration must be positive")
	case o.compare < 0:
		return errors.New("--compare must be 0 or a number of rounds")
	}
	start := time.Now()
	users, err := prepareUsers(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d users with card numbers ready in %v\n", len(users), time.Since(start).Round(time.Millisecond))
	if o.compare > 0 {
		return compare(ctx, o, users, out)
	}
	res, err := lookUp(ctx, o, users)
	if err != nil {
		return err
	}
	res.print(out, o)
	if res.errors > 0 {
		return fmt.Errorf("%d lookups failed; first: %v", res.errors, res.firstErr)
	}
	return nil
}

// cardHolder is one user to look up and the answer to expect.
type cardHolder struct{ username, card string }

// prepareUsers creates the missing lg… users with card numbers and returns
// all of them.
func prepareUsers(ctx context.Context, o options) ([]cardHolder, error) {
	s, err := store.Open(ctx, o.databaseURL, filepath.Join(o.dataDir, "ream.db"))
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	gen, err := cards.NewGenerator(cards.DefaultGeneratorOptions())
	if err != nil {
		return nil, err
	}
	var holders []cardHolder
	err = s.InTx(ctx, func(tx *store.Tx) error {
		all, err := tx.GroupUsers(ctx, model.GroupAllUsers)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, u := range all {
			have[u.Username] = true
		}
		var created []*model.User
		for i := range o.users {
			name := fmt.Sprintf("lg%06d", i)
			if have[name] {
				continue
			}
			u := &model.User{Username: name, FullName: "Load " + name}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			created = append(created, u)
		}
		taken, err := tx.CardNumbers(ctx)
		if err != nil {
			return err
		}
		var blank []*model.User
		for _, u := range append(all, created...) {
			if strings.HasPrefix(u.Username, "lg") && u.PrimaryCard == "" {
				blank = append(blank, u)
			}
		}
		numbers, err := gen.GenerateUnique(len(blank), func(n string) bool { _, ok := taken[n]; return ok })
		if err != nil {
			return err
		}
		rows := make([]store.UserCard, len(blank))
		for i, u := range blank {
			u.PrimaryCard = numbers[i]
			rows[i] = store.UserCard{UserID: u.ID, Number: numbers[i]}
		}
		if err := tx.SetPrimaryCards(ctx, rows, model.CardOriginBulk, nil); err != nil {
			return err
		}
		for _, u := range append(all, created...) {
			if strings.HasPrefix(u.Username, "lg") && u.Username < fmt.Sprintf("lg%06d", o.users) && u.PrimaryCard != "" {
				holders = append(holders, cardHolder{u.Username, u.PrimaryCard})
			}
		}
		return nil
	})
	return holders, err
}

type result struct {
	done, errors int
	firstErr     error
	elapsed      time.Duration
	latencies    []time.Duration
}

// percentile is the latency below which fraction p of the calls stayed.
func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := r.latencies
	if !slices.IsSorted(s) {
		s = slices.Clone(s)
		slices.Sort(s)
	}
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r result) print(w io.Writer, o options) {
	slices.Sort(r.latencies)
	pct := r.percentile
	rate := float64(r.done) / r.elapsed.Seconds()
	fmt.Fprintf(w, "lookups: %d in %v over %d keep-alive connections: %.0f lookups/s\n", r.done, r.elapsed.Round(time.Millisecond), o.concurrency, rate)
	fmt.Fprintf(w, "latency: p50 %v, p90 %v, p99 %v, max %v; errors %d\n",
		pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond), r.errors)
	verdict := "PASS"
	if rate < 5000 || pct(0.99) > 10*time.Millisecond || r.errors > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "SPEC §11 floor (≥ 5,000 lookups/s, p99 ≤ 10 ms): %s\n", verdict)
}

// lookUp warms up, then runs the measured lookups.
func lookUp(ctx context.Context, o options, users []cardHolder) (result, error) {
	if len(users) == 0 {
		return result{}, errors.New("no users to look up")
	}
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency, MaxConnsPerHost: o.concurrency, DisableCompression: true},
	}
	warm := o
	warm.requests, warm.duration = min(o.requests/10, 2000), 10*time.Second
	if r := fire(ctx, client, warm, users); r.errors > 0 {
		return r, fmt.Errorf("warm-up failed (is the server running at %s with this token?): %v", o.url, r.firstErr)
	}
	return fire(ctx, client, o, users), nil
}

func fire(ctx context.Context, client *http.Client, o options, users []cardHolder) result {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		total    result
		wg       sync.WaitGroup
		tokenXML bytes.Buffer
	)
	_ = xml.EscapeText(&tokenXML, []byte(o.token))
	start := time.Now()
	for range o.concurrency {
		wg.Go(func() {
			local := result{latencies: make([]time.Duration, 0, o.requests/o.concurrency+1)}
			var body bytes.Buffer
			for ctx.Err() == nil && next.Add(1) <= int64(o.requests) {
				u := users[rand.IntN(len(users))]
				body.Reset()
				fmt.Fprintf(&body, `<?xml version="1.0"?><methodCall><methodName>api.lookUpUserNameByCardNo</methodName><params><param><value><string>%s</string></value></param><param><value><string>%s</string></value></param></params></methodCall>`, tokenXML.String(), u.card)
				t0 := time.Now()
				err := call(ctx, client, o.url, body.Bytes(), u.username)
				if ctx.Err() != nil {
					break // cut off by --duration, not a failure
				}
				local.latencies = append(local.latencies, time.Since(t0))
				local.done++
				if err != nil {
					local.errors++
					if local.firstErr == nil {
						local.firstErr = err
					}
				}
			}
			mu.Lock()
			total.done += local.done
			total.errors += local.errors
			if total.firstErr == nil {
				total.firstErr = local.firstErr
			}
			total.latencies = append(total.latencies, local.latencies...)
			mu.Unlock()
		})
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	return total
}

// call makes one lookup and checks that the answer is the expected user.
func call(ctx context.Context, client *http.Client, url string, body []byte, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, answer)
	}
	if !bytes.Contains(answer, []byte(">"+want+"<")) {
		return fmt.Errorf("expected %s, got %.300s", want, answer)
	}
	return nil
}
