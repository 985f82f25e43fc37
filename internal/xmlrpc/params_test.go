package xmlrpc

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestAsBool(t *testing.T) {
	tests := []struct {
		v    any
		want bool
		ok   bool
	}{
		{true, true, true}, {false, false, true},
		{int64(1), true, true}, {int64(0), false, true}, {int64(2), false, false},
		{"Y", true, true}, {"n", false, true}, {"TRUE", true, true}, {"False", false, true},
		{"1", true, true}, {"0", false, true}, {" y ", true, true},
		{"yes", false, false}, {"", false, false}, {1.0, false, false}, {nil, false, false},
	}
	for _, tt := range tests {
		got, err := AsBool("overwritePINs", tt.v)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("AsBool(%#v) = %v, %v; want %v, ok=%v", tt.v, got, err, tt.want, tt.ok)
		}
		if err != nil && !strings.Contains(err.Error(), `parameter "overwritePINs"`) {
			t.Errorf("AsBool(%#v) error %q does not name the parameter", tt.v, err)
		}
	}
}

func TestAsInt(t *testing.T) {
	tests := []struct {
		v    any
		want int
		ok   bool
	}{
		{int64(5), 5, true}, {int64(-1), -1, true}, {7, 7, true},
		{3.0, 3, true}, {3.5, 0, false}, {math.Inf(1), 0, false}, {1e300, 0, false},
		{" 12 ", 12, true}, {"1.5", 0, false}, {"x", 0, false}, {true, 0, false}, {nil, 0, false},
	}
	for _, tt := range tests {
		got, err := AsInt("limit", tt.v)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("AsInt(%#v) = %v, %v; want %v, ok=%v", tt.v, got, err, tt.want, tt.ok)
		}
	}
}

func TestAsFloat(t *testing.T) {
	tests := []struct {
		v    any
		want float64
		ok   bool
	}{
		{-1.25, -1.25, true}, {int64(3), 3, true}, {"10.50", 10.5, true}, {" -2 ", -2, true},
		{math.NaN(), 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"0x10", 0, false},
		{"1_000", 0, false}, {"abc", 0, false}, {false, 0, false},
	}
	for _, tt := range tests {
		got, err := AsFloat("amount", tt.v)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("AsFloat(%#v) = %v, %v; want %v, ok=%v", tt.v, got, err, tt.want, tt.ok)
		}
	}
}

func TestAsString(t *testing.T) {
	tests := []struct {
		v    any
		want string
		ok   bool
	}{
		{"alice", "alice", true}, {"", "", true}, {int64(123456), "123456", true},
		{true, "", false}, {1.5, "", false}, {nil, "", false}, {[]any{"a"}, "", false},
	}
	for _, tt := range tests {
		got, err := AsString("user", tt.v)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("AsString(%#v) = %q, %v; want %q, ok=%v", tt.v, got, err, tt.want, tt.ok)
		}
	}
	_, err := AsString("user", map[string]any{})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Param != "user" || err.Error() != `parameter "user": expected a string, got a struct` {
		t.Errorf("error = %v", err)
	}
}

func TestAsStringSliceAndPairs(t *testing.T) {
	got, err := AsStringSlice("props", []any{"email", "full-name"})
	if err != nil || !reflect.DeepEqual(got, []string{"email", "full-name"}) {
		t.Errorf("AsStringSlice = %v, %v", got, err)
	}
	if _, err := AsStringSlice("props", []any{"a", true}); err == nil || !strings.Contains(err.Error(), `parameter "props[2]"`) {
		t.Errorf("AsStringSlice error = %v, want it to name props[2]", err)
	}
	if _, err := AsStringSlice("props", "email"); err == nil {
		t.Error("AsStringSlice accepted a plain string")
	}
	pairs, err := AsStringPairs("properties", []any{[]any{"email", "a@b"}, []any{"notes", ""}})
	if err != nil || !reflect.DeepEqual(pairs, [][2]string{{"email", "a@b"}, {"notes", ""}}) {
		t.Errorf("AsStringPairs = %v, %v", pairs, err)
	}
	if _, err := AsStringPairs("properties", []any{[]any{"email"}}); err == nil || !strings.Contains(err.Error(), `"properties[1]": expected [name, value], got 1 elements`) {
		t.Errorf("AsStringPairs error = %v", err)
	}
	if _, err := AsStringPairs("properties", "x"); err == nil {
		t.Error("AsStringPairs accepted a string")
	}
}
