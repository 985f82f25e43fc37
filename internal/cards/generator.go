// Package cards holds the card/ID number rules of SPEC §5: the random number
// generator and its guessability, the lookup converters, the batch card
// import file parser and the card/ID number notification template. It does
// no I/O beyond the readers it is given; storing numbers is the store's job.
package cards

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
)

// Limits of the generator settings (SPEC §5: length 6 to 32, default 12).
const (
	DefaultLength   = 12
	MinLength       = 6
	MaxLength       = 32
	MaxPrefixLength = 16
)

// MaxAttempts is how many draws GenerateUnique makes for one number before it
// decides the number space is exhausted. With 90% of the space in use the
// chance of a false alarm is 0.9^1000, about 1e-46.
const MaxAttempts = 1000

// ErrNumberSpaceExhausted reports that no free card number could be found.
var ErrNumberSpaceExhausted = errors.New("cards: card number space exhausted")

// GeneratorOptions are the card number generator settings.
//
// Length counts the digits after the prefix, including the Luhn check digit
// when Luhn is on: the length a user types is the setting an administrator
// sees, whatever the check digit. The prefix is fixed text, so it adds no
// guessing difficulty and is not part of the Luhn sum (a prefix may hold
// letters); a keypad check strips the known prefix first.
type GeneratorOptions struct {
	Length int
	Prefix string
	Luhn   bool
}

// DefaultGeneratorOptions returns the settings of a new installation.
func DefaultGeneratorOptions() GeneratorOptions {
	return GeneratorOptions{Length: DefaultLength}
}

// Validate reports the first setting that is out of range, naming it.
func (o GeneratorOptions) Validate() error {
	if o.Length < MinLength || o.Length > MaxLength {
		return fmt.Errorf("cards: card number length %d is out of range: must be %d to %d digits", o.Length, MinLength, MaxLength)
	}
	if len(o.Prefix) > MaxPrefixLength {
		return fmt.Errorf("cards: card number prefix is %d characters long: at most %d allowed", len(o.Prefix), MaxPrefixLength)
	}
	for i := 0; i < len(o.Prefix); i++ {
		if !isASCIIAlnum(o.Prefix[i]) {
			return fmt.Errorf("cards: card number prefix %q: character %d is not a letter or digit", o.Prefix, i+1)
		}
	}
	return nil
}

// randomDigits is the number of digits drawn at random.
func (o GeneratorOptions) randomDigits() int {
	if o.Luhn {
		return o.Length - 1
	}
	return o.Length
}

// possibleNumbers is the size of the number space: the first random digit
// is 1-9, the others 0-9; the check digit and prefix add nothing.
func (o GeneratorOptions) possibleNumbers() *big.Int {
	d := o.randomDigits()
	if d < 1 {
		return new(big.Int)
	}
	n := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d-1)), nil)
	return n.Mul(n, big.NewInt(9))
}

// Generator draws random card numbers. It is safe for concurrent use.
type Generator struct {
	opts GeneratorOptions

	mu     sync.Mutex
	source io.Reader
	pool   []byte // random bytes read in one batch
	unread []byte // the part of pool not used yet
}

// NewGenerator returns a generator reading crypto/rand, or the settings error.
func NewGenerator(opts GeneratorOptions) (*Generator, error) {
	return newGenerator(opts, rand.Reader)
}

func newGenerator(opts GeneratorOptions, random io.Reader) (*Generator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	// Reading the random source in 64 KiB batches makes a million numbers a
	// few hundred system calls instead of a million.
	return &Generator{opts: opts, source: random, pool: make([]byte, 64<<10)}, nil
}

// Options returns the settings the generator was made with.
func (g *Generator) Options() GeneratorOptions { return g.opts }

// Next returns one random card number: the prefix, random digits that never
// start with 0, and the Luhn check digit when enabled. Uniqueness is the
// caller's business (see GenerateUnique).
func (g *Generator) Next() (string, error) {
	buf := make([]byte, len(g.opts.Prefix)+g.opts.Length)
	copy(buf, g.opts.Prefix)
	digits := buf[len(g.opts.Prefix):]
	n := g.opts.randomDigits()

	g.mu.Lock()
	err := g.fill(digits[:n])
	g.mu.Unlock()
	if err != nil {
		return "", err
	}
	if g.opts.Luhn {
		digits[n] = luhnDigit(digits[:n])
	}
	return string(buf), nil
}

// fill writes random ASCII digits into dst, the first one never 0. Each
// digit is one random byte; bytes at or above the largest multiple of the
// digit's base (252 for 1-9, 250 for 0-9) are drawn again, so that no digit
// is more likely than another.
func (g *Generator) fill(dst []byte) error {
	for i := 0; i < len(dst); {
		if len(g.unread) == 0 {
			n, err := io.ReadAtLeast(g.source, g.pool, 1)
			if err != nil {
				return fmt.Errorf("cards: unable to read the random source: %w", err)
			}
			g.unread = g.pool[:n]
		}
		b := g.unread[0]
		g.unread = g.unread[1:]
		switch {
		case i == 0 && b < 252:
			dst[i] = '1' + b%9
			i++
		case i > 0 && b < 250:
			dst[i] = '0' + b%10
			i++
		}
	}
	return nil
}

// GenerateUnique returns n distinct card numbers for which taken (may be
// nil) reports false. Collisions are drawn again, at most MaxAttempts times
// for each number; after that the error wraps ErrNumberSpaceExhausted.
func (g *Generator) GenerateUnique(n int, taken func(string) bool) ([]string, error) {
	if n < 0 {
		return nil, fmt.Errorf("cards: unable to generate %d card numbers: count must not be negative", n)
	}
	if space := g.opts.possibleNumbers(); big.NewInt(int64(n)).Cmp(space) > 0 {
		return nil, fmt.Errorf("%w: %s card numbers asked for, only %s possible with %s; use longer numbers",
			ErrNumberSpaceExhausted, groupDigits(big.NewInt(int64(n))), groupDigits(space), g.describe())
	}
	cards := make([]string, 0, n)
	drawn := make(map[string]struct{}, n)
	for len(cards) < n {
		card, err := g.nextFree(drawn, taken)
		if err != nil {
			return nil, fmt.Errorf("%w (%d of %d generated)", err, len(cards), n)
		}
		drawn[card] = struct{}{}
		cards = append(cards, card)
	}
	return cards, nil
}

// nextFree draws until a number is neither drawn already nor taken.
func (g *Generator) nextFree(drawn map[string]struct{}, taken func(string) bool) (string, error) {
	for range MaxAttempts {
		card, err := g.Next()
		if err != nil {
			return "", err
		}
		if _, dup := drawn[card]; dup {
			continue
		}
		if taken != nil && taken(card) {
			continue
		}
		return card, nil
	}
	return "", fmt.Errorf("%w: no free number found in %d attempts with %s; use longer numbers",
		ErrNumberSpaceExhausted, MaxAttempts, g.describe())
}

func (g *Generator) describe() string {
	s := fmt.Sprintf("%d-digit numbers", g.opts.Length)
	if g.opts.Luhn {
		s += " with a check digit"
	}
	return s
}

func isASCIIAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
