package papercutimport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/papercutimport"
	"github.com/reamprint/ream/internal/testenv/reamtest"
)

// TestStoppedImportWritesNothing stops an import (as Ctrl-C does: its
// context ends) while it reads and while it writes: either way Ream is
// left as it was, and the next run does the whole move.
func TestStoppedImportWritesNothing(t *testing.T) {
	src := startSource(t, false)
	seed(t, src, 60, 300)
	target := reamtest.Store(t, false)
	for _, phase := range []string{papercutimport.PhaseReading, papercutimport.PhaseApplying} {
		s, err := papercutimport.NewSource(papercutimport.SourceOptions{URL: src.url, Token: token})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		_, err = papercutimport.Run(ctx, target, s, papercutimport.Options{Parts: papercutimport.AllParts, Actor: core.CLI,
			Progress: func(p papercutimport.Progress) {
				if p.Phase == phase && p.Done > 0 {
					cancel()
				}
			}})
		cancel()
		s.Close()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped while %s: %v", phase, err)
		}
		if st := state(t, target); len(st.users) != 0 || len(st.accounts) != 0 || len(st.groups) != 0 || auditCount(t, target) != 0 {
			t.Fatalf("stopped while %s: %d users, %d accounts, %d groups, %d audit entries kept", phase, len(st.users), len(st.accounts), len(st.groups), auditCount(t, target))
		}
	}
	r := mustRun(t, target, src.url, papercutimport.Options{})
	if r.Users.Created != 60 || r.Accounts.Created != 300 {
		t.Errorf("the run after: users %s, accounts %s", counts(r.Users), counts(r.Accounts))
	}
}
