package usersync

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

// BenchmarkUserSync100k syncs 100,000 users in 20 tracked groups from a
// local slapd into a fresh SQLite store (first import), then again with
// nothing changed, and compares each with ldapsearch paging through the
// same entries and attributes in the same run (SPEC §11: within 1.5×).
//
//	REAM_BENCH_LDAP=1 go test -run '^$' -bench UserSync100k -benchtime 3x ./internal/usersync/
func BenchmarkUserSync100k(b *testing.B) {
	if os.Getenv("REAM_BENCH_LDAP") != "1" {
		b.Skip("set REAM_BENCH_LDAP=1 to load 100,000 users into slapd and run this benchmark")
	}
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		b.Skip("ldapsearch not installed: apt-get install slapd ldap-utils")
	}
	const users = 100_000
	srv := slapd.Start(b, readerLDIF, slapd.UsersLDIF(users, 20))
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	search := func(filter string, attrs ...string) {
		args := append([]string{"-x", "-LLL", "-H", srv.URL, "-D", "cn=reader,dc=example,dc=org", "-w", "reader-secret",
			"-b", srv.BaseDN, "-E", "pr=500/noprompt", filter}, attrs...)
		cmd := exec.Command(ldapsearch, args...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = devNull, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("ldapsearch: %v\n%s", err, stderr.String())
		}
	}
	readLDAPSearch := func() time.Duration {
		start := time.Now()
		search("(objectClass=inetOrgPerson)", "uid", "cn", "mail", "departmentNumber", "physicalDeliveryOfficeName", "employeeNumber")
		search("(|(objectClass=groupOfNames)(objectClass=posixGroup))", "cn", "member", "memberUid")
		return time.Since(start)
	}
	readLDAPSearch() // warm the server's caches

	var firstTime, againTime, searchTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, false)
		h.useLDAP(srv)
		h.set(settings.UserSyncLDAPCardRe, "", settings.UserSyncOnlyGroups, "")
		opts := h.syncOpts()
		for g := range 20 {
			opts.OnlyGroups = append(opts.OnlyGroups, "group"+strconv.Itoa(g))
		}
		searchTime += readLDAPSearch()
		b.StartTimer()

		start := time.Now()
		stages := func(name string) Progress {
			last := ""
			return func(stage string, done, total int) {
				if stage != last {
					b.Logf("%s: %s at %v", name, stage, time.Since(start))
					last = stage
				}
			}
		}
		out, err := h.svc.Run(context.Background(), admin, opts, false, stages("first"))
		if err != nil {
			b.Fatal(err)
		}
		firstTime += time.Since(start)
		if out.Run.Counts.Created != users {
			b.Fatalf("created %d users, want %d", out.Run.Counts.Created, users)
		}
		start = time.Now()
		out, err = h.svc.Run(context.Background(), admin, opts, false, stages("unchanged"))
		if err != nil {
			b.Fatal(err)
		}
		againTime += time.Since(start)
		if out.Run.Counts.Unchanged != users {
			b.Fatalf("%d unchanged, want %d", out.Run.Counts.Unchanged, users)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(firstTime.Seconds()/n, "first-s/op")
	b.ReportMetric(againTime.Seconds()/n, "unchanged-s/op")
	b.ReportMetric(searchTime.Seconds()/n, "ldapsearch-s/op")
	b.ReportMetric(firstTime.Seconds()/searchTime.Seconds(), "first/ldapsearch")
	b.ReportMetric(againTime.Seconds()/searchTime.Seconds(), "unchanged/ldapsearch")
}
