package store

import (
	"context"
	"testing"

	"github.com/reamprint/ream/internal/model"
)

// TestSwapKeepsWhereEachNumberCameFrom: swapping a user's two numbers, or
// holding one in both fields, keeps each number's origin and time; only a
// number new to the user takes the origin of the change.
func TestSwapKeepsWhereEachNumberCameFrom(t *testing.T) {
	s := openAtVersion(t, "", SchemaVersion())
	ctx := context.Background()
	u := &model.User{Username: "swapper"}
	err := s.InTx(ctx, func(tx *Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.SetUserCard(ctx, u.ID, PrimaryCard, "1111", model.CardOriginBulk); err != nil {
			return err
		}
		return tx.SetUserCard(ctx, u.ID, SecondaryCard, "2222", model.CardOriginSelfRegistered)
	})
	if err != nil {
		t.Fatal(err)
	}
	origins := func() map[int]string {
		t.Helper()
		cards, err := s.UserCardNumbers(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]string{}
		for _, c := range cards {
			out[c.Slot] = c.Number + " " + c.Origin
		}
		return out
	}
	if err := s.InTx(ctx, func(tx *Tx) error { return tx.SetUserCards(ctx, u.ID, "2222", "1111", model.CardOriginAdmin) }); err != nil {
		t.Fatal(err)
	}
	if got := origins(); got[PrimaryCard] != "2222 "+model.CardOriginSelfRegistered || got[SecondaryCard] != "1111 "+model.CardOriginBulk {
		t.Errorf("after a swap: %v", got)
	}
	if err := s.InTx(ctx, func(tx *Tx) error { return tx.SetUserCards(ctx, u.ID, "2222", "3333", model.CardOriginAdmin) }); err != nil {
		t.Fatal(err)
	}
	if got := origins(); got[PrimaryCard] != "2222 "+model.CardOriginSelfRegistered || got[SecondaryCard] != "3333 "+model.CardOriginAdmin {
		t.Errorf("after a new secondary: %v", got)
	}
	if err := s.InTx(ctx, func(tx *Tx) error { return tx.SetUserCards(ctx, u.ID, "2222", "2222", model.CardOriginAdmin) }); err != nil {
		t.Fatal(err)
	}
	if got := origins(); got[PrimaryCard] != "2222 "+model.CardOriginSelfRegistered || got[SecondaryCard] != "2222 "+model.CardOriginSelfRegistered {
		t.Errorf("one number in both fields: %v", got)
	}
}
