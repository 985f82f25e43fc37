package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cheapParams keep tests fast; the encoding and checks are the same as the defaults.
var cheapParams = HashParams{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(t testing.TB, p HashParams, maxConcurrent int) *Hasher {
	t.Helper()
	h, err := NewHasher(p, maxConcurrent)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	h := newTestHasher(t, HashParams{}, 0) // the real defaults, once
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoded hash %q does not carry the default parameters", encoded)
	}
	ok, err := h.Verify(ctx, encoded, "correct horse battery staple")
	if err != nil || !ok {
		t.Fatalf("Verify(right password) = %v, %v; want true", ok, err)
	}
	ok, err = h.Verify(ctx, encoded, "correct horse battery stapler")
	if err != nil || ok {
		t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
	}
	if h.NeedsRehash(encoded) {
		t.Error("NeedsRehash is true for a hash made with the current parameters")
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	a, _ := h.Hash(context.Background(), "same secret")
	b, _ := h.Hash(context.Background(), "same secret")
	if a == b {
		t.Fatal("two hashes of the same secret are equal; the salt is not random")
	}
}

// The reference implementation's argon2id test vector (phc-winner-argon2 test.c)
// proves the encoding is the standard one, so hashes move in and out of Ream.
func TestVerifyReferenceVector(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	const ref = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	ok, err := h.Verify(context.Background(), ref, "password")
	if err != nil || !ok {
		t.Fatalf("Verify(reference vector) = %v, %v; want true", ok, err)
	}
	if !h.NeedsRehash(ref) {
		t.Error("NeedsRehash is false for a hash with other parameters")
	}
}

func TestVerifyOldParameters(t *testing.T) {
	ctx := context.Background()
	old := newTestHasher(t, HashParams{Time: 3, MemoryKiB: 128, Threads: 2, SaltLen: 8, KeyLen: 16}, 1)
	encoded, err := old.Hash(ctx, "s3cret-pin")
	if err != nil {
		t.Fatal(err)
	}
	current := newTestHasher(t, cheapParams, 1)
	if ok, err := current.Verify(ctx, encoded, "s3cret-pin"); err != nil || !ok {
		t.Fatalf("Verify of a hash with older parameters = %v, %v; want true", ok, err)
	}
}

func TestVerifyTamperedOrMalformed(t *testing.T) {
	ctx := context.Background()
	h := newTestHasher(t, cheapParams, 1)
	good, err := h.HashPIN(ctx, "1234")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == 'A' {
			b[0] = 'B'
		} else {
			b[0] = 'A'
		}
		return string(b)
	}
	join := func(p ...string) string { return strings.Join(p, "$") }

	// Tampering that still parses must simply not match.
	for name, encoded := range map[string]string{
		"hash changed": join("", parts[1], parts[2], parts[3], parts[4], flip(parts[5])),
		"salt changed": join("", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]),
		"time changed": join("", parts[1], parts[2], "m=64,t=2,p=1", parts[4], parts[5]),
	} {
		ok, err := h.Verify(ctx, encoded, "1234")
		if err != nil || ok {
			t.Errorf("%s: Verify = %v, %v; want false, nil", name, ok, err)
		}
	}

	// Anything else is malformed, including absurd costs.
	for name, encoded := range map[string]string{
		"empty":              "",
		"bcrypt":             "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"argon2i":            join("", "argon2i", parts[2], parts[3], parts[4], parts[5]),
		"version 16":         join("", parts[1], "v=16", parts[3], parts[4], parts[5]),
		"missing field":      join("", parts[1], parts[2], parts[3], parts[5]),
		"extra field":        good + "$x",
		"costs out of order": join("", parts[1], parts[2], "t=1,m=64,p=1", parts[4], parts[5]),
		"memory 4 GiB":       join("", parts[1], parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]),
		"memory too small":   join("", parts[1], parts[2], "m=7,t=1,p=1", parts[4], parts[5]),
		"time 0":             join("", parts[1], parts[2], "m=64,t=0,p=1", parts[4], parts[5]),
		"time 1000":          join("", parts[1], parts[2], "m=64,t=1000,p=1", parts[4], parts[5]),
		"threads 0":          join("", parts[1], parts[2], "m=64,t=1,p=0", parts[4], parts[5]),
		"threads 255":        join("", parts[1], parts[2], "m=65536,t=1,p=255", parts[4], parts[5]),
		"threads 256":        join("", parts[1], parts[2], "m=65536,t=1,p=256", parts[4], parts[5]),
		"negative":           join("", parts[1], parts[2], "m=-64,t=1,p=1", parts[4], parts[5]),
		"short salt":         join("", parts[1], parts[2], parts[3], "c2FsdA", parts[5]),
		"short hash":         join("", parts[1], parts[2], parts[3], parts[4], "aGFzaA"),
		"padded base64":      join("", parts[1], parts[2], parts[3], parts[4]+"==", parts[5]),
		"not base64":         join("", parts[1], parts[2], parts[3], "!!!!!!!!!!!!", parts[5]),
		"huge":               good + strings.Repeat("A", 1<<20),
	} {
		ok, err := h.Verify(ctx, encoded, "1234")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify = %v, %v; want false, ErrMalformedHash", name, ok, err)
		}
	}
}

