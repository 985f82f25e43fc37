package source

import "hash/maphash"

// NameIndex maps keys to int32 values (record or account indexes) holding
// only a 64-bit hash of each key: the key itself is already in the record
// or account the value points at, and same says whether it is that one.
// It is exact: a key whose hash another key has is kept whole, apart.
//
// Why not map[string]int32: a million names cost a million key strings
// (24 bytes each) on top of the map's own slots; measured on the 1M-account
// first import, the parser's and the planner's name maps were the largest
// part of the heap besides the records themselves.
type NameIndex struct {
	seed  maphash.Seed
	m     map[uint64]int32
	extra map[string]int32 // keys whose hash belongs to another key
	same  func(v int32, key []byte) bool
	hash  func(key []byte) uint64 // nil: maphash; tests make keys collide
}

func (x *NameIndex) sum(key []byte) uint64 {
	if x.hash != nil {
		return x.hash(key)
	}
	return maphash.Bytes(x.seed, key)
}

// NewNameIndex returns an empty index for about n keys. same(v, key)
// reports whether v, a value in the index, stands for key.
func NewNameIndex(n int, same func(v int32, key []byte) bool) *NameIndex {
	return &NameIndex{seed: maphash.MakeSeed(), m: make(map[uint64]int32, n), same: same}
}

// Get returns the value of key.
func (x *NameIndex) Get(key []byte) (int32, bool) {
	v, ok := x.m[x.sum(key)]
	if !ok {
		return 0, false
	}
	if x.same(v, key) {
		return v, true
	}
	v, ok = x.extra[string(key)]
	return v, ok
}

// Put sets the value of key. The value must stand for key (same(v, key)),
// now and for as long as the index is used.
func (x *NameIndex) Put(key []byte, v int32) {
	h := x.sum(key)
	if old, ok := x.m[h]; ok && !x.same(old, key) {
		if x.extra == nil {
			x.extra = make(map[string]int32)
		}
		x.extra[string(key)] = v
		return
	}
	x.m[h] = v
}

// Len is the number of keys.
func (x *NameIndex) Len() int { return len(x.m) + len(x.extra) }
