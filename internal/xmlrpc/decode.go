package xmlrpc

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// DecodeCall reads one methodCall from r. Strings (typed or untyped) become string,
// <i4>/<int>/<i8> int64, <boolean> bool, <double> float64, <dateTime.iso8601> time.Time
// (server local time when no zone is given), <base64> []byte, <array> []any,
// <struct> map[string]any and <nil/> nil. Every refusal is a *DecodeError.
func DecodeCall(r io.Reader, lim Limits) (method string, params []any, err error) {
	c := decodeSmallCall(r, lim)
	defer smallCallBuffers.Put(c.buf)
	if c.done {
		return c.method, c.params, nil
	}
	return decodeCall(c.rest, lim)
}

// decodeCall is DecodeCall's full decoder, for every call the fast path
// (fastcall.go) leaves to it.
func decodeCall(r io.Reader, lim Limits) (method string, params []any, err error) {
	p := newDecoder(r, lim, "request")
	defer p.release()
	if err := p.expectStart("methodCall"); err != nil {
		return "", nil, err
	}
	if err := p.expectStart("methodName"); err != nil {
		return "", nil, err
	}
	name, err := p.text("methodName")
	if err != nil {
		return "", nil, err
	}
	method = strings.TrimSpace(name)
	if !validMethodName(method) {
		return "", nil, p.fail("method name %q is not valid", clip(method))
	}
	params = []any{}
	t, err := p.nextElement("<params> or </methodCall>")
	if err != nil {
		return "", nil, err
	}
	if start, ok := t.(xml.StartElement); ok {
		if start.Name.Local != "params" {
			return "", nil, p.fail("expected <params>, found <%s>", start.Name.Local)
		}
		if params, err = p.params(); err != nil {
			return "", nil, err
		}
		if err := p.expectEnd("methodCall"); err != nil {
			return "", nil, err
		}
	}
	if err := p.finish("methodCall"); err != nil {
		return "", nil, err
	}
	return method, params, nil
}

// DecodeResponse reads one methodResponse from r and returns its value, or a *Fault when
// the server answered with a fault.
func DecodeResponse(r io.Reader, lim Limits) (any, error) {
	p := newDecoder(r, lim, "response")
	defer p.release()
	if err := p.expectStart("methodResponse"); err != nil {
		return nil, err
	}
	t, err := p.nextElement("<params> or <fault>")
	if err != nil {
		return nil, err
	}
	start, ok := t.(xml.StartElement)
	if !ok {
		return nil, p.fail("<methodResponse> holds neither <params> nor <fault>")
	}
	var result any
	switch start.Name.Local {
	case "params":
		params, err := p.params()
		if err != nil {
			return nil, err
		}
		if len(params) != 1 {
			return nil, p.fail("response holds %d params, expected 1", len(params))
		}
		result = params[0]
	case "fault":
		p.path = append(p.path, "fault")
		if err := p.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd("fault"); err != nil {
			return nil, err
		}
		f, err := faultFrom(v)
		if err != nil {
			return nil, p.fail("%s", err)
		}
		result = f
	default:
		return nil, p.fail("expected <params> or <fault>, found <%s>", start.Name.Local)
	}
	if err := p.expectEnd("methodResponse"); err != nil {
		return nil, err
	}
	if err := p.finish("methodResponse"); err != nil {
		return nil, err
	}
	if f, ok := result.(*Fault); ok {
		return nil, f
	}
	return result, nil
}

func faultFrom(v any) (*Fault, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("fault value is not a struct")
	}
	code, ok := m["faultCode"].(int64)
	if !ok || code < math.MinInt32 || code > math.MaxInt32 {
		return nil, errors.New("fault has no integer faultCode")
	}
	msg, ok := m["faultString"].(string)
	if !ok {
		return nil, errors.New("fault has no faultString string")
	}
	return &Fault{Code: int(code), Message: msg}, nil
}

// errTooLarge is returned by boundedReader once the body passes Limits.MaxBytes.
var errTooLarge = errors.New("body too large")

// boundedReader stops a body at max bytes and remembers why reading stopped, so that the
// decoder can tell an oversized body and a failing connection from bad XML.
type boundedReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

