package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/store"
)

// creatingAuthenticator stands in for user sync's LoginUser: a right
// password for a user Ream does not know yet creates the user.
type creatingAuthenticator struct {
	core     *core.Core
	password string
	down     bool
}

func (a creatingAuthenticator) Authenticate(ctx context.Context, username, password string) (bool, error) {
	if a.down {
		return false, errors.New("directory unavailable")
	}
	if password != a.password {
		return false, nil
	}
	if _, err := a.core.Store.UserByName(ctx, username); err == nil {
		return true, nil
	}
	err := a.core.CreateUser(ctx, core.Actor{Name: "directory login"}, &model.User{Username: username, SourceID: "ldap"})
	return err == nil, err
}

func TestDirectoryUserLogsInBeforeTheFirstSync(t *testing.T) {
	e := newTestEnv(t)
	authn := creatingAuthenticator{core: e.core, password: "new starter passphrase"}
	srv, err := New(Deps{Core: e.core, Store: e.store, Settings: e.core.Settings, Config: e.core.Config, Log: e.core.Log,
		LoginLimiter: e.limiter, Authenticator: authn})
	if err != nil {
		t.Fatal(err)
	}
	srv.loginFloor = 0
	e.server = srv
	e.http.Config.Handler = srv.Handler()

	// A wrong password for an unknown name: refused, and nobody is created.
	c := e.client()
	_, _, token := e.get(c, "/user/login")
	resp, _ := e.post(c, "/user/login", url.Values{"csrf": {token}, "username": {"newbie"}, "password": {"wrong one here"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: status %d", resp.StatusCode)
	}
	if _, err := e.store.UserByName(context.Background(), "newbie"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed login created the user: %v", err)
	}
	// The right password: the directory says yes, the user exists and is in.
	e.login(e.client(), "user", "newbie", "new starter passphrase")
	if u, err := e.store.UserByName(context.Background(), "newbie"); err != nil || u.Internal || u.SourceID != "ldap" {
		t.Fatalf("user after first login: %+v %v", u, err)
	}
	// Such a user is no admin.
	_, _, token = e.get(c, "/admin/login")
	resp, _ = e.post(c, "/admin/login", url.Values{"csrf": {token}, "username": {"newbie"}, "password": {"new starter passphrase"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("directory user without admin access: admin login status %d", resp.StatusCode)
	}
}

func TestLoginWhileTheDirectoryIsDownSaysSo(t *testing.T) {
	e := newTestEnv(t)
	srv, err := New(Deps{Core: e.core, Store: e.store, Settings: e.core.Settings, Config: e.core.Config, Log: e.core.Log,
		LoginLimiter: e.limiter, Authenticator: creatingAuthenticator{core: e.core, down: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv.loginFloor = 0
	e.server = srv
	e.http.Config.Handler = srv.Handler()
	c := e.client()
	_, _, token := e.get(c, "/user/login")
	resp, body := e.post(c, "/user/login", url.Values{"csrf": {token}, "username": {"someone"}, "password": {"any passphrase"}}, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "directory did not answer") {
		t.Errorf("directory down: status %d, body lacks the explanation", resp.StatusCode)
	}
}
