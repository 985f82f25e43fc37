package cards

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Bounds on lookup conversion, so that a device or caller cannot make a
// lookup do unbounded work.
const (
	MaxConvertInput   = 128 // bytes of card number given to Convert
	MaxConverterSteps = 8   // steps in one chain
)

// Converter names as PaperCut spells them (SPEC §5 Lookup).
const (
	ConverterHexToDec = "hex2dec"
	ConverterDecToHex = "dec2hex"
	ConverterASCIIEnc = "ascii-enc"
)

// Converter is one named step of a lookup conversion.
type Converter struct {
	Name    string
	convert func(card string) (string, error)
}

// Chain is the card number conversion applied before a lookup, its steps in
// order. The zero Chain leaves numbers as they are.
type Chain []Converter

var converters = map[string]func(string) (string, error){
	ConverterHexToDec: hexToDec,
	ConverterDecToHex: decToHex,
	ConverterASCIIEnc: asciiEnc,
}

// ConverterNames lists the known converters, for the options page.
func ConverterNames() []string {
	return []string{ConverterHexToDec, ConverterDecToHex, ConverterASCIIEnc}
}

// ParseConverters reads a chain such as "ascii-enc|hex2dec". Names are
// case-insensitive and may be surrounded by spaces; an empty spec is the
// identity chain. PaperCut's "javascript:" converters are refused: no
// feature may run administrator code on the server (SPEC §10).
func ParseConverters(spec string) (Chain, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	if strings.HasPrefix(strings.ToLower(spec), "javascript:") {
		return nil, fmt.Errorf("cards: card number converter %q: script converters are not supported; use %s", truncate(spec, 40), strings.Join(ConverterNames(), ", "))
	}
	parts := strings.Split(spec, "|")
	if len(parts) > MaxConverterSteps {
		return nil, fmt.Errorf("cards: card number converter chain has %d steps: at most %d allowed", len(parts), MaxConverterSteps)
	}
	chain := make(Chain, 0, len(parts))
	for i, part := range parts {
		name := strings.ToLower(strings.TrimSpace(part))
		if name == "" {
			return nil, fmt.Errorf("cards: card number converter chain %q: step %d is empty", spec, i+1)
		}
		fn, ok := converters[name]
		if !ok {
			return nil, fmt.Errorf("cards: unknown card number converter %q (known: %s)", truncate(name, 40), strings.Join(ConverterNames(), ", "))
		}
		chain = append(chain, Converter{Name: name, convert: fn})
	}
	return chain, nil
}

// String returns the chain in the form ParseConverters reads.
func (c Chain) String() string {
	names := make([]string, len(c))
	for i, step := range c {
		names[i] = step.Name
	}
	return strings.Join(names, "|")
}

// Convert normalizes card and passes it through every step in order.
func (c Chain) Convert(card string) (string, error) {
	card = Normalize(card)
	if len(card) > MaxConvertInput {
		return "", fmt.Errorf("cards: card number is %d characters long: at most %d allowed", len(card), MaxConvertInput)
	}
	for _, step := range c {
		if card == "" {
			return "", fmt.Errorf("cards: converter %s: card number is empty", step.Name)
		}
		out, err := step.convert(card)
		if err != nil {
			return "", fmt.Errorf("cards: converter %s: %w", step.Name, err)
		}
		card = out
	}
	return card, nil
}

// Normalize is the form in which card numbers are stored and looked up:
// surrounding spaces (and the line ends some readers send) are removed.
func Normalize(card string) string {
	return strings.TrimSpace(card)
}

// hexToDec reads hexadecimal of any length, either case, and writes decimal.
func hexToDec(card string) (string, error) {
	for i := 0; i < len(card); i++ {
		if !isHexDigit(card[i]) {
			return "", fmt.Errorf("character %d of the card number is not a hexadecimal digit", i+1)
		}
	}
	// The characters are checked above: SetString alone would accept a sign.
	n, _ := new(big.Int).SetString(card, 16)
	return n.Text(10), nil
}

// decToHex reads decimal and writes lower-case hexadecimal without leading
// zeros. PaperCut's documentation shows lower case; a device that needs
// upper case is served by storing numbers that way, not by this step.
func decToHex(card string) (string, error) {
	if i := strings.IndexFunc(card, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		return "", fmt.Errorf("character %d of the card number is not a decimal digit", i+1)
	}
	n, _ := new(big.Int).SetString(card, 10)
	return n.Text(16), nil
}

// asciiEnc undoes a reader that sends the ASCII code of each character as a
// pair of hex digits: "3132333435" is "12345".
func asciiEnc(card string) (string, error) {
	if len(card)%2 != 0 {
		return "", fmt.Errorf("card number has %d hex digits: ASCII codes come in pairs", len(card))
	}
	for i := 0; i < len(card); i++ {
		if !isHexDigit(card[i]) {
			return "", fmt.Errorf("character %d of the card number is not a hexadecimal digit", i+1)
		}
	}
	raw, err := hex.DecodeString(card)
	if err != nil {
		return "", fmt.Errorf("unable to decode the card number: %w", err)
	}
	for i, b := range raw {
		if b < 0x20 || b > 0x7e {
			return "", fmt.Errorf("character %d decodes to byte 0x%02x, which is not printable ASCII", i+1, b)
		}
	}
	out := Normalize(string(raw))
	if out == "" {
		return "", fmt.Errorf("card number decodes to blank text")
	}
	return out, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
