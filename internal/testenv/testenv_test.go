package testenv

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresURLGivesSeparateDatabasesAndDropsThem(t *testing.T) {
	var first string
	t.Run("create", func(t *testing.T) {
		first = PostgresURL(t)
		second := PostgresURL(t)
		if first == second {
			t.Fatalf("two calls returned the same database %q", first)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, first)
		if err != nil {
			t.Fatalf("connect to test database: %v", err)
		}
		// Left open on purpose: cleanup must drop a database that still has a client.
		if _, err := conn.Exec(ctx, "CREATE TABLE account (name text)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
	})
	if first == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, first); err == nil {
		conn.Close(ctx)
		t.Fatalf("database %s still exists after its test ended", first)
	}
}

func TestFreeLoopbackPortCanBeListenedOn(t *testing.T) {
	port := FreeLoopbackPort(t)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on port %d: %v", port, err)
	}
	l.Close()
}

func TestServicesRequired(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"", false}, {"0", false}, {"false", false}, {"FALSE", false}, {"1", true}, {"yes", true},
	} {
		t.Setenv(RequireServicesEnv, tc.value)
		if got := ServicesRequired(); got != tc.want {
			t.Errorf("%s=%q: ServicesRequired() = %v, want %v", RequireServicesEnv, tc.value, got, tc.want)
		}
	}
}
