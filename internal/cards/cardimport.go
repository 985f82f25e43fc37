package cards

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/reamprint/ream/internal/importfile"
)

// Bounds of the batch card import file (SPEC §5, text rules of §3.1).
const (
	MaxImportLineLength = 4096 // bytes of one line, without its line end
	MaxUsernameLength   = 255  // characters
	MaxCardLength       = 64   // characters
	MaxPINLength        = 64   // characters
)

// CardRecord is one accepted line of a batch card import.
type CardRecord struct {
	Line     int
	Username string // lower-cased
	Card     string
	PIN      string
	HasPIN   bool // a PIN was given; without one the user's PIN is left as it is
}

// LineError is one skipped line of a batch card import, for the report.
type LineError struct {
	Line   int
	Field  string // "line", "username", "card" or "pin"
	Reason string
}

// Error makes a LineError usable as an error and as a report line.
func (e LineError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// ParseCardImport reads a batch card import file: "username<TAB>card[<TAB>PIN]"
// lines, UTF-8 with an optional byte-order mark, CRLF or LF, blank lines and
// lines starting with # skipped, fields trimmed of surrounding spaces.
//
// Rules chosen here: a card number is 1 to 64 ASCII letters and digits, kept
// as written (the store decides whether case matters); a PIN is 1 to 64
// printable ASCII characters without spaces, because some devices have full
// keyboards and PaperCut does not restrict PINs to digits. A second line for
// the same card number or the same username is skipped, naming the first:
// which of two lines is meant is the administrator's call, not ours.
//
// Bad lines come back as LineErrors and parsing goes on; the error result
// is only for a failing reader.
func ParseCardImport(r io.Reader) ([]CardRecord, []LineError, error) {
	var (
		records  []CardRecord
		problems []LineError
		cardLine = map[string]int{}
		userLine = map[string]int{}
		lines    = importfile.NewReader(r, MaxImportLineLength)
	)
	for {
		l, err := lines.Next()
		if errors.Is(err, io.EOF) {
			return records, problems, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("cards: unable to read card import at line %d: %w", l.Number, err)
		}
		rec, problem, skip := parseCardLine(l)
		if skip {
			continue
		}
		if problem == nil {
			problem = duplicateProblem(rec, cardLine, userLine)
		}
		if problem != nil {
			problems = append(problems, *problem)
			continue
		}
		cardLine[rec.Card] = rec.Line
		userLine[rec.Username] = rec.Line
		records = append(records, rec)
	}
}

// parseCardLine checks one line on its own; skip is set for comment lines
// indented with spaces or tabs, which this file also allows.
func parseCardLine(l importfile.Line) (rec CardRecord, problem *LineError, skip bool) {
	fail := func(field, reason string) (CardRecord, *LineError, bool) {
		return CardRecord{}, &LineError{l.Number, field, reason}, false
	}
	switch l.Problem {
	case importfile.TooLong:
		return fail("line", fmt.Sprintf("longer than %d bytes; skipped", MaxImportLineLength))
	case importfile.NotUTF8:
		return fail("line", "not valid UTF-8")
	}
	if indentedComment(l.Fields) {
		return CardRecord{}, nil, true
	}
	fields := make([]string, len(l.Fields))
	for i, f := range l.Fields {
		fields[i] = strings.TrimSpace(f)
	}
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	if len(fields) > 3 {
		return fail("line", fmt.Sprintf("has %d fields: expected username, card number and an optional PIN", len(fields)))
	}
	fields = append(fields, "", "")
	username, card, pin := strings.ToLower(fields[0]), fields[1], fields[2]
	if err := validateUsername(username); err != nil {
		return fail("username", err.Error())
	}
	if err := ValidateCardNumber(card); err != nil {
		return fail("card", err.Error())
	}
	if pin != "" {
		if err := ValidatePIN(pin); err != nil {
			return fail("pin", err.Error())
		}
	}
	return CardRecord{Line: l.Number, Username: username, Card: card, PIN: pin, HasPIN: pin != ""}, nil, false
}

// indentedComment reports a line whose first character after spaces and
// tabs is "#".
func indentedComment(fields []string) bool {
	for _, f := range fields {
		if f = strings.TrimLeft(f, " "); f != "" {
			return f[0] == '#'
		}
	}
	return false
}

func duplicateProblem(rec CardRecord, cardLine, userLine map[string]int) *LineError {
	if first, ok := cardLine[rec.Card]; ok {
		return &LineError{rec.Line, "card", fmt.Sprintf("card number already given on line %d; skipped", first)}
	}
	if first, ok := userLine[rec.Username]; ok {
		return &LineError{rec.Line, "username", fmt.Sprintf("user %q already given on line %d; skipped", rec.Username, first)}
	}
	return nil
}

// ValidateCardNumber checks a card/ID number: 1 to 64 ASCII letters and
// digits, the characters card readers send and keypads can type.
func ValidateCardNumber(card string) error {
	if card == "" {
		return errors.New("card number is required")
	}
	if len(card) > MaxCardLength {
		return fmt.Errorf("card number is %d characters long: at most %d allowed", len(card), MaxCardLength)
	}
	for i := 0; i < len(card); i++ {
		if !isASCIIAlnum(card[i]) {
			return fmt.Errorf("character %d of the card number is not a letter or digit", i+1)
		}
	}
	return nil
}

// ValidatePIN checks a card PIN: 1 to 64 printable ASCII characters
// without spaces.
func ValidatePIN(pin string) error {
	if pin == "" {
		return errors.New("PIN is empty")
	}
	if len(pin) > MaxPINLength {
		return fmt.Errorf("PIN is %d characters long: at most %d allowed", len(pin), MaxPINLength)
	}
	for i := 0; i < len(pin); i++ {
		if pin[i] <= ' ' || pin[i] > '~' {
			return fmt.Errorf("character %d of the PIN is not a printable ASCII character", i+1)
		}
	}
	return nil
}

func validateUsername(username string) error {
	if username == "" {
		return errors.New("username is required")
	}
	if n := utf8.RuneCountInString(username); n > MaxUsernameLength {
		return fmt.Errorf("username is %d characters long: at most %d allowed", n, MaxUsernameLength)
	}
	for i, r := range []rune(username) {
		if unicode.IsControl(r) {
			return fmt.Errorf("character %d of the username is a control character", i+1)
		}
	}
	return nil
}
