package cards

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestGeneratorOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts GeneratorOptions
		want string // part of the error; empty for valid options
	}{
		{"default", DefaultGeneratorOptions(), ""},
		{"shortest", GeneratorOptions{Length: 6}, ""},
		{"longest with Luhn", GeneratorOptions{Length: 32, Luhn: true}, ""},
		{"letters and digits prefix", GeneratorOptions{Length: 8, Prefix: "Ab12"}, ""},
		{"longest prefix", GeneratorOptions{Length: 8, Prefix: strings.Repeat("x", 16)}, ""},
		{"zero length", GeneratorOptions{}, "length 0 is out of range"},
		{"too short", GeneratorOptions{Length: 5}, "length 5 is out of range"},
		{"too long", GeneratorOptions{Length: 33}, "length 33 is out of range"},
		{"negative", GeneratorOptions{Length: -1}, "out of range"},
		{"prefix too long", GeneratorOptions{Length: 8, Prefix: strings.Repeat("x", 17)}, "17 characters long"},
		{"prefix with dash", GeneratorOptions{Length: 8, Prefix: "AB-"}, "character 3 is not a letter or digit"},
		{"prefix with space", GeneratorOptions{Length: 8, Prefix: " A"}, "character 1"},
		{"prefix with non-ASCII letter", GeneratorOptions{Length: 8, Prefix: "é"}, "not a letter or digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			_, genErr := NewGenerator(tt.opts)
			if tt.want == "" {
				if err != nil || genErr != nil {
					t.Fatalf("Validate() = %v, NewGenerator error %v; want both nil", err, genErr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v; want error containing %q", err, tt.want)
			}
			if genErr == nil {
				t.Fatalf("NewGenerator accepted invalid options %+v", tt.opts)
			}
		})
	}
}

func TestNextShape(t *testing.T) {
	for _, opts := range []GeneratorOptions{
		{Length: 6},
		{Length: 6, Luhn: true},
		{Length: 12},
		{Length: 12, Luhn: true, Prefix: "RM"},
		{Length: 32, Prefix: "0"},
		{Length: 32, Luhn: true},
	} {
		g, err := NewGenerator(opts)
		if err != nil {
			t.Fatal(err)
		}
		firstDigits := map[byte]bool{}
		for range 20000 {
			card, err := g.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(card, opts.Prefix) {
				t.Fatalf("%+v: %q lacks the prefix", opts, card)
			}
			digits := card[len(opts.Prefix):]
			if len(digits) != opts.Length {
				t.Fatalf("%+v: %q has %d digits after the prefix", opts, card, len(digits))
			}
			if !allDigits(digits) {
				t.Fatalf("%+v: %q has a non-digit", opts, card)
			}
			if digits[0] == '0' {
				t.Fatalf("%+v: %q starts with 0", opts, card)
			}
			firstDigits[digits[0]] = true
			if opts.Luhn && !LuhnValid(digits) {
				t.Fatalf("%+v: %q fails the Luhn check", opts, card)
			}
			if err := ValidateCardNumber(card); err != nil {
				t.Fatalf("%+v: generated %q is not a valid card number: %v", opts, card, err)
			}
		}
		if len(firstDigits) != 9 {
			t.Errorf("%+v: first digits seen %v; want all of 1-9", opts, firstDigits)
		}
	}
}

// With Luhn off, roughly one number in ten happens to pass the Luhn check;
// if all pass, the generator is appending check digits it should not.
func TestNextWithoutLuhnHasNoCheckDigit(t *testing.T) {
	g, err := NewGenerator(GeneratorOptions{Length: 12})
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for range 1000 {
		card, err := g.Next()
		if err != nil {
			t.Fatal(err)
		}
		if LuhnValid(card) {
			valid++
		}
	}
	if valid > 300 {
		t.Fatalf("%d of 1000 numbers pass the Luhn check without Luhn on", valid)
	}
}

