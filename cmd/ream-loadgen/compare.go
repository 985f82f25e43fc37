package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// plainAnswer is what the comparison handler answers every call with: the
// shape of lookUpUserNameByCardNo's reply, without looking anything up.
const plainAnswer = `<?xml version="1.0"?>` + "\n" +
	`<methodResponse><params><param><value><string>plain</string></value></param></params></methodResponse>`

// servePlain is the machine's own limit for an XML-RPC answer: net/http,
// reading the whole request body as any server must, answering a fixed
// response. It prints its address, then serves until killed.
func servePlain(addr string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, ln.Addr().String())
	answer := []byte(plainAnswer)
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write(answer)
	}))
}

// startPlain runs this program again as the plain handler, in a process of
// its own like Ream's, and returns its XML-RPC URL.
func startPlain(ctx context.Context) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, self, "--plain-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("the plain handler did not start: %v", err)
	}
	return "http://" + strings.TrimSpace(line) + "/rpc/api/xmlrpc", stop, nil
}

// compare runs o.compare rounds against Ream and against the plain
// handler, alternately, so that both see the same state of a noisy
// machine, and prints the medians and their ratio.
func compare(ctx context.Context, o options, users []cardHolder, out io.Writer) error {
	plainURL, stop, err := startPlain(ctx)
	if err != nil {
		return err
	}
	defer stop()
	plainUsers := make([]cardHolder, len(users))
	for i, u := range users {
		plainUsers[i] = cardHolder{username: "plain", card: u.card}
	}
	plain := o
	plain.url = plainURL
	var reamRates, plainRates []float64
	var reamP99, plainP99 []time.Duration
	for round := 1; round <= o.compare; round++ {
		for _, side := range []struct {
			name  string
			o     options
			users []cardHolder
			rates *[]float64
			p99s  *[]time.Duration
		}{{"ream ", o, users, &reamRates, &reamP99}, {"plain", plain, plainUsers, &plainRates, &plainP99}} {
			before, counted := cardLookups(side.o.url)
			r, err := lookUp(ctx, side.o, side.users)
			if err != nil {
				return fmt.Errorf("%s: %w", strings.TrimSpace(side.name), err)
			}
			hitRate := ""
			if after, ok := cardLookups(side.o.url); ok && counted {
				if n := after.cache + after.database - before.cache - before.database; n > 0 {
					hitRate = fmt.Sprintf(", %.0f%% from the card cache", 100*(after.cache-before.cache)/n)
				}
			}
			if r.errors > 0 {
				return fmt.Errorf("%s: %d lookups failed; first: %v", strings.TrimSpace(side.name), r.errors, r.firstErr)
			}
			rate, p99 := float64(r.done)/r.elapsed.Seconds(), r.percentile(0.99)
			*side.rates, *side.p99s = append(*side.rates, rate), append(*side.p99s, p99)
			fmt.Fprintf(out, "round %d %s: %7.0f calls/s, p50 %v, p99 %v%s\n", round, side.name, rate,
				r.percentile(0.5).Round(time.Microsecond), p99.Round(time.Microsecond), hitRate)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	rr, pr := median(reamRates), median(plainRates)
	if pr == 0 {
		return errors.New("the plain handler answered nothing")
	}
	rp99, pp99 := medianDuration(reamP99), medianDuration(plainP99)
	fmt.Fprintf(out, "median over %d rounds, %d connections: ream %.0f/s (p99 %v), plain net/http %.0f/s (p99 %v), ratio %.2f\n",
		o.compare, o.concurrency, rr, rp99.Round(time.Microsecond), pr, pp99.Round(time.Microsecond), rr/pr)
	verdict := "PASS"
	if rr/pr < 0.7 || rp99 > 5*time.Millisecond {
		verdict = "FAIL"
	}
	fmt.Fprintf(out, "issue 13 target (≥ 0.7 × plain, p99 ≤ 5 ms): %s\n", verdict)
	return nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianDuration(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// lookupCounts are a server's ream_card_lookups_total.
type lookupCounts struct{ cache, database float64 }

var lookupCount = regexp.MustCompile(`(?m)^ream_card_lookups_total\{answer="(cache|database)"\} (\S+)$`)

// cardLookups reads the card lookup counters from the /metrics page of the
// server at rpcURL (allowed from loopback by default); ok is false when
// there are none (the plain handler, an older server, metrics refused).
func cardLookups(rpcURL string) (c lookupCounts, ok bool) {
	u, err := url.Parse(rpcURL)
	if err != nil {
		return c, false
	}
	u.Path, u.RawQuery = "/metrics", ""
	resp, err := http.Get(u.String())
	if err != nil {
		return c, false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return c, false
	}
	for _, m := range lookupCount.FindAllSubmatch(body, -1) {
		v, err := strconv.ParseFloat(string(m[2]), 64)
		if err != nil {
			return c, false
		}
		if string(m[1]) == "cache" {
			c.cache = v
		} else {
			c.database = v
		}
		ok = true
	}
	return c, ok
}