func TestNewHasherRefusesBadParameters(t *testing.T) {
	for _, p := range []HashParams{
		{Time: 0, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Time: 1, MemoryKiB: 1 << 30, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Time: 1, MemoryKiB: 64, Threads: 1, SaltLen: 16, KeyLen: 8},
	} {
		if _, err := NewHasher(p, 1); err == nil {
			t.Errorf("NewHasher(%+v) accepted absurd parameters", p)
		}
	}
}

// instrument replaces the key derivation with one that counts calls in flight and
// waits for release, so tests observe concurrency without timing anything.
type instrument struct {
	inFlight, maxInFlight, calls atomic.Int64
	release                      chan struct{}
	lastParams                   atomic.Pointer[HashParams]
}

func (in *instrument) install(h *Hasher) {
	in.release = make(chan struct{})
	h.derive = func(secret, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		n := in.inFlight.Add(1)
		for m := in.maxInFlight.Load(); n > m && !in.maxInFlight.CompareAndSwap(m, n); m = in.maxInFlight.Load() {
		}
		in.calls.Add(1)
		in.lastParams.Store(&HashParams{Time: time, MemoryKiB: memory, Threads: threads, SaltLen: uint32(len(salt)), KeyLen: keyLen})
		<-in.release
		in.inFlight.Add(-1)
		sum := sha256.Sum256(append(append([]byte{}, secret...), salt...))
		key := make([]byte, keyLen)
		copy(key, sum[:])
		return key
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	const limit, callers = 4, 24
	h := newTestHasher(t, cheapParams, limit)
	var in instrument
	in.install(h)

	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			if _, err := h.Hash(context.Background(), "burst"); err != nil {
				t.Error(err)
			}
		})
	}
	// Wait until the slots are full; the other callers are then queued on them.
	for in.inFlight.Load() < limit {
		runtime.Gosched()
	}
	for range 1000 {
		runtime.Gosched()
	}
	close(in.release)
	wg.Wait()

	if got := in.maxInFlight.Load(); got != limit {
		t.Errorf("at most %d hashes ran at once, want exactly the limit %d", got, limit)
	}
	if got := in.calls.Load(); got != callers {
		t.Errorf("%d hashes ran, want %d", got, callers)
	}
}

func TestHasherWaitRespectsContext(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	var in instrument
	in.install(h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = h.Hash(context.Background(), "holds the only slot")
	}()
	for in.inFlight.Load() < 1 {
		runtime.Gosched()
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "waits"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context while slots are full = %v, want context.Canceled", err)
	}
	if ok, err := h.Verify(ctx, h.dummy, "waits"); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context = %v, %v; want context.Canceled", ok, err)
	}
	close(in.release)
	<-done
}

// VerifyDummy must do the work of a real Verify: one key derivation with the
// Hasher's current parameters, the same as for a real user's current hash.
func TestVerifyDummyDoesRealWork(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	var in instrument
	in.install(h)
	close(in.release)
	h.VerifyDummy(context.Background(), "guess")
	if in.calls.Load() != 1 {
		t.Fatalf("VerifyDummy ran %d key derivations, want 1", in.calls.Load())
	}
	if got := *in.lastParams.Load(); got != cheapParams {
		t.Errorf("VerifyDummy derived with %+v, want the hasher's %+v", got, cheapParams)
	}
}

func TestVerifyDummyMatchesNothing(t *testing.T) {
	h := newTestHasher(t, cheapParams, 1)
	for _, s := range []string{"", "password", h.dummy} {
		if ok, err := h.Verify(context.Background(), h.dummy, s); ok || err != nil {
			t.Errorf("Verify(dummy, %q) = %v, %v; want false, nil", s, ok, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	h := newTestHasher(f, cheapParams, 2)
	good, _ := h.Hash(context.Background(), "pw")
	for _, s := range []string{
		good, "", "$", "$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
	} {
		f.Add(s, "pw")
	}
	// Parameters come from the input, up to 256 MiB and 16 passes; a cheap stand-in
	// for argon2 keeps the fuzzer on the parser.
	var in instrument
	in.install(h)
	close(in.release)
	f.Fuzz(func(t *testing.T, encoded, secret string) {
		ok, err := h.Verify(context.Background(), encoded, secret)
		if err != nil && ok {
			t.Fatal("Verify returned true with an error")
		}
		if err == nil {
			p, _, _, derr := decodeHash(encoded)
			if derr != nil || checkParams(p) != nil {
				t.Fatalf("Verify accepted %q with parameters %+v", encoded, p)
			}
		}
	})
}
