package directory

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Active Directory returns at most MaxValRange (1,500) values of an
// attribute per entry; the rest come as "member;range=0-1499" and must be
// asked for with "member;range=1500-*" until a range ends in "*".

// maxRangeRequests bounds the follow-up searches for one attribute, so
// that a server that never ends its ranges cannot keep a read going.
const maxRangeRequests = 100000

// rangeOption splits an attribute description returned by the server into
// the description without its range option and the range: low and high
// (high -1 for "*"). ok is false when there is no range option.
func rangeOption(name string) (base string, low, high int, ok bool, err error) {
	parts := strings.Split(name, ";")
	kept := parts[:1]
	for _, p := range parts[1:] {
		if len(p) < 6 || !strings.EqualFold(p[:6], "range=") {
			kept = append(kept, p)
			continue
		}
		lo, hi, found := strings.Cut(p[6:], "-")
		if !found {
			return "", 0, 0, false, fmt.Errorf("attribute %q: range option without low-high", name)
		}
		if low, err = strconv.Atoi(lo); err != nil || low < 0 {
			return "", 0, 0, false, fmt.Errorf("attribute %q: range start %q is not a number", name, lo)
		}
		high = -1
		if hi != "*" {
			if high, err = strconv.Atoi(hi); err != nil || high < low {
				return "", 0, 0, false, fmt.Errorf("attribute %q: range end %q is not a number from %d on", name, hi, low)
			}
		}
		ok = true
	}
	return strings.Join(kept, ";"), low, high, ok, nil
}

// partialRange is an attribute of an entry whose values the server cut
// short: the values from next on are still to be asked for.
type partialRange struct {
	slot int
	attr string // the description asked for, without the range
	next int
}

// fetchRanges asks for the rest of each cut-short attribute of the entry
// dn, range after range, handing every value to add.
func (s *LDAPSource) fetchRanges(ctx context.Context, conn *wireConn, m *entryMapper, dn string, partial []partialRange, add func(slot int, value string)) error {
	for _, p := range partial {
		next := p.next
		for n := 0; ; n++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if n >= maxRangeRequests {
				return fmt.Errorf("directory: %s of %q: the server did not end its ranges", p.attr, dn)
			}
			req := searchRequest{base: dn, filter: presentObjectClass, attrs: []string{fmt.Sprintf("%s;range=%d-*", p.attr, next)}, baseScope: true}
			var got *rangeChunk
			_, err := conn.searchPage(req, nil, func(_, attrs string) error {
				c, err := m.rangeChunk(attrs, p.attr)
				got = c
				return err
			})
			if err != nil {
				return fmt.Errorf("directory: unable to read %s;range=%d-* of %q: %w", p.attr, next, dn, classify(err))
			}
			if got == nil {
				return nil // no values past the last range
			}
			if got.low != next {
				return fmt.Errorf("directory: %s of %q: asked for values from %d, the server sent them from %d", p.attr, dn, next, got.low)
			}
			if err := got.values.each(func(v string) { add(p.slot, v) }); err != nil {
				return err
			}
			if got.high < 0 {
				break
			}
			next = got.high + 1
		}
	}
	return nil
}

// rangeChunk is one range of values of an attribute.
type rangeChunk struct {
	low, high int // high -1: the last range
	values    valueSet
}

// rangeChunk finds attr's values in an entry's attribute list. An attribute
// without a range option is the whole rest of the values.
func (m *entryMapper) rangeChunk(attrs, attr string) (*rangeChunk, error) {
	list := berString{attrs}
	for !list.empty() {
		name, set, err := nextAttribute(&list)
		if err != nil {
			return nil, err
		}
		base, low, high, ranged, err := rangeOption(name)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(base, attr) {
			continue
		}
		if !ranged {
			return nil, fmt.Errorf("attribute %q came without its range", name)
		}
		return &rangeChunk{low: low, high: high, values: valueSet(set)}, nil
	}
	return nil, nil
}

// presentObjectClass is the filter (objectClass=*), BER-encoded.
var presentObjectClass = func() []byte {
	f, err := encodeFilter("(objectClass=*)")
	if err != nil {
		panic(err)
	}
	return f
}()
