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
