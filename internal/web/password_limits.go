package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/reamprint/ream/internal/model"
)

// checkCurrentPassword verifies the current password a portal user types to
// change it. A stolen session must not become a way around the login's
// limits, so wrong guesses count against the same account and client
// limits as failed logins and go to the audit log; it returns the message
// and status of a refusal, or "" when the password is right.
func (s *Server) checkCurrentPassword(r *http.Request, u *model.User, current string) (string, int, error) {
	ctx := r.Context()
	client := clientAddress(r)
	now := time.Now()
	// The person is logged in from this address, so it counts as familiar:
	// wrong guesses lock this account at this address, as failed logins here do.
	if ok, wait, reason := s.limiter.AllowFrom(u.Username, client, true, now); !ok {
		s.auditLogin(ctx, "user.password.refused", u.Username, client, "too many wrong passwords ("+reason+")")
		return fmt.Sprintf("Too many wrong passwords. Try again in %s.", humanWait(wait)), http.StatusTooManyRequests, nil
	}
	ok := false
	if current == "" || len(current) > 1024 || u.PasswordHash == "" {
		// The same cost as a real check, so the answer's timing says nothing.
		s.core.Hasher.VerifyDummy(ctx, current)
	} else {
		var err error
		if ok, err = s.core.Hasher.Verify(ctx, u.PasswordHash, current); err != nil {
			return "", 0, err
		}
	}
	if !ok {
		s.limiter.FailureFrom(u.Username, client, true, now)
		s.auditLogin(ctx, "user.password.failure", u.Username, client, "wrong current password given to change it")
		if allowed, wait, reason := s.limiter.AllowFrom(u.Username, client, true, now); !allowed {
			s.auditLogin(ctx, "user.password.lockout", u.Username, client, fmt.Sprintf("locked out for %s (%s)", humanWait(wait), reason))
		}
		return "Your current password is not right.", http.StatusBadRequest, nil
	}
	return "", 0, nil
}

// formTooLarge reports whether a form post went over its route's body
// limit, and the limit, so the answer can say so instead of blaming the
// security token it could not read. Only a post whose token is missing is
// looked at: its body is of no further use, and the body reader keeps
// answering with the limit error once it was hit.
func formTooLarge(r *http.Request) (int64, bool) {
	if r.Body == nil || r.PostFormValue("csrf") != "" {
		return 0, false
	}
	var tooBig *http.MaxBytesError
	if _, err := r.Body.Read(make([]byte, 1)); errors.As(err, &tooBig) {
		return tooBig.Limit, true
	}
	return 0, false
}
