package web

import (
	"context"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
)

const doraPassword = "dora's directory passphrase"

// directoryAuthenticator stands in for the LDAP bind of a directory user:
// the web layer only sees the yes/no of UserAuthenticator.
type directoryAuthenticator map[string]string

func (d directoryAuthenticator) Authenticate(ctx context.Context, username, password string) (bool, error) {
	want, ok := d[username]
	return ok && want == password, nil
}

// newDirectoryEnv is newTestEnv with a directory user dora who logs in
// through the authenticator.
func newDirectoryEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	if err := e.core.CreateUser(context.Background(), core.CLI, &model.User{Username: "dora", FullName: "Dora Directory", SourceID: "ldap"}); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Deps{Core: e.core, Store: e.store, Settings: e.core.Settings, Config: e.core.Config, Log: e.core.Log,
		LoginLimiter: e.limiter, Authenticator: directoryAuthenticator{"dora": doraPassword}})
	if err != nil {
		t.Fatal(err)
	}
	e.server = srv
	e.http.Config.Handler = srv.Handler()
	return e
}
