package xmlrpc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxEncodeDepth stops encoding a value that contains itself.
const maxEncodeDepth = 64

// EncodeResponse writes a methodResponse holding v as its one param. Strings go out bare
// (<value>text</value>, as PaperCut answers); int types become <int> (<i8> beyond 32 bits),
// bool <boolean>, floats <double>, time.Time <dateTime.iso8601> in server local time,
// []byte <base64>, other slices <array>, maps with string keys <struct> (keys sorted) and
// nil an empty string. Nothing is written when v cannot be encoded.
func EncodeResponse(w io.Writer, v any) error {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><params><param>")
	if err := encodeValue(&b, v, 0); err != nil {
		return fmt.Errorf("xmlrpc: unable to encode response: %w", err)
	}
	b.WriteString("</param></params></methodResponse>\n")
	return write(w, b.String(), "response")
}

// EncodeFault writes a methodResponse holding a fault: faultString, then
// faultCode as an <int>, in PaperCut's order (some clients read the two
// members by position).
func EncodeFault(w io.Writer, code int, msg string) error {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodResponse><fault><value><struct>")
	b.WriteString("<member><name>faultString</name><value>")
	escapeText(&b, msg)
	b.WriteString("</value></member><member><name>faultCode</name><value><int>")
	b.WriteString(strconv.Itoa(code))
	b.WriteString("</int></value></member></struct></value></fault></methodResponse>\n")
	return write(w, b.String(), "fault")
}

// Member is one member of a Struct.
type Member struct {
	Name  string
	Value any
}

// Struct is a <struct> whose members go out in the order given, for
// answers whose order PaperCut's clients depend on (getTaskStatus:
// completed, then message). A map's members go out sorted by name.
type Struct []Member

// EncodeCall writes a methodCall, for Go clients of the API and for tests.
func EncodeCall(w io.Writer, method string, params []any) error {
	if !validMethodName(method) {
		return fmt.Errorf("xmlrpc: method name %q is not valid", method)
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<methodCall><methodName>")
	b.WriteString(method)
	b.WriteString("</methodName><params>")
	for i, v := range params {
		b.WriteString("<param>")
		if err := encodeValue(&b, v, 0); err != nil {
			return fmt.Errorf("xmlrpc: unable to encode param %d of %s: %w", i+1, method, err)
		}
		b.WriteString("</param>")
	}
	b.WriteString("</params></methodCall>\n")
	return write(w, b.String(), "call")
}

func write(w io.Writer, s, what string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("xmlrpc: unable to write %s: %w", what, err)
	}
	return nil
}

var (
	timeType  = reflect.TypeFor[time.Time]()
	bytesType = reflect.TypeFor[[]byte]()
)

func encodeValue(b *strings.Builder, v any, depth int) error {
	if depth > maxEncodeDepth {
		return fmt.Errorf("value nested deeper than %d", maxEncodeDepth)
	}
	// The common types go without reflection: this is the hot path of card lookups.
	switch x := v.(type) {
	case nil:
		b.WriteString("<value></value>")
		return nil
	case string:
		b.WriteString("<value>")
		escapeText(b, x)
		b.WriteString("</value>")
		return nil
	case bool:
		if x {
			b.WriteString("<value><boolean>1</boolean></value>")
		} else {
			b.WriteString("<value><boolean>0</boolean></value>")
		}
		return nil
	case int:
		writeInt(b, int64(x))
		return nil
	case int64:
		writeInt(b, x)
		return nil
	case float64:
		return writeDouble(b, x)
	case time.Time:
		return writeDateTime(b, x)
	case Struct:
		b.WriteString("<value><struct>")
		for _, m := range x {
			b.WriteString("<member><name>")
			escapeText(b, m.Name)
			b.WriteString("</name>")
			if err := encodeValue(b, m.Value, depth+1); err != nil {
				return fmt.Errorf("member %q: %w", m.Name, err)
			}
			b.WriteString("</member>")
		}
		b.WriteString("</struct></value>")
		return nil
	case []byte:
		b.WriteString("<value><base64>")
		b.WriteString(base64.StdEncoding.EncodeToString(x))
		b.WriteString("</base64></value>")
		return nil
	case []any:
		b.WriteString("<value><array><data>")
		for i, e := range x {
			if err := encodeValue(b, e, depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i+1, err)
			}
		}
		b.WriteString("</data></array></value>")
		return nil
	case []string:
		b.WriteString("<value><array><data>")
		for _, e := range x {
			b.WriteString("<value>")
			escapeText(b, e)
			b.WriteString("</value>")
		}
		b.WriteString("</data></array></value>")
		return nil
	}
	return encodeReflect(b, reflect.ValueOf(v), depth)
}

