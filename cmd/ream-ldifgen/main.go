// Command ream-ldifgen writes an LDIF file of generated users and groups,
// for loading a directory to benchmark user sync:
//
//	ream-ldifgen -n 100000 -base dc=example,dc=org > users.ldif
//	slapadd -q -l users.ldif   (or ldapadd -x -D … -W -f users.ldif)
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// options are the command-line settings.
type options struct {
	users      int
	groups     int
	base       string
	baseEntry  bool
	passwords  bool
	posixGroup bool
}

func main() {
	var o options
	flag.IntVar(&o.users, "n", 1000, "number of users")
	flag.IntVar(&o.groups, "groups", 10, "number of groups; users are spread evenly among them")
	flag.StringVar(&o.base, "base", "dc=example,dc=org", "base DN; users go to ou=people, groups to ou=groups under it")
	flag.BoolVar(&o.baseEntry, "base-entry", true, "write the base entry itself (a dcObject organization)")
	flag.BoolVar(&o.passwords, "passwords", true, "give every user the password pass-N")
	flag.BoolVar(&o.posixGroup, "posix", false, "write posixGroup groups with memberUid instead of groupOfNames with member")
	flag.Parse()
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "ream-ldifgen:", err)
		flag.Usage()
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	if err := write(w, o); err != nil {
		fmt.Fprintln(os.Stderr, "ream-ldifgen:", err)
		os.Exit(1)
	}
}

func (o options) check() error {
	switch {
	case o.users < 0:
		return errors.New("-n must not be negative")
	case o.groups < 0:
		return errors.New("-groups must not be negative")
	case !strings.Contains(o.base, "="):
		return fmt.Errorf("-base %q is not a DN", o.base)
	}
	return nil
}

// write generates the whole LDIF and flushes it.
func write(w *bufio.Writer, o options) error {
	if o.baseEntry {
		rdn := strings.SplitN(strings.SplitN(o.base, ",", 2)[0], "=", 2)
		if strings.EqualFold(rdn[0], "dc") {
			fmt.Fprintf(w, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: %s\ndc: %s\n\n", o.base, rdn[1], rdn[1])
		} else {
			fmt.Fprintf(w, "dn: %s\nobjectClass: organization\no: %s\n\n", o.base, rdn[1])
		}
	}
	fmt.Fprintf(w, "dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n", o.base)
	// One reused buffer and one Write per user keep a million users quick.
	var buf []byte
	for i := 1; i <= o.users; i++ {
		n := strconv.Itoa(i)
		buf = buf[:0]
		buf = append(buf, "dn: uid=user"+n+",ou=people,"+o.base+"\n"...)
		buf = append(buf, "objectClass: inetOrgPerson\nuid: user"+n+"\ncn: User "+n+"\nsn: "+n+"\n"...)
		buf = append(buf, "mail: user"+n+"@example.org\n"...)
		buf = append(buf, "employeeNumber: "...)
		buf = strconv.AppendInt(buf, int64(100000000+i), 10)
		buf = append(buf, "\ndepartmentNumber: Department "...)
		buf = strconv.AppendInt(buf, int64(i%50), 10)
		buf = append(buf, "\nphysicalDeliveryOfficeName: Office "...)
		buf = strconv.AppendInt(buf, int64(i%20), 10)
		buf = append(buf, '\n')
		if o.passwords {
			buf = append(buf, "userPassword: pass-"+n+"\n"...)
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write user %d: %w", i, err)
		}
	}
	if o.groups > 0 {
		writeGroups(w, o)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// writeGroups puts user i in group (i-1) mod groups. groupOfNames needs a
// member, so an empty one lists the base entry. Write errors stay in the
// bufio.Writer and surface at Flush.
func writeGroups(w io.Writer, o options) {
	fmt.Fprintf(w, "dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n", o.base)
	for g := 0; g < o.groups; g++ {
		if o.posixGroup {
			fmt.Fprintf(w, "dn: cn=group%d,ou=groups,%s\nobjectClass: posixGroup\ncn: group%d\ngidNumber: %d\n", g, o.base, g, 10000+g)
		} else {
			fmt.Fprintf(w, "dn: cn=group%d,ou=groups,%s\nobjectClass: groupOfNames\ncn: group%d\n", g, o.base, g)
		}
		wrote := false
		for i := g + 1; i <= o.users; i += o.groups {
			if o.posixGroup {
				fmt.Fprintf(w, "memberUid: user%d\n", i)
			} else {
				fmt.Fprintf(w, "member: uid=user%d,ou=people,%s\n", i, o.base)
			}
			wrote = true
		}
		if !wrote && !o.posixGroup {
			fmt.Fprintf(w, "member: %s\n", o.base)
		}
		fmt.Fprintln(w)
	}
}
