package web

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/reamprint/ream/internal/metrics"
)

// guardPath refuses request paths that could make one route look like
// another to a proxy, the mux or a later check (SPEC §10): `;`, `\`, `//`,
// encoded dots and slashes, `.`/`..` segments, control characters, and
// non-canonical case of the /admin, /user and /rpc prefixes.
func guardPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := pathVerdict(r); status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// pathVerdict returns 0 for an acceptable path, or the status to refuse it with.
func pathVerdict(r *http.Request) int {
	raw := r.RequestURI
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	for _, p := range []string{raw, r.URL.RawPath, r.URL.Path} {
		if badPath(p) {
			return http.StatusBadRequest
		}
	}
	if r.URL.Path == "" || r.URL.Path[0] != '/' {
		return http.StatusBadRequest
	}
	first := r.URL.Path[1:]
	if i := strings.IndexByte(first, '/'); i >= 0 {
		first = first[:i]
	}
	for _, area := range []string{"admin", "user", "rpc"} {
		if first != area && strings.EqualFold(first, area) {
			return http.StatusNotFound
		}
	}
	return 0
}

// badPath reports whether a raw or decoded path holds a trick.
func badPath(p string) bool {
	if strings.ContainsAny(p, `;\`) || strings.Contains(p, "//") {
		return true
	}
	lower := strings.ToLower(p)
	for _, enc := range []string{"%2e", "%2f", "%5c", "%25", "%3b", "%00"} {
		if strings.Contains(lower, enc) {
			return true
		}
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f {
			return true
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe logs every request and measures it in the HTTP histogram, labelled
// with the route pattern (ServeMux sets r.Pattern on this same request).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "web: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				if rec.status == 0 {
					http.Error(rec, "internal server error", http.StatusInternalServerError)
				}
			}
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			d := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			metrics.HTTPRequestDuration.WithLabelValues(route, r.Method, strconv.Itoa(rec.status)).Observe(d.Seconds())
			// Successful requests (thousands a second of card lookups) are
			// debug; refusals are worth seeing; server errors are errors.
			level := slog.LevelDebug
			switch {
			case rec.status >= 500:
				level = slog.LevelError
			case rec.status >= 400:
				level = slog.LevelInfo
			}
			if s.log.Enabled(r.Context(), level) { // the arguments cost allocations on every request
				s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
					"status", rec.status, "duration", d)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}
