// Package testenv gives tests the real components they run against: a throwaway
// PostgreSQL database, free loopback ports, and one rule for what to do when an
// external service is missing.
//
// A test that needs a program or service that is not there calls Require, which
// skips on a developer's machine but fails when REAM_REQUIRE_SERVICES=1 (set by
// scripts/test and so by CI), so a missing install can never pass as green.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireServicesEnv is the environment variable that turns skips for missing
// services into failures.
const RequireServicesEnv = "REAM_REQUIRE_SERVICES"

// DatabaseURLEnv names the PostgreSQL server that PostgresURL creates test databases on.
const DatabaseURLEnv = "REAM_TEST_DATABASE_URL"

// Require stops the test because what (a program or service) is unavailable:
// it skips normally, and fails when REAM_REQUIRE_SERVICES=1.
func Require(t testing.TB, what, reason string) {
	t.Helper()
	if ServicesRequired() {
		t.Fatalf("%s unavailable but %s=1: %s", what, RequireServicesEnv, reason)
	}
	t.Skipf("%s unavailable: %s", what, reason)
}

// ServicesRequired reports whether missing services must fail tests rather than skip them.
func ServicesRequired() bool {
	v := os.Getenv(RequireServicesEnv)
	return v != "" && v != "0" && !strings.EqualFold(v, "false")
}

// PostgresURL creates a fresh, uniquely named database on the server named by
// REAM_TEST_DATABASE_URL, returns a URL for it, and drops it when the test ends.
// Without REAM_TEST_DATABASE_URL the test is skipped (see Require).
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DatabaseURLEnv)
	if base == "" {
		Require(t, "PostgreSQL", DatabaseURLEnv+" not set; PostgreSQL tests skipped (the README test command sets it)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testenv: %s is not a URL: %v", DatabaseURLEnv, err)
	}
	name := "ream_test_" + randomHex(t, 8)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		Require(t, "PostgreSQL", fmt.Sprintf("cannot connect to %s: %v", u.Redacted(), err))
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: unable to create database %s: %v", name, err)
	}
	t.Cleanup(func() { dropDatabase(t, base, name) })

	u.Path = "/" + name
	return u.String()
}

// dropDatabase removes a test database, forcing out connections the test left open.
func dropDatabase(t testing.TB, base, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("testenv: unable to connect to drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Errorf("testenv: unable to drop database %s: %v", name, err)
	}
}

// FreeLoopbackPort returns a TCP port on 127.0.0.1 that was free a moment ago.
// Prefer listening on port 0 directly where the code under test allows it.
func FreeLoopbackPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: unable to find a free loopback port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: unable to read random bytes: %v", err)
	}
	return hex.EncodeToString(b)
}
