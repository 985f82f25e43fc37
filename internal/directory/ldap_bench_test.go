package directory

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/testenv/slapd"
)

// BenchmarkLDAPRead100k compares a full read of 100,000 users (and their
// groups) by the LDAP source with ldapsearch paging through the same
// entries and attributes (SPEC §11: within 1.5×). Run it with
//
//	REAM_BENCH_LDAP=1 go test -run '^$' -bench LDAPRead100k -benchtime 3x ./internal/directory/
func BenchmarkLDAPRead100k(b *testing.B) {
	if os.Getenv("REAM_BENCH_LDAP") != "1" {
		b.Skip("set REAM_BENCH_LDAP=1 to load 100,000 users into slapd and run this benchmark")
	}
	ldapsearch, err := exec.LookPath("ldapsearch")
	if err != nil {
		b.Skip("ldapsearch not installed: apt-get install slapd ldap-utils")
	}
	const users = 100_000
	srv := slapd.Start(b, readerEntry, slapd.UsersLDIF(users, 20))
	c := Preset(PresetOpenLDAP)
	c.URL, c.BaseDN, c.BindDN, c.BindPassword = srv.URL, srv.BaseDN, readerDN, readerPassword
	src, err := NewLDAPSource(c)
	if err != nil {
		b.Fatal(err)
	}
	readSource := func() {
		res, err := src.Read(context.Background(), ReadOptions{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Users) != users {
			b.Fatalf("read %d users, want %d", len(res.Users), users)
		}
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	search := func(filter string, attrs []string) {
		args := append([]string{"-x", "-LLL", "-H", srv.URL, "-D", readerDN, "-w", readerPassword,
			"-b", srv.BaseDN, "-E", "pr=500/noprompt", filter}, attrs...)
		cmd := exec.Command(ldapsearch, args...)
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = devNull, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("ldapsearch: %v\n%s", err, stderr.String())
		}
	}
	readLDAPSearch := func() {
		search(src.userFilter, src.userSearch.attrs)
		search(parenthesize(c.GroupFilter), src.groupSearch.attrs)
	}
	readSource() // warm the server's caches for both readers
	readLDAPSearch()

	var sourceTime, ldapsearchTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		readSource()
		sourceTime += time.Since(start)
		start = time.Now()
		readLDAPSearch()
		ldapsearchTime += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(sourceTime.Seconds()/float64(b.N), "source-s/op")
	b.ReportMetric(ldapsearchTime.Seconds()/float64(b.N), "ldapsearch-s/op")
	b.ReportMetric(sourceTime.Seconds()/ldapsearchTime.Seconds(), "source/ldapsearch")
}
