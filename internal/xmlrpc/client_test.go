package xmlrpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echoServer answers api.echo with its params, api.fail with a fault and anything else
// with HTTP 404, decoding and encoding with this package as the real endpoint will.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
			http.Error(w, "want text/xml, got "+ct, http.StatusUnsupportedMediaType)
			return
		}
		method, params, err := DecodeCall(r.Body, DefaultLimits)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		switch {
		case err != nil:
			err = EncodeFault(w, 1, err.Error())
		case method == "api.echo":
			err = EncodeResponse(w, params)
		case method == "api.fail":
			err = EncodeFault(w, 42, "no such user")
		default:
			http.NotFound(w, r)
		}
		if err != nil {
			t.Errorf("server: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCall(t *testing.T) {
	srv := echoServer(t)
	ctx := context.Background()

	got, err := Call(ctx, srv.Client(), srv.URL, "api.echo", "token", 5, true, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{"token", int64(5), true, []any{"a"}}; !sameValue(got, want) {
		t.Errorf("api.echo = %#v, want %#v", got, want)
	}

	_, err = Call(ctx, srv.Client(), srv.URL, "api.fail", "token")
	var f *Fault
	if !errors.As(err, &f) || f.Code != 42 || f.Message != "no such user" {
		t.Errorf("api.fail error = %v, want fault 42", err)
	}

	if _, err = Call(ctx, srv.Client(), srv.URL, "api.missing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("api.missing error = %v, want the HTTP status", err)
	}

	if _, err = Call(ctx, srv.Client(), srv.URL, "bad name"); err == nil {
		t.Error("Call sent a call with an invalid method name")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err = Call(cancelled, srv.Client(), srv.URL, "api.echo"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call error = %v, want context.Canceled", err)
	}
}