func encodeReflect(b *strings.Builder, rv reflect.Value, depth int) error {
	switch rv.Kind() {
	case reflect.String:
		return encodeValue(b, rv.String(), depth)
	case reflect.Bool:
		return encodeValue(b, rv.Bool(), depth)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		writeInt(b, rv.Int())
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return fmt.Errorf("integer %d does not fit in 64 signed bits", rv.Uint())
		}
		writeInt(b, int64(rv.Uint()))
		return nil
	case reflect.Float32, reflect.Float64:
		return writeDouble(b, rv.Float())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return encodeValue(b, nil, depth)
		}
		return encodeValue(b, rv.Elem().Interface(), depth+1)
	case reflect.Struct:
		if rv.Type() == timeType {
			return writeDateTime(b, rv.Interface().(time.Time))
		}
	case reflect.Slice, reflect.Array:
		if rv.Type().ConvertibleTo(bytesType) && rv.Kind() == reflect.Slice {
			return encodeValue(b, rv.Convert(bytesType).Interface(), depth)
		}
		b.WriteString("<value><array><data>")
		for i := range rv.Len() {
			if err := encodeValue(b, rv.Index(i).Interface(), depth+1); err != nil {
				return fmt.Errorf("element %d: %w", i+1, err)
			}
		}
		b.WriteString("</data></array></value>")
		return nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("map key type %s is not a string", rv.Type().Key())
		}
		keys := make([]string, 0, rv.Len())
		for _, k := range rv.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		b.WriteString("<value><struct>")
		for _, k := range keys {
			b.WriteString("<member><name>")
			escapeText(b, k)
			b.WriteString("</name>")
			e := rv.MapIndex(reflect.ValueOf(k).Convert(rv.Type().Key()))
			if err := encodeValue(b, e.Interface(), depth+1); err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
			b.WriteString("</member>")
		}
		b.WriteString("</struct></value>")
		return nil
	}
	if !rv.IsValid() {
		return encodeValue(b, nil, depth)
	}
	return fmt.Errorf("type %s cannot be sent over XML-RPC", rv.Type())
}

func writeInt(b *strings.Builder, n int64) {
	// Java clients (PaperCut's own) refuse <int> beyond 32 bits but read <i8>.
	tag := "int"
	if n < math.MinInt32 || n > math.MaxInt32 {
		tag = "i8"
	}
	b.WriteString("<value><" + tag + ">")
	b.WriteString(strconv.FormatInt(n, 10))
	b.WriteString("</" + tag + "></value>")
}

func writeDouble(b *strings.Builder, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("double is not a finite number")
	}
	// Plain decimal notation: the XML-RPC specification has no exponents, and -1 precision
	// keeps the shortest form that reads back as the same float64.
	b.WriteString("<value><double>")
	b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
	b.WriteString("</double></value>")
	return nil
}

func writeDateTime(b *strings.Builder, t time.Time) error {
	t = t.In(time.Local)
	if t.Year() < 0 || t.Year() > 9999 {
		return fmt.Errorf("year %d cannot be sent as dateTime.iso8601", t.Year())
	}
	layout := "20060102T15:04:05"
	if t.Nanosecond() != 0 {
		layout = "20060102T15:04:05.999999999"
	}
	b.WriteString("<value><dateTime.iso8601>")
	b.WriteString(t.Format(layout))
	b.WriteString("</dateTime.iso8601></value>")
	return nil
}

// escapeText writes s as XML character data. Characters XML 1.0 cannot carry (most
// control characters, invalid UTF-8) become U+FFFD; carriage returns are written as
// references because a parser would otherwise turn them into line feeds.
func escapeText(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		var repl string
		switch {
		case r == '<':
			repl = "&lt;"
		case r == '>':
			repl = "&gt;"
		case r == '&':
			repl = "&amp;"
		case r == '\r':
			repl = "&#xD;"
		case r == utf8.RuneError && width == 1, !xmlChar(r):
			repl = "\uFFFD"
		default:
			i += width
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(repl)
		i += width
		last = i
	}
	b.WriteString(s[last:])
}

// xmlChar reports whether r is allowed in an XML 1.0 document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}