func TestDigitRejectsBiasedBytes(t *testing.T) {
	// 250..255 would favour digits 0-5 if taken modulo 10, and 252..255
	// would favour 1-4 for the first digit; the generator must skip them.
	src := []byte{
		255, 252, 8, // first digit: 255 and 252 rejected, 8%9 = 8 → '9'
		250, 251, 7, // 250, 251 rejected → '7'
		249,                // 249%10 = 9
		0, 10, 25, 99, 123, // 0 0 5 9 3
	}
	g, err := newGenerator(GeneratorOptions{Length: 8}, bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	card, err := g.Next()
	if err != nil {
		t.Fatal(err)
	}
	if card != "97900593" {
		t.Fatalf("Next() = %q; want 97900593", card)
	}
	if _, err := g.Next(); err == nil || !strings.Contains(err.Error(), "random source") {
		t.Fatalf("Next() on an exhausted source = %v; want a random source error", err)
	}
}

func TestGenerateUniqueMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 numbers skipped in -short mode")
	}
	g, err := NewGenerator(GeneratorOptions{Length: 12, Luhn: true})
	if err != nil {
		t.Fatal(err)
	}
	const n = 1_000_000
	cards, err := g.GenerateUnique(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cards) != n {
		t.Fatalf("got %d numbers; want %d", len(cards), n)
	}
	seen := make(map[string]struct{}, n)
	for _, c := range cards {
		if _, dup := seen[c]; dup {
			t.Fatalf("duplicate number %q", c)
		}
		seen[c] = struct{}{}
		if len(c) != 12 || c[0] == '0' || !LuhnValid(c) {
			t.Fatalf("bad number %q", c)
		}
	}
}

func TestGenerateUniqueAvoidsTaken(t *testing.T) {
	// With every number ending in an odd digit taken, each of the 1,000
	// numbers must end in an even one.
	g, err := NewGenerator(GeneratorOptions{Length: 7})
	if err != nil {
		t.Fatal(err)
	}
	taken := func(card string) bool { return (card[len(card)-1]-'0')%2 == 1 }
	cards, err := g.GenerateUnique(1000, taken)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if taken(c) {
			t.Fatalf("GenerateUnique returned taken number %q", c)
		}
	}
}

func TestGenerateUniqueExhausted(t *testing.T) {
	g, err := NewGenerator(GeneratorOptions{Length: 6})
	if err != nil {
		t.Fatal(err)
	}
	// More numbers than exist: refused before any drawing.
	_, err = g.GenerateUnique(900_001, nil)
	if !errors.Is(err, ErrNumberSpaceExhausted) || !strings.Contains(err.Error(), "900,000 possible") {
		t.Fatalf("GenerateUnique(900001) error = %v; want space exhausted naming 900,000", err)
	}
	// Everything taken: gives up after MaxAttempts draws.
	calls := 0
	_, err = g.GenerateUnique(1, func(string) bool { calls++; return true })
	if !errors.Is(err, ErrNumberSpaceExhausted) {
		t.Fatalf("GenerateUnique with all taken = %v; want ErrNumberSpaceExhausted", err)
	}
	if calls != MaxAttempts {
		t.Fatalf("taken called %d times; want %d", calls, MaxAttempts)
	}
	if _, err := g.GenerateUnique(-1, nil); err == nil {
		t.Fatal("GenerateUnique(-1) succeeded")
	}
	if cards, err := g.GenerateUnique(0, nil); err != nil || len(cards) != 0 {
		t.Fatalf("GenerateUnique(0) = %v, %v; want none", cards, err)
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		number string
		valid  bool
	}{
		{"79927398713", true}, // the textbook example
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"79927398710", false},
		{"00", true},
		{"0", false},
		{"", false},
		{"7992739871x", false},
		{"7992 7398713", false},
	}
	for _, tt := range tests {
		if got := LuhnValid(tt.number); got != tt.valid {
			t.Errorf("LuhnValid(%q) = %v; want %v", tt.number, got, tt.valid)
		}
	}
	if d := LuhnDigit("7992739871"); d != '3' {
		t.Errorf("LuhnDigit(7992739871) = %q; want '3'", d)
	}
	if d := LuhnDigit("12a"); d != 0 {
		t.Errorf("LuhnDigit(12a) = %q; want 0", d)
	}
	if d := LuhnDigit(""); d != 0 {
		t.Errorf("LuhnDigit(\"\") = %q; want 0", d)
	}
	// A single mistyped digit is always caught.
	base := "7992739871"
	card := base + string(LuhnDigit(base))
	for i := range len(card) {
		for d := byte('0'); d <= '9'; d++ {
			if d == card[i] {
				continue
			}
			typo := card[:i] + string(d) + card[i+1:]
			if LuhnValid(typo) {
				t.Fatalf("typo %q of %q passes the Luhn check", typo, card)
			}
		}
	}
}

func BenchmarkGenerate100k(b *testing.B) {
	g, err := NewGenerator(DefaultGeneratorOptions())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.GenerateUnique(100_000, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	g, err := NewGenerator(GeneratorOptions{Length: 12, Luhn: true})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
