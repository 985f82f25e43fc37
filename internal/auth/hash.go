package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are the argon2id cost parameters of new hashes. Verify reads the
// parameters of an existing hash from its encoded string instead.
type HashParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	SaltLen   uint32 // bytes
	KeyLen    uint32 // bytes
}

// DefaultHashParams are OWASP's minimum recommendation for argon2id (19 MiB, two
// passes, one lane): about 20 ms per hash on a small server.
var DefaultHashParams = HashParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1, SaltLen: 16, KeyLen: 32}

// DefaultMaxConcurrentHashes bounds the hashes in flight, so that a burst of logins
// needs at most 4 × 19 MiB rather than memory proportional to the burst.
const DefaultMaxConcurrentHashes = 4

// Bounds on parameters read from an encoded hash. A stored hash with absurd costs
// (a corrupted row, an import from elsewhere) must not let one login take gigabytes
// or minutes.
const (
	maxHashMemoryKiB = 256 * 1024
	maxHashTime      = 16
	maxHashThreads   = 16
	minSaltLen       = 8
	maxSaltLen       = 64
	minKeyLen        = 16
	maxKeyLen        = 64
)

// ErrMalformedHash is returned by Verify when the encoded hash cannot be used.
var ErrMalformedHash = errors.New("auth: malformed password hash")

// Hasher hashes and verifies passwords and PINs with argon2id, in the PHC string
// format `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`. It is safe for concurrent use.
type Hasher struct {
	params HashParams
	slots  chan struct{}
	dummy  string
	// derive is argon2.IDKey; tests replace it to observe concurrency.
	derive func(secret, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher that makes new hashes with params and runs at most
// maxConcurrent hashes at once. Zero params or maxConcurrent < 1 take the defaults.
func NewHasher(params HashParams, maxConcurrent int) (*Hasher, error) {
	if params == (HashParams{}) {
		params = DefaultHashParams
	}
	if err := checkParams(params); err != nil {
		return nil, fmt.Errorf("auth: unable to create the password hasher: %w", err)
	}
	if maxConcurrent < 1 {
		maxConcurrent = DefaultMaxConcurrentHashes
	}
	h := &Hasher{
		params: params,
		slots:  make(chan struct{}, maxConcurrent),
		derive: argon2.IDKey,
	}
	// The dummy hash only has to cost what a real one costs; its key is random, so
	// no secret matches it.
	h.dummy = encodeHash(params, randomBytes(params.SaltLen), randomBytes(params.KeyLen))
	return h, nil
}

func checkParams(p HashParams) error {
	switch {
	case p.Time < 1 || p.Time > maxHashTime:
		return fmt.Errorf("parameter t=%d out of range 1..%d", p.Time, maxHashTime)
	case p.Threads < 1 || p.Threads > maxHashThreads:
		return fmt.Errorf("parameter p=%d out of range 1..%d", p.Threads, maxHashThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxHashMemoryKiB:
		return fmt.Errorf("parameter m=%d out of range %d..%d", p.MemoryKiB, 8*uint32(p.Threads), maxHashMemoryKiB)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("hash length %d out of range %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails; see crypto/rand.Read
	return b
}

// Hash returns the encoded argon2id hash of secret with a fresh salt. It waits for a
// free hashing slot and gives up when ctx ends.
func (h *Hasher) Hash(ctx context.Context, secret string) (string, error) {
	salt := randomBytes(h.params.SaltLen)
	key, err := h.run(ctx, []byte(secret), salt, h.params)
	if err != nil {
		return "", fmt.Errorf("auth: unable to hash: %w", err)
	}
	return encodeHash(h.params, salt, key), nil
}

// HashPIN hashes a card PIN; PINs are stored like passwords.
func (h *Hasher) HashPIN(ctx context.Context, pin string) (string, error) {
	return h.Hash(ctx, pin)
}

// Verify reports whether secret matches the encoded hash, using the parameters
// written in the hash so that hashes made with older settings keep working. A
// malformed hash or out-of-range parameters give ErrMalformedHash.
func (h *Hasher) Verify(ctx context.Context, encoded, secret string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.run(ctx, []byte(secret), salt, p)
	if err != nil {
		return false, fmt.Errorf("auth: unable to verify: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy spends the time of a real Verify and matches nothing. Callers run it
// for an unknown user so that "no such user" and "wrong password" take the same time.
func (h *Hasher) VerifyDummy(ctx context.Context, secret string) {
	_, _ = h.Verify(ctx, h.dummy, secret)
}

// NeedsRehash reports whether encoded was made with parameters other than the
// Hasher's, so the caller can store a new hash after a successful login.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decodeHash(encoded)
	return err != nil || p != h.params
}

func (h *Hasher) run(ctx context.Context, secret, salt []byte, p HashParams) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return h.derive(secret, salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

var b64 = base64.RawStdEncoding

func encodeHash(p HashParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decodeHash(encoded string) (HashParams, []byte, []byte, error) {
	var p HashParams
	if len(encoded) > 512 {
		return p, nil, nil, fmt.Errorf("%w: longer than 512 bytes", ErrMalformedHash)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: want 5 fields separated by $", ErrMalformedHash)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm %q, want argon2id", ErrMalformedHash, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version field %q, want v=%d", ErrMalformedHash, parts[2], argon2.Version)
	}
	if err := parseCosts(parts[3], &p); err != nil {
		return p, nil, nil, err
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash: %w", ErrMalformedHash, err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := checkParams(p); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %w", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}

// parseCosts reads "m=…,t=…,p=…" in that order, as every PHC argon2 encoder writes it.
func parseCosts(field string, p *HashParams) error {
	costs := strings.Split(field, ",")
	if len(costs) != 3 {
		return fmt.Errorf("%w: parameters %q, want m=…,t=…,p=…", ErrMalformedHash, field)
	}
	var values [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(costs[i], name+"=")
		if !ok {
			return fmt.Errorf("%w: parameter %d is %q, want %s=…", ErrMalformedHash, i+1, costs[i], name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("%w: parameter %s: %w", ErrMalformedHash, name, err)
		}
		values[i] = n
	}
	if values[2] > maxHashThreads {
		return fmt.Errorf("%w: parameter p=%d out of range 1..%d", ErrMalformedHash, values[2], maxHashThreads)
	}
	p.MemoryKiB, p.Time, p.Threads = uint32(values[0]), uint32(values[1]), uint8(values[2])
	return nil
}
