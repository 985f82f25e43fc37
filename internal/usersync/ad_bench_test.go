package usersync

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/testenv/samba"
)

// BenchmarkUserSyncSamba10k syncs 10,000 users of the Samba AD DC (the
// fixture's and as many more students as it takes) into a fresh SQLite
// store over LDAPS, first import then unchanged, beside ldapsearch reading
// the same entries and attributes with the same paging in the same run.
//
//	REAM_BENCH_SAMBA=1 go test -run '^$' -bench UserSyncSamba10k -benchtime 1x ./internal/usersync/
func BenchmarkUserSyncSamba10k(b *testing.B) {
	if os.Getenv("REAM_BENCH_SAMBA") != "1" {
		b.Skip("set REAM_BENCH_SAMBA=1 to load 10,000 users into Samba and run this benchmark")
	}
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		b.Skip("ldapsearch not installed: apt-get install ldap-utils")
	}
	srv := samba.Shared(b)
	const total = 10_000
	var ldif strings.Builder
	for i := samba.Students + 1; i <= total; i++ {
		sam := samba.StudentName(i)
		fmt.Fprintf(&ldif, "dn: CN=Student %04d,OU=Students,OU=Ream,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@corp.example\ndisplayName: Student %04d\nuserAccountControl: 544\npager: %d\n\n",
			i, samba.BaseDN, sam, sam, i, 100000+i)
	}
	srv.Add(b, ldif.String())
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	search := func(filter string, attrs ...string) {
		args := append([]string{"-x", "-LLL", "-H", srv.URL, "-D", samba.ServiceUPN, "-w", samba.ServicePassword,
			"-b", srv.BaseDN, "-E", "pr=500/noprompt", filter}, attrs...)
		cmd := exec.Command(ldapsearch, args...)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+srv.CACertFile)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = devNull, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("ldapsearch: %v\n%s", err, stderr.String())
		}
	}
	readLDAPSearch := func() time.Duration {
		start := time.Now()
		search("(&(objectCategory=person)(objectClass=user))", "sAMAccountName", "displayName", "mail", "department",
			"physicalDeliveryOfficeName", "pager", "homeDirectory", "userAccountControl", "accountExpires")
		search("(objectClass=group)", "cn", "member")
		return time.Since(start)
	}
	readLDAPSearch() // warm the server's caches
	var firstTime, againTime, searchTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h := newHarness(b, false)
		h.useAD(srv, samba.ServiceUPN)
		opts := h.syncOpts()
		searchTime += readLDAPSearch()
		b.StartTimer()
		start := time.Now()
		out, err := h.svc.Run(context.Background(), admin, opts, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		firstTime += time.Since(start)
		if out.Run.Counts.Created < total {
			b.Fatalf("created %d users, want at least %d", out.Run.Counts.Created, total)
		}
		start = time.Now()
		if _, err := h.svc.Run(context.Background(), admin, opts, false, nil); err != nil {
			b.Fatal(err)
		}
		againTime += time.Since(start)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(firstTime.Seconds()/n, "first-s/op")
	b.ReportMetric(againTime.Seconds()/n, "unchanged-s/op")
	b.ReportMetric(searchTime.Seconds()/n, "ldapsearch-s/op")
	b.ReportMetric(firstTime.Seconds()/searchTime.Seconds(), "first/ldapsearch")
	b.ReportMetric(againTime.Seconds()/searchTime.Seconds(), "unchanged/ldapsearch")
}
