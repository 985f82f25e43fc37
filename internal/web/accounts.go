package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/reamprint/ream/internal/core"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/money"
	"github.com/reamprint/ream/internal/store"
)

type accountListData struct {
	Accounts []*model.Account
	Pager    pager
	Deleted  bool
}

func (s *Server) accountList(w http.ResponseWriter, r *http.Request) error {
	return s.listAccounts(w, r, false)
}

func (s *Server) deletedAccountList(w http.ResponseWriter, r *http.Request) error {
	return s.listAccounts(w, r, true)
}

// accountScope is the shared accounts the session may see and change: nil
// (all) for the built-in admin and admins with all-accounts scope. It is
// read once per request, like the rights, so a change applies at once.
func (s *Server) accountScope(r *http.Request) (*store.AccountScope, error) {
	se := SessionOf(r)
	if se == nil || se.BuiltIn || se.AllAccounts {
		return nil, nil
	}
	if !se.scopeRead {
		sc, err := s.store.AdminAccountScope(r.Context(), se.Username)
		if err != nil {
			return nil, err
		}
		if sc == nil {
			// The grant widened to all accounts since the session was read;
			// the rest of this request still goes by the session.
			sc = store.EmptyAccountScope()
		}
		se.scope, se.scopeRead = sc, true
	}
	return se.scope, nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request, deleted bool) error {
	page, q := pageParams(r)
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	accounts, total, err := s.store.ListAccounts(r.Context(), store.AccountFilter{Search: q, Deleted: deleted,
		Scope: scope, Offset: (page - 1) * pageSize, Limit: pageSize})
	if err != nil {
		return err
	}
	base, title := "/admin/accounts", "Shared accounts"
	if deleted {
		base, title = "/admin/accounts/deleted", "Deleted accounts"
	}
	return s.Render(w, r, http.StatusOK, "accounts.html", title,
		accountListData{Accounts: accounts, Pager: newPager(base, page, q, total, false), Deleted: deleted})
}

// accountByPathID reads the {id} of an account page.
func (s *Server) accountByPathID(r *http.Request) (*model.Account, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, Errorf(http.StatusNotFound, "There is no shared account #%s.", r.PathValue("id"))
	}
	scope, err := s.accountScope(r)
	if err != nil {
		return nil, err
	}
	if !scope.Contains(id) {
		// Out of scope answers as if there were no such account.
		return nil, Errorf(http.StatusNotFound, "There is no shared account #%s.", r.PathValue("id"))
	}
	acc, err := s.store.AccountByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(http.StatusNotFound, "There is no shared account #%s.", r.PathValue("id"))
	}
	if err != nil {
		return nil, err
	}
	return acc, nil
}

func accountPath(id int64) string { return fmt.Sprintf("/admin/accounts/%d", id) }

type accountDetailsData struct {
	Account      *model.Account
	SubAccounts  []*model.Account
	Transactions []model.Transaction
	Enabled      bool
}

func (s *Server) accountDetails(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.accountByPathID(r)
	if err != nil {
		return err
	}
	d := accountDetailsData{Account: acc, Enabled: acc.DeletedAt == nil && core.AccountEnabled(acc, timeNow())}
	if acc.ParentID == 0 && acc.DeletedAt == nil {
		scope, err := s.accountScope(r)
		if err != nil {
			return err
		}
		if d.SubAccounts, _, err = s.store.ListAccounts(r.Context(), store.AccountFilter{ParentID: acc.ID, Scope: scope, Limit: 200}); err != nil {
			return err
		}
	}
	if d.Transactions, err = s.store.Transactions(r.Context(), 0, acc.ID, 20); err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "account.html", "Account "+acc.FullName(), d)
}

// accountForm is the create and edit form of a shared account.
type accountForm struct {
	ID            int64
	Name          string
	ParentID      int64
	Parents       []*model.Account
	Enabled       bool
	PIN           string // typed: a new PIN/code; "" keeps the current one
	PINSet        bool   // the account has a PIN/code (stored hashed, never shown)
	ClearPIN      bool   // remove the PIN/code
	Notes         string
	Overdraft     string
	Restricted    bool
	InvoiceOption string
	CommentOption string
	AccessUsers   string
	AccessGroups  string
	Balance       string // initial balance (create) or current balance (edit, shown)
	Adjust        string
	Comment       string
	Error         string
	Invoice       []string
	Comments      []string
}

var (
	invoiceOptions = []string{model.InvoiceUserOff, model.InvoiceUserOn, model.InvoiceAlways, model.InvoiceNever}
	commentOptions = []string{model.CommentOptional, model.CommentRequired, model.CommentNone}
)

