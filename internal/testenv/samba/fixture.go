package samba

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// The fixture's people and groups, for tests to name.
const (
	// ServiceUPN is the sync's service account, bound as by its UPN.
	ServiceUPN       = "svc-ream@corp.example"
	ServiceDownLevel = `CORP\svc-ream`
	ServiceDN        = "CN=Ream Service,OU=Service,OU=Ream,DC=corp,DC=example"
	ServicePassword  = "Svc-Passw0rd!"
	// Alice's UPN differs from her sAMAccountName (alice).
	AliceUPN      = "alice.archer@corp.example"
	AlicePassword = "Alice-Passw0rd!"
	// Students is how many generated users OU=Students holds; BigGroup
	// holds the first BigGroupSize of them, more than AD's 1,500 values
	// per range.
	Students     = 2000
	BigGroup     = "AllStudents"
	BigGroupSize = 1600
)

// Named people: alice (enabled, a teacher), bob (disabled:
// userAccountControl bit 2), carol (accountExpires in the past), dave
// (accountExpires 0: never) and erin (accountExpires 9223372036854775807:
// never), plus the service account.
//
// Groups, nested: Teachers ⊂ Staff ⊂ Everyone (alice is a member of all
// three, directly only of Teachers); LoopA ⊂ LoopB ⊂ LoopA is a cycle with
// dave in LoopA and erin in LoopB.
func Fixture() string {
	var b strings.Builder
	const ou = "OU=Ream," + BaseDN
	entry := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\n")
	}
	entry("dn: %s\nobjectClass: organizationalUnit\nou: Ream\n", ou)
	for _, sub := range []string{"Service", "Staff", "Students", "Groups"} {
		entry("dn: OU=%s,%s\nobjectClass: organizationalUnit\nou: %s\n", sub, ou, sub)
	}
	user := func(cn, sub, sam, upn, password string, uac int, extra string) {
		pw := ""
		if password != "" {
			pw = "unicodePwd:: " + base64.StdEncoding.EncodeToString(quotedPassword(password)) + "\n"
		}
		entry("dn: CN=%s,OU=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s\ndisplayName: %s\n%suserAccountControl: %d\n%s",
			cn, sub, ou, sam, upn, cn, pw, uac, extra)
	}
	// 512: a normal account; +2: disabled; 544: a normal account that
	// needs no password (the generated students, to keep loading quick).
	user("Ream Service", "Service", "svc-ream", ServiceUPN, ServicePassword, 512, "")
	user("Alice Archer", "Staff", "alice", AliceUPN, AlicePassword, 512,
		"mail: alice@corp.example\ndepartment: Finance\nphysicalDeliveryOfficeName: Level 2\npager: CARD-0042\nemployeeID: E-42\n")
	user("Bob Baker", "Staff", "bob", "bob@corp.example", "", 546, "pager: 43\n")
	user("Carol Cook", "Staff", "carol", "carol@corp.example", "", 544, "pager: 44\naccountExpires: 130000000000000000\n")
	user("Dave Dunn", "Staff", "dave", "dave@corp.example", "", 544, "pager: 45\naccountExpires: 0\n")
	user("Erin East", "Staff", "erin", "erin@corp.example", "", 544, "pager: 46\naccountExpires: 9223372036854775807\n")
	for i := 1; i <= Students; i++ {
		sam := StudentName(i)
		user(fmt.Sprintf("Student %04d", i), "Students", sam, sam+"@corp.example", "", 544,
			fmt.Sprintf("pager: %d\nemployeeID: S%d\n", 100000+i, i))
	}
	group := func(name string, members ...string) {
		fmt.Fprintf(&b, "dn: CN=%s,OU=Groups,%s\nobjectClass: group\nsAMAccountName: %s\n", name, ou, name)
		for _, m := range members {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	staff := func(cn string) string { return "CN=" + cn + ",OU=Staff," + ou }
	grp := func(cn string) string { return "CN=" + cn + ",OU=Groups," + ou }
	group("Teachers", staff("Alice Archer"))
	group("Staff", grp("Teachers"), staff("Bob Baker"))
	group("Everyone", grp("Staff"), staff("Carol Cook"))
	group("LoopA", staff("Dave Dunn"))
	group("LoopB", grp("LoopA"), staff("Erin East"))
	// The cycle is closed once both groups exist.
	entry("dn: %s\nchangetype: modify\nadd: member\nmember: %s\n-\n", grp("LoopA"), grp("LoopB"))
	var big []string
	for i := 1; i <= BigGroupSize; i++ {
		big = append(big, fmt.Sprintf("CN=Student %04d,OU=Students,%s", i, ou))
	}
	group(BigGroup, big...)
	return b.String()
}

// StudentName is the sAMAccountName of generated student i (1-based).
func StudentName(i int) string { return fmt.Sprintf("s%04d", i) }
