package source

import (
	"fmt"
	"testing"
)

// TestNameIndexCollisions makes every key collide (and, for contrast,
// none): the index still answers exactly.
func TestNameIndexCollisions(t *testing.T) {
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprint("collide=", collide), func(t *testing.T) {
			var keys []string
			x := NewNameIndex(0, func(v int32, key []byte) bool { return keys[v] == string(key) })
			if collide {
				x.hash = func([]byte) uint64 { return 7 }
			}
			for i := range 50 {
				keys = append(keys, fmt.Sprintf("key %d", i))
				if _, ok := x.Get([]byte(keys[i])); ok {
					t.Fatalf("%q found before it was put", keys[i])
				}
				x.Put([]byte(keys[i]), int32(i))
			}
			// Putting a key again (a new value standing for the same key) replaces it.
			keys = append(keys, "key 3", "key 40")
			x.Put([]byte("key 3"), 50)
			x.Put([]byte("key 40"), 51)
			if x.Len() != 50 {
				t.Fatalf("Len %d, want 50", x.Len())
			}
			for i := range 50 {
				want := int32(i)
				switch i {
				case 3:
					want = 50
				case 40:
					want = 51
				}
				if v, ok := x.Get([]byte(fmt.Sprintf("key %d", i))); !ok || v != want {
					t.Fatalf("key %d: %d %v, want %d", i, v, ok, want)
				}
			}
			if _, ok := x.Get([]byte("key 50")); ok {
				t.Fatal("a key never put was found")
			}
		})
	}
}