func formFromAccount(acc *model.Account) accountForm {
	return accountForm{ID: acc.ID, Name: acc.Name, ParentID: acc.ParentID, Enabled: acc.Enabled, PINSet: acc.PINHash != "",
		Notes: acc.Notes, Overdraft: acc.Overdraft.String(), Restricted: acc.Restricted, InvoiceOption: acc.InvoiceOption,
		CommentOption: acc.CommentOption, AccessUsers: strings.Join(acc.AccessUsers, "\n"),
		AccessGroups: strings.Join(acc.AccessGroups, "\n"), Balance: acc.Balance.String(),
		Invoice: invoiceOptions, Comments: commentOptions}
}

// readAccountForm reads the posted fields common to create and edit.
func readAccountForm(r *http.Request) accountForm {
	f := accountForm{
		Name: strings.TrimSpace(r.PostFormValue("name")), PIN: strings.TrimSpace(r.PostFormValue("pin")),
		ClearPIN: r.PostFormValue("clear_pin") == "on",
		Notes:    r.PostFormValue("notes"), Overdraft: strings.TrimSpace(r.PostFormValue("overdraft")),
		Restricted: r.PostFormValue("restricted") == "on", Enabled: r.PostFormValue("enabled") == "on",
		InvoiceOption: r.PostFormValue("invoice_option"), CommentOption: r.PostFormValue("comment_option"),
		AccessUsers: r.PostFormValue("access_users"), AccessGroups: r.PostFormValue("access_groups"),
		Balance: strings.TrimSpace(r.PostFormValue("balance")), Adjust: strings.TrimSpace(r.PostFormValue("adjust")),
		Comment: strings.TrimSpace(r.PostFormValue("comment")), Invoice: invoiceOptions, Comments: commentOptions,
	}
	f.ParentID, _ = strconv.ParseInt(r.PostFormValue("parent"), 10, 64)
	return f
}

