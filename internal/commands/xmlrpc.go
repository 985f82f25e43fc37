package commands

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// Fault codes. PaperCut clients mostly read faultString; the codes let
// scripts tell bad input from a missing object.
const (
	FaultInternal  = 1
	FaultInvalid   = 2
	FaultNotFound  = 3
	FaultConflict  = 4
	FaultForbidden = 5
	FaultAuth      = 6
	FaultMethod    = 7
)

// XMLRPCHandler serves the table at POST /rpc/api/xmlrpc.
type XMLRPCHandler struct {
	Table  *Table
	Env    Env // template; Actor and FromAPI are set per call
	Config *config.Config
	Log    *slog.Logger
	Limits xmlrpc.Limits

	parsed atomic.Pointer[parsedTokens] // the tokens last read, see tokens
}

// parsedTokens are the tokens read from one value of the token setting
// (or of the configuration), kept so that a call does not parse a JSON
// list of tokens again while the value is the same.
type parsedTokens struct {
	raw     string
	setting bool
	tokens  []string
	err     error
}

func (h *XMLRPCHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, fault := h.serve(w, r)
	if method == "" {
		return // not an XML-RPC call at all
	}
	label := "none"
	if fault != 0 {
		label = faultLabel(fault)
	}
	metrics.APICalls.WithLabelValues(method, label).Inc()
}

// serve answers one call and says which method it was ("unknown" when it
// is none of the table's, "" for a request that is no call) and the fault
// it was answered with (0 for none), for ream_api_calls_total.
func (h *XMLRPCHandler) serve(w http.ResponseWriter, r *http.Request) (string, int) {
	method := "unknown"
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "XML-RPC takes POST requests", http.StatusMethodNotAllowed)
		return "", 0
	}
	addr := clientAddr(r)
	if !h.Config.AllowedAddress(addr) {
		return method, h.fault(w, FaultAuth, fmt.Sprintf("client address %s is not allowed to use the web services API (auth.webservices.allowed-addresses)", addr))
	}
	lim := h.Limits
	if lim.MaxBytes == 0 {
		lim = xmlrpc.DefaultLimits
	}
	if r.ContentLength > lim.MaxBytes {
		return method, h.tooLarge(w, r, lim)
	}
	called, params, err := xmlrpc.DecodeCall(r.Body, lim)
	if err != nil {
		var de *xmlrpc.DecodeError
		if errors.As(err, &de) && de.TooLarge {
			return method, h.tooLarge(w, r, lim)
		} else if errors.As(err, &de) {
			return method, h.fault(w, FaultInvalid, de.Error())
		}
		return method, h.fault(w, FaultInvalid, "unable to read the request: "+err.Error())
	}
	name, ok := strings.CutPrefix(called, "api.")
	cmd, found := h.Table.ByAPIName(name)
	if !ok || !found {
		return method, h.fault(w, FaultMethod, fmt.Sprintf("unknown method %q", called))
	}
	if cmd.CLIOnly {
		return method, h.fault(w, FaultMethod, fmt.Sprintf("%q is not a web-services method: %s runs only on the server's command line (server-command %s)", called, cmd.CLIName, cmd.CLIName))
	}
	method = called
	if !cmd.NoToken {
		if len(params) == 0 {
			return method, h.fault(w, FaultAuth, "missing auth token: the first parameter of every call is the web services auth token")
		}
		token, _ := params[0].(string)
		if !h.tokenValid(r.Context(), token) {
			h.Log.Warn("xmlrpc: invalid auth token", "method", method, "client", addr.String())
			return method, h.fault(w, FaultAuth, "invalid auth token")
		}
		params = params[1:]
	}
	args, err := convertAPIArgs(cmd, params)
	if err != nil {
		return method, h.fault(w, FaultInvalid, err.Error())
	}
	env := h.Env
	env.FromAPI = true
	env.Actor = core.Actor{Name: "api", Kind: model.ActorAPI, Address: addr.String(), AllAccounts: true}
	start := time.Now()
	result, err := runCommand(r.Context(), cmd, &env, args)
	if err != nil {
		code, msg := faultFor(err)
		if code == FaultInternal {
			h.Log.Error("xmlrpc: command failed", "method", method, "err", err)
		}
		return method, h.fault(w, code, msg)
	}
	var buf bytes.Buffer
	if err := xmlrpc.EncodeResponse(&buf, apiValue(result)); err != nil {
		h.Log.Error("xmlrpc: unable to encode reply", "method", method, "err", err)
		return method, h.fault(w, FaultInternal, "internal error encoding the reply")
	}
	if h.Log.Enabled(r.Context(), slog.LevelDebug) { // the arguments cost allocations on every call
		h.Log.Debug("xmlrpc", "method", method, "duration", time.Since(start))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
	return method, 0
}

// runCommand runs a command, turning a panic into an internal error so that
// bad input can never take the server down.
func runCommand(ctx context.Context, cmd *Command, env *Env, args Args) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("commands: %s panicked: %v", cmd.Name, p)
		}
	}()
	return cmd.Run(ctx, env, args)
}

