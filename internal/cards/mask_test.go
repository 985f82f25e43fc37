package cards

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "(none)"},
		{"482913375510", "********5510"},
		{"12345678", "****5678"},
		{"1234567", "****567"}, // at most half shows
		{"AB12", "**12"},
		{"7", "*"},
		{"ÄÖ1234567890", "********7890"}, // characters, not bytes
	} {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
