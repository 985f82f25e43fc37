package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/testenv/slapd"
)

// nestedLDIF: teachers ⊂ staff ⊂ everyone (three deep), loopa ⊂ loopb ⊂
// loopa (a cycle), and a posixGroup member by memberUid inside staff.
func nestedLDIF() string {
	var b strings.Builder
	b.WriteString("dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n")
	b.WriteString("dn: ou=groups,dc=example,dc=org\nobjectClass: organizationalUnit\nou: groups\n\n")
	for _, u := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
		fmt.Fprintf(&b, "dn: uid=%s,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n\n", u, u, u, u)
	}
	person := func(u string) string { return "uid=" + u + ",ou=people,dc=example,dc=org" }
	group := func(g string) string { return "cn=" + g + ",ou=groups,dc=example,dc=org" }
	add := func(name string, members ...string) {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: %s\n", group(name), name)
		for _, m := range members {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	add("teachers", person("alice"))
	add("staff", group("teachers"), person("bob"), group("admins"))
	add("everyone", group("staff"), person("carol"))
	add("loopa", group("loopb"), person("dave"))
	add("loopb", group("loopa"), person("erin"))
	b.WriteString("dn: cn=admins,ou=groups,dc=example,dc=org\nobjectClass: posixGroup\ncn: admins\ngidNumber: 500\nmemberUid: frank\n\n")
	return b.String()
}

func TestNestedGroups(t *testing.T) {
	srv := slapd.Start(t, readerEntry, nestedLDIF())
	for _, nested := range []bool{false, true} {
		c := openLDAPConfig(srv)
		c.NestedGroups = nested
		res, err := newSource(t, c).Read(context.Background(), ReadOptions{}, nil)
		if err != nil {
			t.Fatalf("nested=%v: Read: %v", nested, err)
		}
		got := map[string][]string{}
		for _, g := range res.Groups {
			m := slices.Clone(g.Members)
			slices.Sort(m)
			got[g.Name] = m
		}
		want := map[string][]string{
			"teachers": {"alice"}, "staff": {"bob"}, "everyone": {"carol"},
			"loopa": {"dave"}, "loopb": {"erin"}, "admins": {"frank"},
		}
		if nested {
			want["staff"] = []string{"alice", "bob", "frank"}
			want["everyone"] = []string{"alice", "bob", "carol", "frank"}
			want["loopa"] = []string{"dave", "erin"}
			want["loopb"] = []string{"dave", "erin"}
			if res.Nesting == nil || res.Nesting.Depth != 2 || !res.Nesting.Cycle || res.Nesting.Truncated {
				t.Errorf("nesting = %+v, want depth 2 with a cycle", res.Nesting)
			}
		} else if res.Nesting != nil {
			t.Errorf("nesting reported when not followed: %+v", res.Nesting)
		}
		for name, w := range want {
			if !slices.Equal(got[name], w) {
				t.Errorf("nested=%v: %s = %v, want %v", nested, name, got[name], w)
			}
		}
		// Members of a chosen group include its nested members.
		if nested {
			res, err := newSource(t, c).Read(context.Background(), ReadOptions{Groups: []string{"everyone"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if u := usernames(res.Users); !slices.Equal(u, []string{"alice", "bob", "carol", "frank"}) {
				t.Errorf("members of everyone = %v", u)
			}
		}
	}
}

func TestNestingDepthLimit(t *testing.T) {
	g := &rawGroups{dnIndex: map[string]int32{}}
	// g0 ⊃ g1 ⊃ … ⊃ g(N+1), each listing the next by DN.
	n := MaxNestingDepth + 2
	for i := 0; i <= n; i++ {
		g.dns = append(g.dns, fmt.Sprintf("cn=g%d", i))
		g.dnIndex[fmt.Sprintf("cn=g%d", i)] = int32(i)
	}
	for i := 0; i <= n; i++ {
		rg := rawGroup{name: fmt.Sprintf("g%d", i), dns: []string{fmt.Sprintf("cn=g%d", i)}}
		if i < n {
			rg.members = []memberRef{{dn: int32(i + 1)}}
		}
		g.list = append(g.list, rg)
	}
	got := g.expandNested()
	if got.depth != MaxNestingDepth || !got.truncated || got.cycle {
		t.Errorf("nesting = %+v, want depth %d, truncated", got, MaxNestingDepth)
	}
}