func (b *boundedReader) Read(buf []byte) (int, error) {
	if b.n > b.max {
		return 0, errTooLarge
	}
	if room := b.max + 1 - b.n; int64(len(buf)) > room {
		buf = buf[:room]
	}
	n, err := b.r.Read(buf)
	b.n += int64(n)
	if b.n > b.max {
		b.err = errTooLarge
		return 0, errTooLarge
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

type decoder struct {
	d    *xml.Decoder
	buf  *bufio.Reader
	body *boundedReader
	lim  Limits
	what string   // "request" or "response", for messages
	path []string // where in the document we are, e.g. "param 2", "element 3"
	// depth is the current XML element nesting; seenRoot tells the XML declaration from
	// a processing instruction inside the document.
	depth    int
	seenRoot bool
}

// readBuffers are reused between calls: encoding/xml would otherwise make a
// fresh 4 KiB buffer for every request, a tenth of a card lookup's cost.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

func newDecoder(r io.Reader, lim Limits, what string) *decoder {
	body := &boundedReader{r: r, max: lim.MaxBytes}
	buf := readBuffers.Get().(*bufio.Reader)
	buf.Reset(body)
	d := xml.NewDecoder(buf) // a ByteReader: used as it is
	d.Strict = true
	d.CharsetReader = charsetReader
	return &decoder{d: d, body: body, lim: lim, what: what, buf: buf}
}

// release gives the read buffer back; the decoder is not used after it.
func (p *decoder) release() {
	p.buf.Reset(nil)
	readBuffers.Put(p.buf)
	p.buf = nil
}

// fail builds a *DecodeError at the current position, prefixed with the current path.
func (p *decoder) fail(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(p.path) > 0 {
		msg = strings.Join(p.path, ", ") + ": " + msg
	}
	line, _ := p.d.InputPos()
	return &DecodeError{Line: line, Msg: msg}
}

// next returns the next token that matters, enforcing the depth limit and refusing
// DOCTYPE (hence any entity definition) and processing instructions.
func (p *decoder) next() (xml.Token, error) {
	for {
		t, err := p.d.Token()
		if err != nil {
			return nil, p.readError(err)
		}
		switch t := t.(type) {
		case xml.StartElement:
			p.seenRoot = true
			p.depth++
			if p.depth > p.lim.MaxDepth {
				return nil, p.fail("XML nesting deeper than %d", p.lim.MaxDepth)
			}
			return t, nil
		case xml.EndElement:
			p.depth--
			return t, nil
		case xml.CharData:
			return t, nil
		case xml.Comment:
			continue
		case xml.ProcInst:
			if t.Target == "xml" && !p.seenRoot {
				continue
			}
			return nil, p.fail("processing instruction <?%s?> is not allowed", clip(t.Target))
		case xml.Directive:
			return nil, p.fail("DOCTYPE and other <!...> declarations are not allowed")
		}
	}
}

func (p *decoder) readError(err error) error {
	if err == io.EOF {
		return err
	}
	if p.body.err == errTooLarge {
		return &DecodeError{Msg: fmt.Sprintf("%s body larger than %d bytes", p.what, p.lim.MaxBytes), TooLarge: true}
	}
	if p.body.err != nil {
		return fmt.Errorf("xmlrpc: unable to read %s body: %w", p.what, p.body.err)
	}
	var syntax *xml.SyntaxError
	if errors.As(err, &syntax) {
		return &DecodeError{Line: syntax.Line, Msg: "malformed XML: " + syntax.Msg}
	}
	line, _ := p.d.InputPos()
	return &DecodeError{Line: line, Msg: "malformed XML: " + strings.TrimPrefix(err.Error(), "xml: ")}
}

// nextElement skips whitespace and returns the next start or end element.
func (p *decoder) nextElement(expected string) (xml.Token, error) {
	for {
		t, err := p.next()
		if err == io.EOF {
			if !p.seenRoot {
				return nil, p.fail("%s body is empty", p.what)
			}
			return nil, p.fail("unexpected end of %s, expected %s", p.what, expected)
		}
		if err != nil {
			return nil, err
		}
		if text, ok := t.(xml.CharData); ok {
			if isSpace(text) {
				continue
			}
			return nil, p.fail("unexpected text %q, expected %s", clip(string(text)), expected)
		}
		return t, nil
	}
}

func (p *decoder) expectStart(name string) error {
	t, err := p.nextElement("<" + name + ">")
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case xml.StartElement:
		if t.Name.Local != name {
			return p.fail("expected <%s>, found <%s>", name, clip(t.Name.Local))
		}
	case xml.EndElement:
		return p.fail("expected <%s>, found </%s>", name, clip(t.Name.Local))
	}
	return nil
}

func (p *decoder) expectEnd(name string) error {
	t, err := p.nextElement("</" + name + ">")
	if err != nil {
		return err
	}
	if start, ok := t.(xml.StartElement); ok {
		return p.fail("expected </%s>, found <%s>", name, clip(start.Name.Local))
	}
	return nil
}

// finish makes sure nothing but whitespace and comments follows the root element.
func (p *decoder) finish(root string) error {
	for {
		t, err := p.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if text, ok := t.(xml.CharData); ok && isSpace(text) {
			continue
		}
		return p.fail("unexpected content after </%s>", root)
	}
}

// text reads the character data of a leaf element up to its end tag.
func (p *decoder) text(element string) (string, error) {
	var buf []byte
	for {
		t, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(buf)+len(t) > p.lim.MaxStringLen {
				return "", p.fail("<%s> text longer than %d bytes", element, p.lim.MaxStringLen)
			}
			buf = append(buf, t...)
		case xml.StartElement:
			return "", p.fail("<%s> must hold only text, found <%s>", element, clip(t.Name.Local))
		case xml.EndElement:
			return string(buf), nil
		}
	}
}

