package money

import "testing"

func TestParseAndString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"12", "12.00", false},
		{"-3.5", "-3.50", false},
		{"+0.000001", "0.000001", false},
		{".5", "0.50", false},
		{"5.", "5.00", false},
		{"0.1234567", "", true},
		{"1,5", "", true},
		{"", "", true},
		{"-", "", true},
		{".", "", true},
		{"1e5", "", true},
		{"9999999999999", "", true},
		{"999999999999.999999", "999999999999.999999", false},
	} {
		a, err := Parse(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("Parse(%q) err = %v, want err %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && a.String() != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, a, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "-1.25", "0.000001", "abc", "1.2.3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		b, err := Parse(a.String())
		if err != nil || a != b {
			t.Fatalf("round trip of %q: %v -> %q -> %v (%v)", s, a, a.String(), b, err)
		}
	})
}

// TestFromFloatIsExact: a double is read as the decimal it prints as, and one
// with more places than an Amount keeps is refused, never rounded to zero.
func TestFromFloatIsExact(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0.1, "0.10"}, {12.34, "12.34"}, {-0.000001, "-0.000001"}, {1e6, "1000000.00"}, {0, "0.00"}, {0.045, "0.045"},
	} {
		a, err := FromFloat(tc.in)
		if err != nil || a.String() != tc.want {
			t.Errorf("FromFloat(%v) = %v, %v; want %s", tc.in, a, err, tc.want)
		}
	}
	for _, in := range []float64{0.0000001, 1.0000005, -3.1415926535, 1e-300} {
		if a, err := FromFloat(in); err == nil {
			t.Errorf("FromFloat(%v) = %v, want an error (more than %d decimal places)", in, a, Scale)
		}
	}
}
