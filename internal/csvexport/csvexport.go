// Package csvexport writes the CSV files that admins download from list
// pages, in the form spreadsheets open safely (SPEC §10): UTF-8 with a
// byte-order mark so Excel reads non-ASCII names, CRLF line ends, and no
// cell that a spreadsheet would run as a formula.
//
// # Formula cells
//
// Following OWASP's CSV injection guidance, a cell that starts with '=',
// '+', '-', '@', a tab (0x09) or a carriage return (0x0D) gets a leading
// single quote, which spreadsheets show as text and never evaluate. The one
// exception is a plain decimal number — an optional '-', one or more ASCII
// digits, and optionally a '.' followed by one or more ASCII digits, such
// as "-12.50" — which a spreadsheet reads as that number and nothing else,
// so balances stay numbers. Anything else that starts with '-' ("-1e5",
// "-12,50", "--1", "-") is neutralised; '+' never keeps its sign, since
// Ream never writes a number that way.
package csvexport

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// bom is the UTF-8 byte-order mark that tells Excel the file is UTF-8.
const bom = "\uFEFF"

// Writer writes records as a spreadsheet-safe CSV file.
type Writer struct {
	out     io.Writer
	csv     *csv.Writer
	started bool
}

// NewWriter returns a Writer that writes to w; the byte-order mark goes
// out with the first record.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{out: w, csv: cw}
}

// Write writes one record, each cell made safe by Cell.
func (w *Writer) Write(record []string) error {
	if !w.started {
		w.started = true
		if _, err := io.WriteString(w.out, bom); err != nil {
			return fmt.Errorf("csvexport: unable to write the byte-order mark: %w", err)
		}
	}
	safe := make([]string, len(record))
	for i, cell := range record {
		safe[i] = Cell(cell)
	}
	if err := w.csv.Write(safe); err != nil {
		return fmt.Errorf("csvexport: unable to write a record: %w", err)
	}
	return nil
}

// Flush writes any buffered records to the underlying writer.
func (w *Writer) Flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("csvexport: unable to write: %w", err)
	}
	return nil
}

// lineBreaks turns CRLF and lone CR inside a cell into LF, which the CSV
// writer then writes as CRLF; encoding/csv would drop a lone CR.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// Cell returns cell as it is written: invalid UTF-8 replaced by U+FFFD, line
// breaks made uniform and, when a spreadsheet would run it as a formula, a
// leading single quote added (see the package comment).
func Cell(cell string) string {
	if cell == "" {
		return cell
	}
	neutralise := formulaStart(cell[0]) && !IsNumber(cell)
	cell = lineBreaks.Replace(strings.ToValidUTF8(cell, "\uFFFD"))
	if neutralise {
		return "'" + cell
	}
	return cell
}

// formulaStart reports whether a cell starting with c would be run as a formula.
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// IsNumber reports whether s is a plain decimal number: an optional '-',
// ASCII digits, and optionally '.' and more ASCII digits ("-12.50", "7").
func IsNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(s, ".")
	return digits(whole) && (!hasPoint || digits(frac))
}

// digits reports whether s is one or more ASCII digits.
func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