// params reads <param> elements up to </params>.
func (p *decoder) params() ([]any, error) {
	params := []any{}
	for {
		t, err := p.nextElement("<param> or </params>")
		if err != nil {
			return nil, err
		}
		start, ok := t.(xml.StartElement)
		if !ok {
			return params, nil
		}
		if start.Name.Local != "param" {
			return nil, p.fail("expected <param>, found <%s>", clip(start.Name.Local))
		}
		if len(params) == p.lim.MaxArrayLen {
			return nil, p.fail("more than %d params", p.lim.MaxArrayLen)
		}
		p.path = append(p.path, fmt.Sprintf("param %d", len(params)+1))
		if err := p.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd("param"); err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		params = append(params, v)
	}
}

// value reads what follows <value> up to </value>: untyped text is a string.
func (p *decoder) value() (any, error) {
	var buf []byte
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.CharData:
			if len(buf)+len(t) > p.lim.MaxStringLen {
				return nil, p.fail("string longer than %d bytes", p.lim.MaxStringLen)
			}
			buf = append(buf, t...)
		case xml.EndElement:
			return string(buf), nil
		case xml.StartElement:
			if !isSpace(buf) {
				return nil, p.fail("text %q mixed with <%s> in a <value>", clip(string(buf)), clip(t.Name.Local))
			}
			v, err := p.typed(t.Name.Local)
			if err != nil {
				return nil, err
			}
			if err := p.expectEnd("value"); err != nil {
				return nil, err
			}
			return v, nil
		}
	}
}

// typed reads the inside of a typed value element, whose start tag has been read.
func (p *decoder) typed(kind string) (any, error) {
	switch kind {
	case "array":
		return p.array()
	case "struct":
		return p.structure()
	}
	s, err := p.text(kind)
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimSpace(s)
	switch kind {
	case "string":
		return s, nil
	case "i4", "int":
		// XML-RPC's <int> is a signed 32-bit number; a bigger one is a
		// client error to report, not a value to take.
		n, err := strconv.ParseInt(trimmed, 10, 32)
		if errors.Is(err, strconv.ErrRange) {
			return nil, p.fail("<%s> value %q is outside the 32-bit range of <int> (-2147483648 to 2147483647); send it as <i8>", kind, clip(s))
		}
		if err != nil {
			return nil, p.fail("<%s> value %q is not an integer", kind, clip(s))
		}
		return n, nil
	case "i8":
		n, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil {
			return nil, p.fail("<i8> value %q is not a 64-bit integer", clip(s))
		}
		return n, nil
	case "boolean":
		switch strings.ToLower(trimmed) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, p.fail("<boolean> value %q is not 0 or 1", clip(s))
	case "double":
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(trimmed, "xXpP_") {
			return nil, p.fail("<double> value %q is not a finite decimal number", clip(s))
		}
		return f, nil
	case "dateTime.iso8601":
		tm, ok := parseDateTime(trimmed)
		if !ok {
			return nil, p.fail("<dateTime.iso8601> value %q is not a date and time like 20260102T15:04:05", clip(s))
		}
		return tm, nil
	case "base64":
		b, err := base64.StdEncoding.DecodeString(stripSpace(s))
		if err != nil {
			return nil, p.fail("<base64> value is not valid base64: %v", err)
		}
		return b, nil
	case "nil":
		if trimmed != "" {
			return nil, p.fail("<nil/> must be empty")
		}
		return nil, nil
	}
	return nil, p.fail("unknown value type <%s>", clip(kind))
}