// tokenValid checks a caller's token against the current tokens: the
// auth.webservices.auth-token setting when set (server-command set-config
// puts it in place without a restart), else the configuration's.
func (h *XMLRPCHandler) tokenValid(ctx context.Context, token string) bool {
	if token == "" {
		return false
	}
	tokens, err := h.tokens(ctx)
	if err != nil {
		h.Log.Error("xmlrpc: the web services auth token is invalid", "err", err)
		return false
	}
	ok := false
	for _, t := range tokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			ok = true
		}
	}
	return ok
}

func (h *XMLRPCHandler) tokens(ctx context.Context) ([]string, error) {
	p := parsedTokens{raw: h.Config.Auth.WebServices.AuthToken}
	if h.Env.Settings != nil {
		if v := h.Env.Settings.Get(ctx, settings.WebServicesToken); v != "" {
			p.raw, p.setting = v, true
		}
	}
	if last := h.parsed.Load(); last != nil && last.raw == p.raw && last.setting == p.setting {
		return last.tokens, last.err
	}
	if p.setting {
		p.tokens, p.err = config.ParseWebServicesTokens(p.raw)
	} else {
		p.tokens, p.err = h.Config.WebServicesTokens()
	}
	h.parsed.Store(&p)
	return p.tokens, p.err
}

func (h *XMLRPCHandler) fault(w http.ResponseWriter, code int, msg string) int {
	h.faultStatus(w, http.StatusOK, code, msg)
	return code
}

// faultLabel names a fault code for metrics.
func faultLabel(code int) string {
	switch code {
	case FaultInternal:
		return "internal"
	case FaultInvalid:
		return "invalid"
	case FaultNotFound:
		return "not-found"
	case FaultConflict:
		return "conflict"
	case FaultForbidden:
		return "forbidden"
	case FaultAuth:
		return "auth"
	case FaultMethod:
		return "method"
	}
	return "other"
}

func (h *XMLRPCHandler) faultStatus(w http.ResponseWriter, status, code int, msg string) {
	var buf bytes.Buffer
	_ = xmlrpc.EncodeFault(&buf, code, msg)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// tooLarge answers a body over the limit with HTTP 413 and a short fault.
func (h *XMLRPCHandler) tooLarge(w http.ResponseWriter, r *http.Request, lim xmlrpc.Limits) int {
	if r.ContentLength <= lim.MaxBytes+xmlrpc.DrainAllowance {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, xmlrpc.DrainAllowance+lim.MaxBytes))
	}
	w.Header().Set("Connection", "close")
	h.faultStatus(w, http.StatusRequestEntityTooLarge, FaultInvalid,
		fmt.Sprintf("the request is larger than the %d bytes (%d MiB) an XML-RPC call may be", lim.MaxBytes, lim.MaxBytes>>20))
	return FaultInvalid
}

// faultFor maps an error to a fault; internal errors get no details.
func faultFor(err error) (int, string) {
	if e, ok := core.AsError(err); ok {
		switch e.Code {
		case core.Invalid:
			return FaultInvalid, e.Msg
		case core.NotFound:
			return FaultNotFound, e.Msg
		case core.Conflict:
			return FaultConflict, e.Msg
		case core.Forbidden:
			return FaultForbidden, e.Msg
		}
	}
	return FaultInternal, "internal error; see the server log"
}

func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// convertAPIArgs checks arity and converts XML-RPC values to declared kinds.
func convertAPIArgs(cmd *Command, params []any) (Args, error) {
	if err := cmd.checkArity(len(params), false); err != nil {
		return Args{}, err
	}
	vals := make([]any, len(params))
	for i, v := range params {
		p := cmd.Params[i]
		var err error
		switch p.Kind {
		case String:
			vals[i], err = xmlrpc.AsString(p.Name, v)
		case Int:
			vals[i], err = xmlrpc.AsInt(p.Name, v)
		case Bool:
			vals[i], err = xmlrpc.AsBool(p.Name, v)
		case Amount:
			vals[i], err = apiAmount(p.Name, v)
		case StringList, Words:
			vals[i], err = xmlrpc.AsStringSlice(p.Name, v)
		case Pairs:
			vals[i], err = xmlrpc.AsStringPairs(p.Name, v)
		}
		if err != nil {
			return Args{}, core.Errorf(core.Invalid, "%v", err)
		}
	}
	return Args{cmd: cmd, values: vals}, nil
}

// apiAmount reads an amount: a string is parsed exactly, and so is a double
// (what PaperCut clients send) through its shortest decimal form; more
// decimal places than an amount keeps is refused, never rounded.
func apiAmount(name string, v any) (money.Amount, error) {
	if s, ok := v.(string); ok {
		a, err := money.Parse(s)
		if err != nil {
			return 0, fmt.Errorf("parameter %q: %q is not a usable amount: %v", name, s, err)
		}
		return a, nil
	}
	f, err := xmlrpc.AsFloat(name, v)
	if err != nil {
		return 0, err
	}
	a, err := money.FromFloat(f)
	if err != nil {
		return 0, fmt.Errorf("parameter %q: %s is not a usable amount: %v", name, strconv.FormatFloat(f, 'f', -1, 64), err)
	}
	return a, nil
}

// apiValue turns results into XML-RPC values: amounts become doubles, as
// PaperCut returns them.
func apiValue(v any) any {
	switch x := v.(type) {
	case money.Amount:
		return x.Float()
	case nil:
		return ""
	}
	return v
}
