// Package money holds Ream's exact decimal amount type. Balances are never
// binary floating point: an Amount is a count of millionths.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scale is the number of decimal places an Amount keeps.
const Scale = 6

const unit = 1_000_000

// Amount is an exact decimal amount of money, stored as millionths.
type Amount int64

// Max is the largest amount Ream accepts (about a trillion).
const Max Amount = 999_999_999_999*unit + 999_999

// ErrSyntax is returned when text is not a decimal number.
var ErrSyntax = errors.New("not a decimal number")

// Parse reads a decimal such as "12", "-3.5" or "+0.000001". A comma is not
// accepted as separator; more than Scale decimal places is an error rather
// than a silent rounding.
func Parse(s string) (Amount, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 {
		return 0, ErrSyntax
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || hasDot && frac == "" && intPart == "" {
		return 0, ErrSyntax
	}
	if !digits(intPart) || !digits(frac) {
		return 0, ErrSyntax
	}
	if len(frac) > Scale {
		return 0, fmt.Errorf("more than %d decimal places", Scale)
	}
	if len(intPart) > 12 {
		return 0, errors.New("amount too large")
	}
	var whole int64
	if intPart != "" {
		whole, _ = strconv.ParseInt(intPart, 10, 64)
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", Scale-len(frac)), 10, 64)
	}
	a := Amount(whole*unit + f)
	if a > Max {
		return 0, errors.New("amount too large")
	}
	if neg {
		a = -a
	}
	return a, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FromFloat converts an XML-RPC double to an Amount exactly: the double is read
// as the shortest decimal that prints back to it (0.1 is "0.1", not
// 0.1000000000000000055…), and one with more than Scale decimal places is an
// error, never a silent rounding to zero. Only the API uses it: PaperCut
// clients send balances as doubles.
func FromFloat(f float64) (Amount, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > float64(Max/unit) {
		return 0, errors.New("amount out of range")
	}
	return Parse(strconv.FormatFloat(f, 'f', -1, 64))
}

// Float returns the amount as a float64, for XML-RPC replies that PaperCut
// clients expect as doubles.
func (a Amount) Float() float64 { return float64(a) / unit }

// String formats the amount with at least two decimal places and no
// trailing zeros beyond them: "12.50", "-0.000001".
func (a Amount) String() string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-a)
	}
	whole, frac := u/unit, u%unit
	fs := fmt.Sprintf("%06d", frac)
	fs = strings.TrimRight(fs, "0")
	for len(fs) < 2 {
		fs += "0"
	}
	s := strconv.FormatUint(whole, 10) + "." + fs
	if neg {
		s = "-" + s
	}
	return s
}

// Add returns a+b, or an error when the result leaves the allowed range.
func (a Amount) Add(b Amount) (Amount, error) {
	r := a + b
	if r > Max || r < -Max {
		return 0, errors.New("amount out of range")
	}
	return r, nil
}
