// Package xmlrpc is the XML-RPC codec of Ream's web services API (SPEC §7): it decodes
// PaperCut-style calls into plain Go values, encodes responses and faults the way PaperCut
// does (strings bare, faults with a clear faultString), and bounds every input (SPEC §10).
package xmlrpc

import (
	"fmt"
)

// Limits bounds what a decoder accepts, so that one request cannot exhaust the server.
type Limits struct {
	MaxBytes     int64 // whole request or response body
	MaxDepth     int   // XML element nesting, counting the root element as 1
	MaxArrayLen  int   // elements of one <array>, members of one <struct>, params of one call
	MaxStringLen int   // bytes of one string, base64 text, member name or method name
}

// MaxRequestBytes is the one limit on an XML-RPC request body (32 MiB, stated in the
// README): batch import files arrive as one string parameter, so it is generous. A
// bigger request is answered with HTTP 413 and a fault naming this limit.
const MaxRequestBytes = 32 << 20

// DrainAllowance is how much of an oversized request body a server still reads (and
// throws away) before answering 413, so that a client that writes its whole body before
// reading the answer (Python's xmlrpc.client does) gets the fault instead of a broken
// pipe. Beyond it the connection is simply closed.
const DrainAllowance = 64 << 20

// DefaultLimits suits the API: the body and string limits are generous, while nesting
// stays shallow because no PaperCut method takes more than an array of arrays.
var DefaultLimits = Limits{
	MaxBytes:     MaxRequestBytes,
	MaxDepth:     16,
	MaxArrayLen:  100_000,
	MaxStringLen: MaxRequestBytes,
}

// DecodeError reports a request or response that is not acceptable XML-RPC, in words a
// caller can act on; it becomes the faultString of the answer.
type DecodeError struct {
	Line int    // line of the input where the problem was found, 0 when not tied to one
	Msg  string // what is wrong, naming the parameter when there is one
	// TooLarge marks a body over Limits.MaxBytes, which HTTP answers with 413.
	TooLarge bool
}

func (e *DecodeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("xmlrpc: line %d: %s", e.Line, e.Msg)
	}
	return "xmlrpc: " + e.Msg
}

// Fault is an XML-RPC fault answered by a server.
type Fault struct {
	Code    int
	Message string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("xmlrpc: fault %d: %s", f.Code, f.Message)
}
