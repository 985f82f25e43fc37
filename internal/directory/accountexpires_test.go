package directory

import (
	"math"
	"strconv"
	"testing"
	"time"
)

func TestParseAccountExpires(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"0", time.Time{}, false},
		{"9223372036854775807", time.Time{}, false},
		{"116444736000000000", time.Unix(0, 0).UTC(), false},
		{"133801632000000000", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{"116444736000000001", time.Unix(0, 100).UTC(), false},
		{"-1", time.Time{}, true},
		{"never", time.Time{}, true},
		{"", time.Time{}, true},
	} {
		got, err := ParseAccountExpires(tc.in)
		if (err != nil) != tc.err || !got.Equal(tc.want) {
			t.Errorf("ParseAccountExpires(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseAccountExpires(f *testing.F) {
	for _, s := range []string{"0", "9223372036854775807", "116444736000000000", "-5", "x", "1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAccountExpires(s)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil || n < 0 {
			t.Fatalf("%q accepted as %v", s, got)
		}
		if got.IsZero() != (n == 0 || n == math.MaxInt64) {
			t.Fatalf("%q: never = %v", s, got.IsZero())
		}
		// The conversion is exact to the 100 ns step.
		if !got.IsZero() {
			back := (got.Unix()+11644473600)*1e7 + int64(got.Nanosecond())/100
			if back != n {
				t.Fatalf("%q → %v → %d", s, got, back)
			}
		}
	})
}
