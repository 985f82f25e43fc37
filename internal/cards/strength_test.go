package cards

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestGuessability(t *testing.T) {
	tests := []struct {
		name     string
		opts     GeneratorOptions
		users    int
		space    string
		perHit   string // "" when no users
		bits     float64
		summary  string
		chanceAt float64
	}{
		{
			name: "twelve digits, 100,000 users", opts: GeneratorOptions{Length: 12}, users: 100_000,
			space: "900000000000", perHit: "9000000", bits: 39.71, chanceAt: 1.0 / 9e6,
			summary: "1 in 9,000,000 guesses finds a user (100,000 users, 900,000,000,000 possible numbers)",
		},
		{
			name: "check digit and prefix add nothing", opts: GeneratorOptions{Length: 13, Luhn: true, Prefix: "RM"}, users: 100_000,
			space: "900000000000", perHit: "9000000", bits: 39.71, chanceAt: 1.0 / 9e6,
			summary: "1 in 9,000,000 guesses finds a user (100,000 users, 900,000,000,000 possible numbers)",
		},
		{
			name: "one user", opts: GeneratorOptions{Length: 6}, users: 1,
			space: "900000", perHit: "900000", bits: 19.78, chanceAt: 1.0 / 900000,
			summary: "1 in 900,000 guesses finds a user (1 user, 900,000 possible numbers)",
		},
		{
			name: "nearly full", opts: GeneratorOptions{Length: 6}, users: 600_000,
			space: "900000", perHit: "2", bits: 19.78, chanceAt: 600000.0 / 900000,
			summary: "1 in 2 guesses finds a user (600,000 users, 900,000 possible numbers)",
		},
		{
			name: "more users than numbers", opts: GeneratorOptions{Length: 6}, users: 2_000_000,
			space: "900000", perHit: "1", bits: 19.78, chanceAt: 1,
			summary: "Every guess finds a user (2,000,000 users, 900,000 possible numbers)",
		},
		{
			name: "no users", opts: GeneratorOptions{Length: 32}, users: 0,
			space: "90000000000000000000000000000000", bits: 106.15,
			summary: "No user has a number yet (90,000,000,000,000,000,000,000,000,000,000 possible numbers, 106.1 bits)",
		},
		{
			name: "negative users count as none", opts: GeneratorOptions{Length: 6}, users: -5,
			space: "900000", bits: 19.78,
			summary: "No user has a number yet (900,000 possible numbers, 19.8 bits)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Guessability(tt.opts, tt.users)
			if got := s.PossibleNumbers.String(); got != tt.space {
				t.Errorf("PossibleNumbers = %s; want %s", got, tt.space)
			}
			if math.Abs(s.Bits-tt.bits) > 0.01 {
				t.Errorf("Bits = %.3f; want %.2f", s.Bits, tt.bits)
			}
			if tt.perHit == "" {
				if s.GuessesPerHit != nil || s.HitChance != 0 {
					t.Errorf("GuessesPerHit = %v, HitChance = %v; want none", s.GuessesPerHit, s.HitChance)
				}
			} else if got := s.GuessesPerHit.String(); got != tt.perHit {
				t.Errorf("GuessesPerHit = %s; want %s", got, tt.perHit)
			}
			if math.Abs(s.HitChance-tt.chanceAt) > 1e-12 {
				t.Errorf("HitChance = %g; want %g", s.HitChance, tt.chanceAt)
			}
			if s.Summary != tt.summary || s.String() != tt.summary {
				t.Errorf("Summary = %q\n                want %q", s.Summary, tt.summary)
			}
		})
	}
}

func TestGuessabilityInvalidOptions(t *testing.T) {
	s := Guessability(GeneratorOptions{Length: 3}, 10)
	if !strings.Contains(s.Summary, "length 3 is out of range") || s.PossibleNumbers.Sign() != 0 {
		t.Fatalf("Guessability of invalid options = %+v; want the error in the summary", s)
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567"} {
		if got := groupDigits(big.NewInt(n)); got != want {
			t.Errorf("groupDigits(%d) = %q; want %q", n, got, want)
		}
	}
}
