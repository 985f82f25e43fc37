package directory

import "strings"

// MaxNestingDepth bounds how deep nested groups are followed: a group
// inside a group inside a group is depth 2 below the outer one.
const MaxNestingDepth = 16

// nesting is what expanding nested groups found.
type nesting struct {
	depth     int  // the deepest nesting followed
	cycle     bool // a group is (indirectly) a member of itself
	truncated bool // nesting deeper than MaxNestingDepth was not followed
}

// expandNested gives every group, as members of its own, the members of
// the groups it contains, recursively: a member DN that is the DN of a
// group read is a nested group. Each group is visited once per outer
// group, so a cycle ends the walk rather than looping. It runs once the
// member DNs are indexed.
func (g *rawGroups) expandNested() nesting {
	var n nesting
	// groupOf maps a member DN index to the group with that DN.
	groupOf := make(map[int32]int, len(g.list))
	for i, rg := range g.list {
		for _, dn := range rg.dns {
			if j, ok := g.dnIndex[strings.ToLower(dn)]; ok {
				groupOf[j] = i
			}
		}
	}
	if len(groupOf) == 0 {
		return n
	}
	direct := make([][]memberRef, len(g.list))
	for i := range g.list {
		direct[i] = g.list[i].members
	}
	for i := range g.list {
		visited := map[int]bool{i: true}
		haveDN := make(map[int32]bool, len(direct[i]))
		haveUID := make(map[string]bool)
		for _, ref := range direct[i] {
			if ref.dn >= 0 {
				haveDN[ref.dn] = true
			} else {
				haveUID[ref.uid] = true
			}
		}
		members := direct[i]
		type step struct{ group, depth int }
		queue := []step{{i, 0}}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, ref := range direct[cur.group] {
				if ref.dn < 0 {
					continue
				}
				inner, isGroup := groupOf[ref.dn]
				if !isGroup {
					continue
				}
				if inner == i {
					n.cycle = true
				}
				if visited[inner] {
					continue
				}
				if cur.depth+1 > MaxNestingDepth {
					n.truncated = true
					continue
				}
				visited[inner] = true
				n.depth = max(n.depth, cur.depth+1)
				for _, m := range direct[inner] {
					if m.dn >= 0 && !haveDN[m.dn] {
						haveDN[m.dn] = true
						members = append(members, m)
					} else if m.dn < 0 && !haveUID[m.uid] {
						haveUID[m.uid] = true
						members = append(members, m)
					}
				}
				queue = append(queue, step{inner, cur.depth + 1})
			}
		}
		g.list[i].members = members
	}
	return n
}
