package cards

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseConverters(t *testing.T) {
	tests := []struct {
		spec    string
		want    string // Chain.String(); ignored on error
		wantErr string
	}{
		{"", "", ""},
		{"   ", "", ""},
		{"hex2dec", "hex2dec", ""},
		{"dec2hex", "dec2hex", ""},
		{"ascii-enc", "ascii-enc", ""},
		{"ascii-enc|hex2dec", "ascii-enc|hex2dec", ""},
		{" ASCII-ENC | Hex2Dec ", "ascii-enc|hex2dec", ""},
		{"hex2dec|dec2hex|hex2dec", "hex2dec|dec2hex|hex2dec", ""},
		{"hex2oct", "", `unknown card number converter "hex2oct"`},
		{"ascii-enc|bogus", "", `unknown card number converter "bogus"`},
		{"hex2dec|", "", "step 2 is empty"},
		{"|hex2dec", "", "step 1 is empty"},
		{"hex2dec||dec2hex", "", "step 2 is empty"},
		{"javascript:function convert(n){return n}", "", "script converters are not supported"},
		{strings.Repeat("hex2dec|", 8) + "hex2dec", "", "9 steps"},
	}
	for _, tt := range tests {
		chain, err := ParseConverters(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseConverters(%q) error = %v; want one containing %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseConverters(%q) error = %v", tt.spec, err)
			continue
		}
		if got := chain.String(); got != tt.want {
			t.Errorf("ParseConverters(%q) = %q; want %q", tt.spec, got, tt.want)
		}
	}
}

func TestConvert(t *testing.T) {
	tests := []struct {
		chain, card, want, wantErr string
	}{
		{"", "  AbC123 ", "AbC123", ""},
		{"", "", "", ""},
		{"hex2dec", "ff", "255", ""},
		{"hex2dec", "FF", "255", ""},
		{"hex2dec", "00ff", "255", ""},
		{"hex2dec", "0", "0", ""},
		{"hex2dec", "5937FB", "5847035", ""},
		{"hex2dec", "FFFFFFFFFFFFFFFFFFFFFFFF", "79228162514264337593543950335", ""},
		{"hex2dec", " 1a\r\n", "26", ""},
		{"hex2dec", "-ff", "", "character 1 of the card number is not a hexadecimal digit"},
		{"hex2dec", "0x1f", "", "character 2 of the card number is not a hexadecimal digit"},
		{"hex2dec", "12g4", "", "character 3"},
		{"hex2dec", "", "", "card number is empty"},
		{"dec2hex", "5847035", "5937fb", ""},
		{"dec2hex", "0005847035", "5937fb", ""},
		{"dec2hex", "0", "0", ""},
		{"dec2hex", "79228162514264337593543950335", "ffffffffffffffffffffffff", ""},
		{"dec2hex", "12a", "", "character 3 of the card number is not a decimal digit"},
		{"dec2hex", "+12", "", "character 1"},
		{"ascii-enc", "3132333435", "12345", ""},
		{"ascii-enc", "41626331", "Abc1", ""},
		{"ascii-enc", "4a4B", "JK", ""},
		{"ascii-enc", "20313220", "12", ""},
		{"ascii-enc", "313", "", "ASCII codes come in pairs"},
		{"ascii-enc", "31zz", "", "character 3 of the card number is not a hexadecimal digit"},
		{"ascii-enc", "310a", "", "character 2 decodes to byte 0x0a"},
		{"ascii-enc", "31ff", "", "byte 0xff"},
		{"ascii-enc", "2020", "", "decodes to blank text"},
		{"ascii-enc|hex2dec", "3546", "95", ""},
		{"ascii-enc|hex2dec", "3030354132334636", "5907446", ""},
		{"ascii-enc|hex2dec", "3132", "18", ""},
		{"ascii-enc|hex2dec", "4748", "", "converter hex2dec: character 1"},
		{"hex2dec|dec2hex", "00AbCd", "abcd", ""},
		{"dec2hex|hex2dec", "000123", "123", ""},
		{"hex2dec", strings.Repeat("f", 128), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 512), big.NewInt(1)).String(), ""},
		{"hex2dec", strings.Repeat("f", 129), "", "129 characters long: at most 128"},
		{"", strings.Repeat("1", 129), "", "at most 128"},
	}
	for _, tt := range tests {
		chain, err := ParseConverters(tt.chain)
		if err != nil {
			t.Fatal(err)
		}
		got, err := chain.Convert(tt.card)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q.Convert(%q) = %q, %v; want error containing %q", tt.chain, tt.card, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q.Convert(%q) = %q, %v; want %q", tt.chain, tt.card, got, err, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"": "", " 123 ": "123", "\t12 34\r\n": "12 34", "abc": "abc"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q; want %q", in, got, want)
		}
	}
}

func FuzzConvert(f *testing.F) {
	for _, seed := range []struct{ chain, card string }{
		{"hex2dec", "5937FB"},
		{"dec2hex", "5847035"},
		{"ascii-enc", "3132333435"},
		{"ascii-enc|hex2dec", "3546"},
		{"hex2dec|dec2hex", "00ab"},
		{"", " 12 "},
		{"ascii-enc", "3"},
		{"hex2dec", "-1"},
		{"bogus|", "1"},
	} {
		f.Add(seed.chain, seed.card)
	}
	f.Fuzz(func(t *testing.T, spec, card string) {
		chain, err := ParseConverters(spec)
		if err != nil {
			return
		}
		if len(chain) > MaxConverterSteps {
			t.Fatalf("chain %q has %d steps", spec, len(chain))
		}
		got, err := chain.Convert(card)
		if err != nil {
			return
		}
		if len(chain) == 0 {
			if got != Normalize(card) {
				t.Fatalf("identity chain changed %q to %q", card, got)
			}
			return
		}
		if got == "" || got != Normalize(got) {
			t.Fatalf("%q.Convert(%q) = %q: empty or not normalized", spec, card, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] > 0x7e {
				t.Fatalf("%q.Convert(%q) = %q: byte %d is not printable ASCII", spec, card, got, i)
			}
		}
		switch chain[len(chain)-1].Name {
		case ConverterHexToDec:
			if !allDigits(got) || len(got) > 1 && got[0] == '0' {
				t.Fatalf("hex2dec gave %q: not a decimal without leading zeros", got)
			}
			// Back to hex and again to decimal is the same number.
			back, err := Chain{{Name: ConverterDecToHex, convert: decToHex}, {Name: ConverterHexToDec, convert: hexToDec}}.Convert(got)
			if err == nil && back != got {
				t.Fatalf("hex2dec output %q round-trips to %q", got, back)
			}
		case ConverterDecToHex:
			if strings.Trim(got, "0123456789abcdef") != "" || len(got) > 1 && got[0] == '0' {
				t.Fatalf("dec2hex gave %q: not lower-case hex without leading zeros", got)
			}
		}
	})
}
