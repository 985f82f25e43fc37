package web

import (
	"net/http"
	"strings"

	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
)

// Accounts > (account) > Adjust balance: the one change an admin with
// Shared accounts: adjust balances may make, inside her scope.
func init() {
	addFeature(func(s *Server) {
		s.Handle("POST /admin/accounts/{id}/adjust", Admin(model.RightAccountsView, model.RightAccountsBalance), s.accountAdjust)
	})
}

func (s *Server) accountAdjust(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.accountByPathID(r)
	if err != nil {
		return err
	}
	if acc.DeletedAt != nil {
		return Errorf(http.StatusBadRequest, "Shared account %s is deleted: restore it before adjusting its balance.", acc.FullName())
	}
	amount, comment, err := postedAdjustment(r, acc.Balance)
	if err != nil {
		return err
	}
	after, err := s.core.AdjustAccountBalance(r.Context(), s.Actor(r), acc.FullName(), amount, false, comment)
	if err != nil {
		return err
	}
	return s.Redirect(w, r, accountPath(acc.ID), "ok", "Balance of "+acc.FullName()+" adjusted by "+amount.String()+"; it is now "+after.String()+".")
}

// userAdjust is Users > (user) > Adjust balance, for an admin with Users:
// adjust balances (who need not be able to edit the user's details).
func (s *Server) userAdjust(w http.ResponseWriter, r *http.Request) error {
	u, err := s.core.User(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	amount, comment, err := postedAdjustment(r, u.Balance)
	if err != nil {
		return err
	}
	after, err := s.core.AdjustUserBalance(r.Context(), s.Actor(r), u.Username, amount, false, comment)
	if err != nil {
		return err
	}
	return s.Redirect(w, r, userPath(u.Username), "ok", "Balance of "+u.Username+" adjusted by "+amount.String()+"; it is now "+after.String()+".")
}

// postedAdjustment reads the amount and comment of an Adjust balance form,
// refusing a missing or bad amount before anything is saved.
func postedAdjustment(r *http.Request, balance money.Amount) (money.Amount, string, error) {
	raw, comment := strings.TrimSpace(r.PostFormValue("adjust")), strings.TrimSpace(r.PostFormValue("comment"))
	if raw == "" {
		return 0, "", Errorf(http.StatusBadRequest, "Balance adjustment: enter an amount (e.g. 5.00 or -2.50). Nothing was saved.")
	}
	amount, msg := checkBalanceAdjustment(raw, comment, balance)
	if msg != "" {
		return 0, "", Errorf(http.StatusBadRequest, "%s", msg)
	}
	return amount, comment, nil
}
