package reamtest

import (
	"context"
	"testing"

	"github.com/reamprint/ream/internal/core"
)

func TestCore(t *testing.T) {
	for _, postgres := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[postgres]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, c := Core(t, postgres)
			if c.Store != s || c.Settings == nil || c.Hasher == nil || c.Config == nil || c.Log == nil {
				t.Fatalf("Core is missing a part: %+v", c)
			}
			// The store is migrated and the hasher works: an internal user, whose
			// password is hashed, can be created.
			if _, err := c.CreateInternalUser(ctx, core.CLI, core.NewInternalUser{Username: "alice", Password: "alice-prints-a-lot-4821"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.UserByName(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
