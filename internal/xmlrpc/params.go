package xmlrpc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParamError tells an API caller which parameter of a call is wrong and why.
type ParamError struct {
	Param string // the parameter's name in the command table, e.g. "balance"
	Msg   string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %q: %s", e.Param, e.Msg)
}

func paramError(param, format string, args ...any) error {
	return &ParamError{Param: param, Msg: fmt.Sprintf(format, args...)}
}

// describe names a decoded value's XML-RPC type, for error messages.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case string:
		return fmt.Sprintf("string %q", clip(x))
	case int64:
		return fmt.Sprintf("int %d", x)
	case bool:
		return fmt.Sprintf("boolean %t", x)
	case float64:
		return fmt.Sprintf("double %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a struct"
	case []byte:
		return "base64 data"
	}
	return fmt.Sprintf("a %T", v)
}

// AsString accepts a string, or an integer for scripts that send card numbers as <int>.
func AsString(param string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", paramError(param, "expected a string, got %s", describe(v))
}

// AsInt accepts an integer, a whole double, or a string holding an integer.
func AsInt(param string, v any) (int, error) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		return x, nil
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return 0, paramError(param, "expected an integer, got %s", describe(v))
		}
		n = int64(x)
	case string:
		parsed, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, paramError(param, "expected an integer, got %s", describe(v))
		}
		n = parsed
	default:
		return 0, paramError(param, "expected an integer, got %s", describe(v))
	}
	if n < math.MinInt || n > math.MaxInt {
		return 0, paramError(param, "integer %d is out of range", n)
	}
	return int(n), nil
}

// AsBool accepts a boolean, the integers 0 and 1, and the strings Y, N, true, false, 1
// and 0 in any case, as PaperCut does.
func AsBool(param string, v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case int64:
		switch x {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	case int:
		switch x {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "y", "true", "1":
			return true, nil
		case "n", "false", "0":
			return false, nil
		}
	}
	return false, paramError(param, "expected a boolean (true/false, Y/N or 1/0), got %s", describe(v))
}

// AsFloat accepts a double, an integer or a string holding a finite decimal number.
func AsFloat(param string, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, nil
		}
	case int64:
		return float64(x), nil
	case int:
		return float64(x), nil
	case string:
		s := strings.TrimSpace(x)
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) && !strings.ContainsAny(s, "xXpP_") {
			return f, nil
		}
	}
	return 0, paramError(param, "expected a number, got %s", describe(v))
}

// AsStringSlice accepts an array whose elements AsString accepts.
func AsStringSlice(param string, v any) ([]string, error) {
	switch x := v.(type) {
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, err := AsString(fmt.Sprintf("%s[%d]", param, i+1), e)
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, paramError(param, "expected an array of strings, got %s", describe(v))
}

// AsStringPairs accepts an array of two-string arrays, the [[property, value]…] shape of
// setUserProperties and setSharedAccountProperties.
func AsStringPairs(param string, v any) ([][2]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, paramError(param, "expected an array of [name, value] arrays, got %s", describe(v))
	}
	out := make([][2]string, len(list))
	for i, e := range list {
		name := fmt.Sprintf("%s[%d]", param, i+1)
		pair, err := AsStringSlice(name, e)
		if err != nil {
			return nil, err
		}
		if len(pair) != 2 {
			return nil, paramError(name, "expected [name, value], got %d elements", len(pair))
		}
		out[i] = [2]string{pair[0], pair[1]}
	}
	return out, nil
}