// nameList splits a textarea of names, one per line or separated by commas or |.
func nameList(s string) []string {
	var out []string
	for _, n := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == '|' }) {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// apply copies the form onto an account; it names the field of a bad amount
// or PIN. A typed PIN replaces the account's; a blank one keeps it unless
// Remove is ticked.
func (f *accountForm) apply(ctx context.Context, c *core.Core, acc *model.Account) error {
	acc.Name, acc.Notes, acc.Restricted = f.Name, f.Notes, f.Restricted
	switch {
	case f.PIN != "":
		hash, err := c.AccountPINHash(ctx, f.PIN)
		if err != nil {
			msg, _ := core.Message(err)
			return Errorf(http.StatusBadRequest, "PIN/code: %s", msg)
		}
		acc.PINHash = hash
	case f.ClearPIN:
		acc.PINHash = ""
	}
	acc.InvoiceOption, acc.CommentOption = f.InvoiceOption, f.CommentOption
	acc.AccessUsers, acc.AccessGroups = nameList(f.AccessUsers), nameList(f.AccessGroups)
	acc.Overdraft = 0
	if f.Overdraft != "" {
		od, err := money.Parse(f.Overdraft)
		if err != nil {
			return Errorf(http.StatusBadRequest, "Overdraft: %q is not an amount.", f.Overdraft)
		}
		acc.Overdraft = od
	}
	return nil
}

func (s *Server) accountNewPage(w http.ResponseWriter, r *http.Request) error {
	f := accountForm{Enabled: true, InvoiceOption: model.InvoiceUserOff, CommentOption: model.CommentOptional,
		AccessGroups: model.GroupAllUsers, Invoice: invoiceOptions, Comments: commentOptions}
	f.ParentID, _ = strconv.ParseInt(r.URL.Query().Get("parent"), 10, 64) // "Add sub-account"
	return s.renderAccountForm(w, r, http.StatusOK, "account_new.html", "Create shared account", f)
}

func (s *Server) renderAccountForm(w http.ResponseWriter, r *http.Request, status int, tmpl, title string, f accountForm) error {
	if tmpl == "account_new.html" {
		scope, err := s.accountScope(r)
		if err != nil {
			return err
		}
		if f.Parents, err = s.store.TopLevelAccounts(r.Context(), scope, 1000); err != nil {
			return err
		}
	}
	return s.Render(w, r, status, tmpl, title, f)
}

func (s *Server) accountNew(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f := readAccountForm(r)
	f.Enabled = true
	fail := func(msg string) error {
		f.Error = msg
		return s.renderAccountForm(w, r, http.StatusBadRequest, "account_new.html", "Create shared account", f)
	}
	acc := &model.Account{Enabled: true}
	if err := f.apply(ctx, s.core, acc); err != nil {
		return fail(err.Error())
	}
	if f.Balance != "" {
		b, err := money.Parse(f.Balance)
		if err != nil {
			return fail(fmt.Sprintf("Initial balance: %q is not an amount.", f.Balance))
		}
		if b != 0 && !s.Actor(r).Holds(model.RightAccountsBalance) {
			return fail("Initial balance: setting a balance needs the right Shared accounts: adjust balances; leave it empty.")
		}
		acc.Balance = b
	}
	if strings.Contains(f.Name, `\`) {
		return fail(`Account name: a name may not contain \ (choose the parent account from the list instead).`)
	}
	full := f.Name
	scope, err := s.accountScope(r)
	if err != nil {
		return err
	}
	if f.ParentID == 0 && scope != nil {
		return fail("Parent account: your admin access covers only some shared accounts, so you can create sub-accounts of those; choose the parent account.")
	}
	if f.ParentID != 0 {
		parent, err := s.store.AccountByID(ctx, f.ParentID)
		if err != nil || parent.DeletedAt != nil || parent.ParentID != 0 || !scope.Contains(parent.ID) {
			return fail("Parent account: the chosen parent account does not exist any more.")
		}
		full = parent.Name + `\` + f.Name
	}
	created, err := s.core.CreateAccount(ctx, s.Actor(r), full, acc)
	if err != nil {
		if msg, ok := formError(err); ok {
			return fail(msg)
		}
		return err
	}
	return s.Redirect(w, r, accountPath(created.ID), "ok", "Shared account "+created.FullName()+" created.")
}

func (s *Server) accountEditPage(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.liveAccount(r)
	if err != nil {
		return err
	}
	return s.renderAccountForm(w, r, http.StatusOK, "account_edit.html", "Edit "+acc.FullName(), formFromAccount(acc))
}

// liveAccount is the {id} account, refusing a deleted one.
func (s *Server) liveAccount(r *http.Request) (*model.Account, error) {
	acc, err := s.accountByPathID(r)
	if err != nil {
		return nil, err
	}
	if acc.DeletedAt != nil {
		return nil, Errorf(http.StatusNotFound, "Shared account %s is deleted. Restore it from Deleted accounts first.", acc.FullName())
	}
	return acc, nil
}

func (s *Server) accountEdit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	acc, err := s.liveAccount(r)
	if err != nil {
		return err
	}
	f := readAccountForm(r)
	f.ID, f.ParentID, f.Balance, f.PINSet = acc.ID, acc.ParentID, acc.Balance.String(), acc.PINHash != ""
	fail := func(msg string) error {
		f.Error = msg
		return s.renderAccountForm(w, r, http.StatusBadRequest, "account_edit.html", "Edit "+acc.FullName(), f)
	}
	adjust, msg := checkBalanceAdjustment(f.Adjust, f.Comment, acc.Balance)
	if msg != "" {
		return fail(msg)
	}
	if adjust != 0 && !s.Actor(r).Holds(model.RightAccountsBalance) {
		// Refused before anything is saved; core refuses it too.
		return fail("Adjust balance: your admin rights do not include Shared accounts: adjust balances. Nothing was saved.")
	}
	edited := *acc
	if err := f.apply(ctx, s.core, &edited); err != nil {
		return fail(err.Error())
	}
	edited.Enabled = f.Enabled
	if edited.Enabled {
		edited.DisabledUntil = nil
	}
	if err := s.core.UpdateAccount(ctx, s.Actor(r), &edited); err != nil {
		if msg, ok := formError(err); ok {
			return fail(msg)
		}
		return err
	}
	if adjust != 0 {
		if _, err := s.core.AdjustAccountBalance(ctx, s.Actor(r), edited.FullName(), adjust, false, f.Comment); err != nil {
			msg, ok := formError(err)
			if !ok {
				return err
			}
			// Checked above, so only a change made meanwhile gets here.
			return fail("The details were saved, but the balance adjustment was refused: " + msg)
		}
	}
	return s.Redirect(w, r, accountPath(acc.ID), "ok", "Shared account "+edited.FullName()+" saved.")
}

func (s *Server) accountDeletePage(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.liveAccount(r)
	if err != nil {
		return err
	}
	return s.Render(w, r, http.StatusOK, "account_delete.html", "Delete "+acc.FullName(), acc)
}

func (s *Server) accountDelete(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.liveAccount(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		return s.Redirect(w, r, accountPath(acc.ID), "error", "The account was not deleted: tick the confirmation box to delete.")
	}
	if err := s.core.DeleteAccount(r.Context(), s.Actor(r), acc.FullName()); err != nil {
		return err
	}
	return s.Redirect(w, r, "/admin/accounts", "ok", "Shared account "+acc.FullName()+" deleted. It can be restored from Deleted accounts.")
}

func (s *Server) accountRestore(w http.ResponseWriter, r *http.Request) error {
	acc, err := s.accountByPathID(r)
	if err != nil {
		return err
	}
	restored, err := s.core.RestoreAccount(r.Context(), s.Actor(r), acc.ID)
	if err != nil {
		if msg, ok := formError(err); ok {
			return s.Redirect(w, r, "/admin/accounts/deleted", "error", msg)
		}
		return err
	}
	return s.Redirect(w, r, accountPath(restored.ID), "ok", "Shared account "+restored.FullName()+" restored.")
}