func (p *decoder) array() ([]any, error) {
	if err := p.expectStart("data"); err != nil {
		return nil, err
	}
	elems := []any{}
	for {
		t, err := p.nextElement("<value> or </data>")
		if err != nil {
			return nil, err
		}
		start, ok := t.(xml.StartElement)
		if !ok {
			break
		}
		if start.Name.Local != "value" {
			return nil, p.fail("expected <value> in <data>, found <%s>", clip(start.Name.Local))
		}
		if len(elems) == p.lim.MaxArrayLen {
			return nil, p.fail("array longer than %d elements", p.lim.MaxArrayLen)
		}
		p.path = append(p.path, fmt.Sprintf("element %d", len(elems)+1))
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		elems = append(elems, v)
	}
	if err := p.expectEnd("array"); err != nil {
		return nil, err
	}
	return elems, nil
}

func (p *decoder) structure() (map[string]any, error) {
	members := map[string]any{}
	for {
		t, err := p.nextElement("<member> or </struct>")
		if err != nil {
			return nil, err
		}
		start, ok := t.(xml.StartElement)
		if !ok {
			return members, nil
		}
		if start.Name.Local != "member" {
			return nil, p.fail("expected <member> in <struct>, found <%s>", clip(start.Name.Local))
		}
		if len(members) == p.lim.MaxArrayLen {
			return nil, p.fail("struct has more than %d members", p.lim.MaxArrayLen)
		}
		if err := p.expectStart("name"); err != nil {
			return nil, err
		}
		name, err := p.text("name")
		if err != nil {
			return nil, err
		}
		if _, dup := members[name]; dup {
			return nil, p.fail("struct member %q given twice", clip(name))
		}
		p.path = append(p.path, fmt.Sprintf("member %q", clip(name)))
		if err := p.expectStart("value"); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.expectEnd("member"); err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		members[name] = v
	}
}

// dateTimeLayouts are the forms PaperCut's Java clients, Python and other libraries send;
// time.Parse also accepts a fractional second after the seconds.
var dateTimeLayouts = []string{
	"20060102T15:04:05",
	"20060102T15:04:05Z07:00",
	"20060102T15:04:05Z0700",
	"20060102T150405",
	"20060102T150405Z07:00",
	"20060102T150405Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
}

func parseDateTime(s string) (time.Time, bool) {
	for _, layout := range dateTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// validMethodName follows the XML-RPC specification: letters, digits, _ . : /
func validMethodName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_' || c == '.' || c == ':' || c == '/':
		default:
			return false
		}
	}
	return true
}

func isSpace(b []byte) bool {
	return len(bytes.TrimLeft(b, " \t\r\n")) == 0
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// clip shortens what an error quotes, so a huge bad value does not make a huge fault.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// charsetReader lets older clients declare Latin-1 or ASCII; UTF-8 needs no conversion.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return &latin1Reader{r: input}, nil
	}
	return nil, fmt.Errorf("character encoding %q is not supported, send UTF-8", label)
}

// latin1Reader turns ISO-8859-1 bytes into UTF-8.
type latin1Reader struct {
	r       io.Reader
	pending []byte
}

func (l *latin1Reader) Read(buf []byte) (int, error) {
	if len(l.pending) == 0 {
		raw := make([]byte, (len(buf)+1)/2)
		n, err := l.r.Read(raw)
		for _, c := range raw[:n] {
			l.pending = utf8.AppendRune(l.pending, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(buf, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}
