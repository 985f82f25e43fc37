package cards

// LuhnDigit returns the Luhn check digit ('0'-'9') to append to the digits
// of s, or 0 when s is empty or holds anything but ASCII digits.
func LuhnDigit(s string) byte {
	if s == "" || !allDigits(s) {
		return 0
	}
	return luhnDigit([]byte(s))
}

// LuhnValid reports whether s is all digits, at least two, and its last digit
// is the Luhn check digit of the others.
func LuhnValid(s string) bool {
	if len(s) < 2 || !allDigits(s) {
		return false
	}
	return luhnDigit([]byte(s[:len(s)-1])) == s[len(s)-1]
}

// luhnDigit computes the check digit of ASCII digits: from the right, every
// other digit starting with the last is doubled (the check digit will sit to
// its right), and the check digit brings the sum to a multiple of ten.
func luhnDigit(payload []byte) byte {
	sum := 0
	double := true
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
