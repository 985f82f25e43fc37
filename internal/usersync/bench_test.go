package usersync

import (
	"context"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reamprint/ream/internal/directory"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/testenv/slapd"
)

// BenchmarkUserSync100k syncs 100,000 users in 20 tracked groups from a
// local slapd into a fresh SQLite store (first import), then again with
// nothing changed, and compares each with ldapsearch paging through the
// same entries and attributes in the same run (SPEC §11: within 1.5×).
// store-only is what the first import writes, timed alone with no
// directory to read (storeFloor); first-cpu is the CPU time this process
// spent on the first import, which shares the machine with slapd.
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

	floorTime := storeFloor(b, srv)
	var firstTime, againTime, searchTime, firstCPU time.Duration
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
		cpu0 := cpuTime()
		out, err := h.svc.Run(context.Background(), admin, opts, false, stages("first"))
		if err != nil {
			b.Fatal(err)
		}
		firstTime += time.Since(start)
		firstCPU += cpuTime() - cpu0
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
	b.ReportMetric(firstCPU.Seconds()/n, "first-cpu-s/op")
	b.ReportMetric(againTime.Seconds()/n, "unchanged-s/op")
	b.ReportMetric(searchTime.Seconds()/n, "ldapsearch-s/op")
	b.ReportMetric(firstTime.Seconds()/searchTime.Seconds(), "first/ldapsearch")
	b.ReportMetric(againTime.Seconds()/searchTime.Seconds(), "unchanged/ldapsearch")
	b.ReportMetric(floorTime.Seconds(), "store-only-s")
	b.ReportMetric(floorTime.Seconds()/(searchTime.Seconds()/n), "store-only/ldapsearch")
}

// storeFloor times what the first import writes, alone: the users as read
// from the directory (not timed), inserted with their card numbers and
// memberships in one transaction, as the sync does, into a fresh SQLite
// store with no directory to read at the same time. The best of three.
func storeFloor(b *testing.B, srv *slapd.Server) time.Duration {
	h := newHarness(b, false)
	h.useLDAP(srv)
	h.set(settings.UserSyncLDAPCardRe, "")
	src, err := h.svc.BuildSource(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	res, err := src.Read(context.Background(), directory.ReadOptions{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	best := time.Duration(math.MaxInt64)
	for range 3 {
		h := newHarness(b, false)
		users := make([]*model.User, len(res.Users))
		for i, r := range res.Users {
			users[i] = &model.User{Username: r.Username, FullName: r.FullName, Email: r.Email, Department: r.Department,
				Office: r.Office, PrimaryCard: r.PrimaryCard, SourceID: "ldap"}
		}
		ctx := context.Background()
		start := time.Now()
		err := h.store.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUsers(ctx, users); err != nil {
				return err
			}
			ids := make(map[string]int64, len(users))
			for _, u := range users {
				ids[u.Username] = u.ID
			}
			w, err := tx.NewUserSyncWriter(ctx)
			if err != nil {
				return err
			}
			defer w.Close()
			var joins []store.Membership
			for _, g := range res.Groups {
				ng := &model.Group{Name: g.Name, SourceID: "ldap", Tracked: true}
				if err := tx.CreateGroup(ctx, ng); err != nil {
					return err
				}
				for _, m := range g.Members {
					joins = append(joins, store.Membership{GroupID: ng.ID, UserID: ids[m]})
				}
			}
			return w.AddMemberships(ctx, joins)
		})
		if err != nil {
			b.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
