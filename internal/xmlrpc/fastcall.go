package xmlrpc

import (
	"bytes"
	"io"
	"sync"
)

// The fast path. A card lookup's whole request is one small methodCall of
// a few plain string parameters, and going through encoding/xml's token
// stream was 46% of the server's time for it (BenchmarkCardLookupHandler,
// profiled: 24 µs of 52 µs per call). fastCall reads exactly that shape
// straight from the bytes: a methodCall of ASCII text without entities,
// carriage returns or control characters, whose parameters are <string>
// or untyped values. Anything else — another type, an entity, a comment,
// an attribute, non-ASCII text, a limit reached — is not an error here:
// the full decoder reads the same bytes and gives its own answer or
// refusal. FuzzFastCallAgrees checks that whenever the fast path answers,
// the full decoder answers the same.

// fastCallMax is the largest body the fast path is tried on; a bigger one
// is streamed through the full decoder as before.
const fastCallMax = 4096

// smallCall is what decodeSmallCall found: a call the fast path read
// (done), or the reader the full decoder goes on with (rest). buf goes
// back to smallCallBuffers once rest is read.
type smallCall struct {
	method string
	params []any
	done   bool
	rest   io.Reader
	buf    *[]byte
}

// decodeSmallCall reads the first fastCallMax+1 bytes of r: a body that
// ends within them is tried on the fast path, then on the full decoder;
// a longer one goes on to the full decoder as a stream.
func decodeSmallCall(r io.Reader, lim Limits) smallCall {
	c := smallCall{buf: smallCallBuffers.Get().(*[]byte)}
	n, err := io.ReadFull(r, *c.buf)
	read := (*c.buf)[:n]
	switch err {
	case io.EOF, io.ErrUnexpectedEOF:
		if m, p, ok := fastCall(read, lim); ok {
			c.method, c.params, c.done = m, p, true
		} else {
			c.rest = bytes.NewReader(read)
		}
	case nil:
		c.rest = io.MultiReader(bytes.NewReader(read), r)
	default:
		// A read error: the full decoder meets it again and names it.
		c.rest = io.MultiReader(bytes.NewReader(read), errReader{err})
	}
	return c
}

// smallCallBuffers are the fast path's windows, reused: the parameters it
// returns are copies.
var smallCallBuffers = sync.Pool{New: func() any { b := make([]byte, fastCallMax+1); return &b }}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// fastCall parses the simple shape described above; ok is false for
// anything else.
func fastCall(b []byte, lim Limits) (method string, params []any, ok bool) {
	if lim.MaxDepth < 5 || int64(len(b)) > lim.MaxBytes {
		return "", nil, false
	}
	for _, c := range b {
		if c >= 0x80 || c == '&' || c == '\r' || c < 0x20 && c != '\n' && c != '\t' {
			return "", nil, false
		}
	}
	s := fastScanner{b: b}
	s.space()
	if bytes.HasPrefix(s.b, []byte("<?xml")) {
		end := bytes.Index(s.b, []byte("?>"))
		if end < 0 {
			return "", nil, false
		}
		switch string(s.b[:end+2]) {
		case `<?xml version="1.0"?>`, `<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0" encoding="utf-8"?>`:
		default:
			return "", nil, false
		}
		s.b = s.b[end+2:]
		s.space()
	}
	if !s.tag("<methodCall>") || !s.space() || !s.tag("<methodName>") {
		return "", nil, false
	}
	name, ok := s.text()
	if !ok || !s.tag("</methodName>") {
		return "", nil, false
	}
	method = string(bytes.TrimSpace(name))
	if !validMethodName(method) || len(name) > lim.MaxStringLen {
		return "", nil, false
	}
	params = []any{}
	s.space()
	if s.tag("<params>") {
		for {
			s.space()
			if s.tag("</params>") {
				break
			}
			if !s.tag("<param>") || !s.space() || !s.tag("<value>") {
				return "", nil, false
			}
			lead := s.b
			v, ok := s.text()
			if !ok {
				return "", nil, false
			}
			if s.tag("<string>") {
				if !isSpace(v) {
					return "", nil, false
				}
				if v, ok = s.text(); !ok || !s.tag("</string>") {
					return "", nil, false
				}
				s.space()
			} else if len(v) == 0 && !bytes.HasPrefix(lead, []byte("</value>")) {
				return "", nil, false
			}
			if !s.tag("</value>") || !s.space() || !s.tag("</param>") {
				return "", nil, false
			}
			if len(v) > lim.MaxStringLen || len(params) >= lim.MaxArrayLen {
				return "", nil, false
			}
			params = append(params, string(v))
		}
		s.space()
	}
	if !s.tag("</methodCall>") {
		return "", nil, false
	}
	s.space()
	if len(s.b) != 0 {
		return "", nil, false
	}
	return method, params, true
}

type fastScanner struct{ b []byte }

// space skips white space; it always succeeds (true, for chaining).
func (s *fastScanner) space() bool {
	for len(s.b) > 0 && (s.b[0] == ' ' || s.b[0] == '\n' || s.b[0] == '\t') {
		s.b = s.b[1:]
	}
	return true
}

// tag consumes t when the input starts with it.
func (s *fastScanner) tag(t string) bool {
	if !bytes.HasPrefix(s.b, []byte(t)) {
		return false
	}
	s.b = s.b[len(t):]
	return true
}

// text consumes the characters up to the next '<'; a '>' in them (legal
// XML, but not worth the fast path) refuses.
func (s *fastScanner) text() ([]byte, bool) {
	i := bytes.IndexByte(s.b, '<')
	if i < 0 {
		return nil, false
	}
	t := s.b[:i]
	if bytes.IndexByte(t, '>') >= 0 {
		return nil, false
	}
	s.b = s.b[i:]
	return t, true
}
