package metrics

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// seriesSet maps label values to one series each. Finding an existing series, the
// hot path, takes a read lock and no allocation.
type seriesSet[T any] struct {
	labelNames []string
	init       func(*T) // prepares a new series before it is published; may be nil
	mu         sync.RWMutex
	m          map[string]*labeled[T] // by key, see appendKey
}

type labeled[T any] struct {
	labelValues []string
	series      T
}

// get returns the series for labelValues, creating it. Label values that are not
// valid UTF-8 are repaired, and a wrong number of values is padded with "" or cut:
// a mistake in a metric call must not take down the request it measures.
func (s *seriesSet[T]) get(labelValues []string) *T {
	values := s.fix(labelValues)
	var buf [256]byte
	key := appendKey(buf[:0], values)
	s.mu.RLock()
	l, ok := s.m[string(key)] // no allocation: the compiler looks up without copying
	s.mu.RUnlock()
	if ok {
		return &l.series
	}
	return &s.add(string(key), values).series
}

// add publishes a series for key unless a racing caller already did.
func (s *seriesSet[T]) add(key string, values []string) *labeled[T] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.m[key]; ok {
		return l
	}
	if s.m == nil {
		s.m = map[string]*labeled[T]{}
	}
	l := &labeled[T]{labelValues: slices.Clone(values)}
	if s.init != nil {
		s.init(&l.series)
	}
	s.m[key] = l
	return l
}

// fix returns labelValues with one valid UTF-8 value per label name.
func (s *seriesSet[T]) fix(labelValues []string) []string {
	ok := len(labelValues) == len(s.labelNames)
	for _, v := range labelValues {
		ok = ok && utf8.ValidString(v)
	}
	if ok {
		return labelValues
	}
	values := make([]string, len(s.labelNames))
	for i := range values {
		if i < len(labelValues) {
			values[i] = strings.ToValidUTF8(labelValues[i], "\uFFFD")
		}
	}
	return values
}

// appendKey joins values with 0xff, a byte that never occurs in valid UTF-8, so
// no value can be mistaken for two.
func appendKey(buf []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			buf = append(buf, 0xff)
		}
		buf = append(buf, v...)
	}
	return buf
}

// sorted returns the series ordered by label values, for a stable exposition.
func (s *seriesSet[T]) sorted() []*labeled[T] {
	s.mu.RLock()
	out := make([]*labeled[T], 0, len(s.m))
	for _, l := range s.m {
		out = append(out, l)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b *labeled[T]) int { return slices.Compare(a.labelValues, b.labelValues) })
	return out
}

// atomicFloat is a float64 updated with compare-and-swap.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) load() float64   { return math.Float64frombits(f.bits.Load()) }
func (f *atomicFloat) store(v float64) { f.bits.Store(math.Float64bits(v)) }

func (f *atomicFloat) add(delta float64) {
	for {
		old := f.bits.Load()
		if f.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+delta)) {
			return
		}
	}
}
