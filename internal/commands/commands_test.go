package commands_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/config"
	"github.com/reamprint/ream/internal/metrics"
	"github.com/reamprint/ream/internal/store"
	"github.com/reamprint/ream/internal/tasks"
	"github.com/reamprint/ream/internal/testenv"
	"github.com/reamprint/ream/internal/testenv/reamtest"
	"github.com/reamprint/ream/internal/xmlrpc"
)

const token = "test-token"

type rig struct {
	store   *store.Store
	url     string
	env     commands.Env
	table   *commands.Table
	handler http.Handler
}

func newRig(t testing.TB, postgres bool) *rig {
	t.Helper()
	ctx := context.Background()
	s, c := reamtest.Core(t, postgres)
	// As the server runs: every card test below then checks the cache too.
	if err := s.CacheCardLookups(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := c.Config
	cfg.Auth.WebServices.AuthToken = `["other", "` + token + `"]`
	cfg.Auth.WebServices.AllowedAddresses = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	set := c.Settings
	env := commands.Env{Core: c, Store: s, Settings: set, Tasks: tasks.New(ctx, s, log), Features: &commands.Features{}}
	table := commands.NewTable()
	h := &commands.XMLRPCHandler{Table: table, Env: env, Config: cfg, Log: log}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &rig{store: s, url: srv.URL, env: env, table: table, handler: h}
}

func (r *rig) call(t *testing.T, method string, params ...any) (any, error) {
	t.Helper()
	return xmlrpc.Call(context.Background(), http.DefaultClient, r.url, "api."+method, append([]any{token}, params...)...)
}

func (r *rig) must(t *testing.T, method string, params ...any) any {
	t.Helper()
	v, err := r.call(t, method, params...)
	if err != nil {
		t.Fatalf("%s%v: %v", method, params, err)
	}
	return v
}

func fault(t *testing.T, err error) *xmlrpc.Fault {
	t.Helper()
	f, ok := err.(*xmlrpc.Fault)
	if !ok {
		t.Fatalf("want a fault, got %v", err)
	}
	return f
}

func TestUsersAccountsBalancesOverXMLRPC(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			if v := r.must(t, "isUserExists", "alice"); v != false {
				t.Errorf("isUserExists before = %v", v)
			}
			r.must(t, "addNewInternalUser", "Alice", "correct horse battery", "Alice A", "alice@example.org", "1001", "4321")
			if v := r.must(t, "isUserExists", "ALICE"); v != true {
				t.Errorf("isUserExists = %v", v)
			}
			r.must(t, "addNewUser", "bob")
			r.must(t, "setUserProperties", "bob", []any{[]any{"full-name", "Bob B"}, []any{"card-number", "2002"}, []any{"restricted", "Y"}})
			props := r.must(t, "getUserProperties", "bob", []any{"full-name", "primary-card-number", "restricted", "internal"})
			if got := strings.Join(toStrings(props), ","); got != "Bob B,2002,true,false" {
				t.Errorf("bob's properties = %s", got)
			}
			// A card number belongs to one user: the fault names the number,
			// the property and (to an API caller, who may list users anyway) the owner.
			_, err := r.call(t, "setUserProperty", "bob", "secondary-card-number", "1001")
			if f := fault(t, err); !strings.Contains(f.Message, `secondary-card-number: card/ID number "1001" is already in use by user "alice"`) {
				t.Errorf("card conflict fault: %q", f.Message)
			}
			// card-pin and password are set-only.
			r.must(t, "setUserProperty", "alice", "card-pin", "1234")
			if _, err := r.call(t, "getUserProperty", "alice", "card-pin"); fault(t, err).Code != commands.FaultInvalid {
				t.Error("card-pin was readable")
			}
			if _, err := r.call(t, "setUserProperty", "bob", "password", "correct horse battery"); !strings.Contains(fault(t, err).Message, "directory") {
				t.Errorf("password on a directory user: %v", err)
			}
			if v := r.must(t, "lookUpUserNameByCardNo", "2002"); v != "bob" {
				t.Errorf("lookup 2002 = %v", v)
			}
			if v := r.must(t, "lookUpUserNameByCardNo", "9999"); v != "" {
				t.Errorf("lookup miss = %v", v)
			}
			if v := r.must(t, "lookUpUserNameByEmail", "ALICE@example.org"); v != "alice" {
				t.Errorf("by email = %v", v)
			}
			if v := r.must(t, "getTotalUsers"); v != int64(2) {
				t.Errorf("getTotalUsers = %#v", v)
			}
			if v := toStrings(r.must(t, "listUserAccounts", 0, 10)); strings.Join(v, ",") != "alice,bob" {
				t.Errorf("listUserAccounts = %v", v)
			}
			// Balances: doubles from PaperCut clients, exact inside.
			for i := 0; i < 3; i++ {
				r.must(t, "adjustUserAccountBalance", "alice", 0.1, "top-up")
			}
			if v := r.must(t, "getUserAccountBalance", "alice"); v != 0.3 {
				t.Errorf("balance = %v", v)
			}
			if v := r.must(t, "adjustUserAccountBalanceIfAvailable", "bob", -5.0, "print"); v != false {
				t.Errorf("restricted bob went negative: %v", v)
			}
			if v := r.must(t, "adjustUserAccountBalanceByCardNumber", "1001", "2.5", "by card"); v != true {
				t.Errorf("by card = %v", v)
			}
			if v := r.must(t, "getUserAccountBalance", "alice"); v != 2.8 {
				t.Errorf("balance after card = %v", v)
			}
			// Shared accounts, sub-accounts and their properties.
			r.must(t, "addNewSharedAccount", "Client 1")
			r.must(t, "addNewSharedAccount", `Client 1\Project A`)
			if _, err := r.call(t, "addNewSharedAccount", `Client 1\Project A`); fault(t, err).Code != commands.FaultConflict {
				t.Errorf("duplicate sub-account: %v", err)
			}
			r.must(t, "addNewSharedAccount", `New Parent\Sub`)
			if v := r.must(t, "isSharedAccountExists", "New Parent"); v != true {
				t.Errorf("a sub-account did not bring its parent: %v", v)
			}
			r.must(t, "setSharedAccountProperties", `Client 1\Project A`, []any{[]any{"pin", "77"}, []any{"invoice-option", "always_invoice"}, []any{"access-users", "alice|bob"}})
			// PINs are kept hashed: "pin" never reads back, "pin-set" says
			// there is one, and "pin-set" cannot be written.
			if v := r.must(t, "getSharedAccountProperty", `Client 1\Project A`, "pin"); v != "" {
				t.Errorf("pin reads %q, want \"\" (PINs are stored hashed)", v)
			}
			if v := r.must(t, "getSharedAccountProperty", `Client 1\Project A`, "pin-set"); v != "true" {
				t.Errorf("pin-set reads %q, want true", v)
			}
			if _, err := r.call(t, "setSharedAccountProperty", `Client 1\Project A`, "pin-set", "false"); !strings.Contains(fault(t, err).Message, "read-only") {
				t.Errorf("setting pin-set: %v", err)
			}
			if _, err := r.call(t, "setSharedAccountProperty", "Client 1", "pin", strings.Repeat("9", 65)); !strings.Contains(fault(t, err).Message, "PIN") {
				t.Errorf("a 65-character PIN: %v", err)
			}
			if v := r.must(t, "getSharedAccountProperty", `client 1\project a`, "invoice-option"); v != "ALWAYS_INVOICE" {
				t.Errorf("invoice-option = %v", v)
			}
			r.must(t, "removeSharedAccountAccessUser", `Client 1\Project A`, "bob")
			if v := toStrings(r.must(t, "listUserSharedAccounts", "alice", 0, 10)); len(v) != 1 || v[0] != `Client 1\Project A` {
				t.Errorf("alice's accounts = %v", v)
			}
			if v := toStrings(r.must(t, "listUserSharedAccounts", "bob", 0, 10)); len(v) != 0 {
				t.Errorf("bob's accounts = %v", v)
			}
			r.must(t, "adjustSharedAccountAccountBalance", "Client 1", 12.345678, "")
			if v := r.must(t, "getSharedAccountAccountBalance", "Client 1"); v != 12.345678 {
				t.Errorf("account balance = %v", v)
			}
			r.must(t, "renameSharedAccount", "Client 1", "Client One")
			if v := r.must(t, "isSharedAccountExists", `Client One\Project A`); v != true {
				t.Errorf("renamed parent lost its sub-account: %v", v)
			}
			r.must(t, "deleteExistingSharedAccount", "Client One")
			if v := r.must(t, "isSharedAccountExists", "Client One"); v != false {
				t.Errorf("deleted account exists: %v", v)
			}
			// Groups.
			r.must(t, "addNewGroup", "Staff")
			r.must(t, "addUserToGroup", "alice", "staff")
			if v := toStrings(r.must(t, "getUserGroups", "alice")); len(v) != 1 || v[0] != "Staff" {
				t.Errorf("alice's groups = %v", v)
			}
			if v := toStrings(r.must(t, "getGroupMembers", "[All Users]", 0, 10)); len(v) != 2 {
				t.Errorf("all users = %v", v)
			}
			r.must(t, "removeUserFromGroup", "alice", "Staff")
			if v := toStrings(r.must(t, "getGroupMembers", "Staff", 0, 10)); len(v) != 0 {
				t.Errorf("members after removal = %v", v)
			}
			// Users: rename and delete keep history.
			r.must(t, "renameUserAccount", "bob", "robert")
			r.must(t, "deleteExistingUser", "robert")
			if v := r.must(t, "isUserExists", "robert"); v != false {
				t.Errorf("deleted user exists")
			}
			// Config: allow-listed keys only.
			r.must(t, "setConfigValue", "cards.length", "14")
			if v := r.must(t, "getConfigValue", "cards.length"); v != "14" {
				t.Errorf("cards.length = %v", v)
			}
			// The self-service card options sit with the other user.* ones.
			if v := r.must(t, "getConfigValue", "user.register-card-field"); v != "secondary" {
				t.Errorf("user.register-card-field defaults to %v, want secondary", v)
			}
			for key, value := range map[string]string{"user.allow-register-card": "Y", "user.register-card-field": "PRIMARY", "user.allow-generate-card": "yes"} {
				r.must(t, "setConfigValue", key, value)
			}
			for key, want := range map[string]string{"user.allow-register-card": "Y", "user.register-card-field": "primary", "user.allow-generate-card": "Y"} {
				if v := r.must(t, "getConfigValue", key); v != want {
					t.Errorf("%s = %v, want %s", key, v, want)
				}
			}
			if _, err := r.call(t, "setConfigValue", "user.register-card-field", "both"); fault(t, err).Code != commands.FaultInvalid {
				t.Errorf("user.register-card-field accepted both: %v", err)
			}
			if _, err := r.call(t, "setConfigValue", "smtp.password", "x"); fault(t, err).Code != commands.FaultForbidden {
				t.Errorf("secret settable through the API: %v", err)
			}
			if _, err := r.call(t, "setConfigValue", "cards.length", "99"); fault(t, err).Code != commands.FaultInvalid {
				t.Errorf("out-of-range config accepted: %v", err)
			}
			r.must(t, "addAdminAccessUser", "alice")
			if admin, _, _ := r.store.IsAdmin(context.Background(), "alice"); !admin {
				t.Error("alice is not admin")
			}
		})
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func TestWireRulesAndBadInput(t *testing.T) {
	r := newRig(t, false)
	post := func(body string) string {
		resp, err := http.Post(r.url, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return b.String()
	}
	// getTaskStatus takes no token.
	if v, err := xmlrpc.Call(context.Background(), http.DefaultClient, r.url, "api.getTaskStatus"); err != nil {
		t.Errorf("getTaskStatus: %v", err)
	} else if m, ok := v.(map[string]any); !ok || m["completed"] != true {
		t.Errorf("getTaskStatus = %#v", v)
	}
	cases := []struct {
		name, body, want string
	}{
		{"malformed XML", `<methodCall><methodName>api.isUserExists</methodName><params>`, "xmlrpc"},
		{"entity expansion", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>api.getTotalUsers</methodName></methodCall>`, "DOCTYPE"},
		{"no token", `<methodCall><methodName>api.getTotalUsers</methodName><params></params></methodCall>`, "missing auth token"},
		{"wrong token", `<methodCall><methodName>api.getTotalUsers</methodName><params><param><value>nope</value></param></params></methodCall>`, "invalid auth token"},
		{"wrong type", `<methodCall><methodName>api.listUserAccounts</methodName><params><param><value>` + token + `</value></param><param><value><boolean>1</boolean></value></param><param><value><int>5</int></value></param></params></methodCall>`, "offset"},
		{"wrong arity", `<methodCall><methodName>api.isUserExists</methodName><params><param><value>` + token + `</value></param></params></methodCall>`, "takes 1 parameters, got 0"},
		{"unknown method", `<methodCall><methodName>api.formatDisk</methodName><params></params></methodCall>`, "unknown method"},
		{"no api prefix", `<methodCall><methodName>isUserExists</methodName><params></params></methodCall>`, "unknown method"},
	}
	for _, c := range cases {
		got := post(c.body)
		if !strings.Contains(got, "faultString") || !strings.Contains(got, c.want) {
			t.Errorf("%s: reply %s, want a fault containing %q", c.name, got, c.want)
		}
	}
	// Amounts finer than an amount keeps are refused, naming the parameter,
	// and write nothing.
	r.must(t, "addNewInternalUser", "frac", "correct horse battery", "", "", "", "")
	for _, amount := range []any{0.0000001, "0.0000001"} {
		_, err := r.call(t, "adjustUserAccountBalance", "frac", amount, "tiny")
		if f := fault(t, err); !strings.Contains(f.Message, `parameter "adjustment"`) || !strings.Contains(f.Message, "decimal places") {
			t.Errorf("adjust by %v: fault %q, want one naming the amount and its decimal places", amount, f.Message)
		}
	}
	if v := r.must(t, "getUserAccountBalance", "frac"); v != 0.0 {
		t.Errorf("balance after refused adjustments = %v", v)
	}
	// <int> beyond 32 bits is refused; <i8> is read.
	int32Call := func(tag, n string) string {
		return `<methodCall><methodName>api.listUserAccounts</methodName><params><param><value>` + token + `</value></param><param><value><` + tag + `>` + n + `</` + tag + `></value></param><param><value><int>5</int></value></param></params></methodCall>`
	}
	if got := post(int32Call("int", "-2147483649")); !strings.Contains(got, "outside the 32-bit range") {
		t.Errorf("<int>-2147483649</int>: reply %s", got)
	}
	if got := post(int32Call("i8", "0")); strings.Contains(got, "faultString") {
		t.Errorf("<i8>0</i8> refused: %s", got)
	}
	// An oversized body is a fault and changes nothing.
	huge := `<methodCall><methodName>api.addNewSharedAccount</methodName><params><param><value>` + token + `</value></param><param><value>` + strings.Repeat("x", 33<<20) + `</value></param></params></methodCall>`
	if got := post(huge); !strings.Contains(got, "faultString") {
		t.Errorf("oversized body accepted: %.200s", got)
	}
	if n, _ := r.store.CountAccounts(context.Background()); n != 0 {
		t.Errorf("an account was created by a refused call")
	}
	// GET is refused.
	resp, err := http.Get(r.url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET status %d", resp.StatusCode)
	}
}

func TestCallersMustComeFromAllowedAddresses(t *testing.T) {
	r := newRig(t, false)
	cfg := config.Default()
	cfg.Auth.WebServices.AuthToken = token
	cfg.Auth.WebServices.AllowedAddresses = []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")}
	srv := httptest.NewServer(&commands.XMLRPCHandler{Table: r.table, Env: r.env, Config: cfg, Log: slog.Default()})
	defer srv.Close()
	_, err := xmlrpc.Call(context.Background(), http.DefaultClient, srv.URL, "api.getTotalUsers", token)
	if f := fault(t, err); !strings.Contains(f.Message, "not allowed") {
		t.Errorf("fault %q", f.Message)
	}
}

// TestPythonClient drives the endpoint with Python's standard xmlrpc.client,
// an independent implementation of the protocol.
func TestPythonClient(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Require(t, "python3", "python3 is not installed")
		return
	}
	r := newRig(t, false)
	script := `
import json, sys, xmlrpc.client
s = xmlrpc.client.ServerProxy(sys.argv[1] + "/rpc/api/xmlrpc")
t = sys.argv[2]
out = {}
out["add"] = s.api.addNewInternalUser(t, "carol", "correct horse battery", "Carol C", "carol@example.org", "555", "")
out["exists"] = s.api.isUserExists(t, "carol")
out["name"] = s.api.getUserProperty(t, "carol", "full-name")
out["setbal"] = s.api.setUserAccountBalance(t, "carol", 12.5, "initial")
out["bal"] = s.api.getUserAccountBalance(t, "carol")
out["acct"] = s.api.addNewSharedAccount(t, "Matter 42")
out["list"] = s.api.listSharedAccounts(t, 0, 10)
out["miss"] = s.api.lookUpUserNameByCardNo(t, "000")
out["bool_yn"] = s.api.setSharedAccountProperty(t, "Matter 42", "restricted", "Y")
out["restricted"] = s.api.getSharedAccountProperty(t, "Matter 42", "restricted")
out["task"] = s.api.getTaskStatus()
try:
    s.api.getUserProperty(t, "nobody", "email")
except xmlrpc.client.Fault as f:
    out["fault"] = f.faultString
print(json.dumps(out))
`
	cmd := exec.Command(python, "-c", script, strings.TrimSuffix(r.url, "/rpc/api/xmlrpc"), token)
	// The rig serves the handler at the root; give Python the same path.
	srv := httptest.NewServer(http.StripPrefix("/rpc/api/xmlrpc", &commands.XMLRPCHandler{Table: r.table, Env: r.env, Config: rigConfig(), Log: slog.Default()}))
	defer srv.Close()
	cmd.Args[3] = srv.URL
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %s: %v", out, err)
	}
	want := map[string]any{"add": true, "exists": true, "name": "Carol C", "setbal": true, "bal": 12.5, "acct": true,
		"miss": "", "bool_yn": true, "restricted": "true", "fault": `user "nobody" does not exist`}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if l, _ := got["list"].([]any); len(l) != 1 || l[0] != "Matter 42" {
		t.Errorf("list = %v", got["list"])
	}
}

func rigConfig() *config.Config {
	cfg := config.Default()
	cfg.Auth.WebServices.AuthToken = token
	return cfg
}

func TestCLI(t *testing.T) {
	r := newRig(t, false)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := commands.RunCLI(context.Background(), r.table, r.env, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	if code, _, _ := run("add-new-shared-account", "Dept A"); code != 0 {
		t.Fatal("add-new-shared-account failed")
	}
	if code, out, _ := run("shared-account-exists", "dept a"); code != 0 || out != "true\n" {
		t.Errorf("shared-account-exists: %d %q", code, out)
	}
	if code, _, errs := run("adjust-shared-account-account-balance", "Dept A", "1,5"); code != 1 || !strings.Contains(errs, `"1,5" is not a decimal`) {
		t.Errorf("bad amount: %d %q", code, errs)
	}
	if code, _, errs := run("no-such-verb"); code != 1 || !strings.Contains(errs, "unknown command") {
		t.Errorf("unknown verb: %d %q", code, errs)
	}
	if code, _, errs := run("user-exists"); code != 1 || !strings.Contains(errs, "user-exists user") {
		t.Errorf("arity: %d %q", code, errs)
	}
	if code, _, errs := run("get-user-property", "ghost", "email"); code != 1 || !strings.Contains(errs, `"ghost" does not exist`) {
		t.Errorf("missing user: %d %q", code, errs)
	}
	if code, out, _ := run("look-up-user-name-by-card-no", "123"); code != 0 || out != "\n" {
		t.Errorf("lookup miss: %d %q", code, out)
	}
}

func TestKebabNames(t *testing.T) {
	for api, cli := range map[string]string{
		"isUserExists":                         "user-exists",
		"lookUpUserNameByIDNo":                 "look-up-user-name-by-id-no",
		"lookUpUserNameByCardNo":               "look-up-user-name-by-card-no",
		"batchImportUserCardIdNumbers":         "batch-import-user-card-id-numbers",
		"adjustUserAccountBalanceByCardNumber": "adjust-user-account-balance-by-card-number",
		"getTaskStatus":                        "get-task-status",
	} {
		if got := commands.KebabName(api); got != cli {
			t.Errorf("KebabName(%s) = %s, want %s", api, got, cli)
		}
	}
}

func FuzzXMLRPCEndpoint(f *testing.F) {
	f.Add(`<methodCall><methodName>api.isUserExists</methodName><params><param><value>` + token + `</value></param><param><value>x</value></param></params></methodCall>`)
	f.Add(`<methodCall><methodName>api.setUserProperties</methodName><params><param><value>` + token + `</value></param><param><value>x</value></param><param><value><array><data><value><array><data><value>a</value></data></array></value></data></array></value></param></params></methodCall>`)
	r := newRig(f, false)
	f.Fuzz(func(t *testing.T, body string) {
		rec := httptest.NewRecorder()
		h := &commands.XMLRPCHandler{Table: r.table, Env: r.env, Config: rigConfig(), Log: slog.New(slog.DiscardHandler)}
		req := httptest.NewRequest(http.MethodPost, "/rpc/api/xmlrpc", strings.NewReader(body))
		req.RemoteAddr = "127.0.0.1:1234"
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// TestReservedAndLookAlikeUsernames: the built-in admin's name, its
// look-alikes and mixed-script names are refused at every door of the
// command table; a name that looks like an existing user's is refused
// naming that user; ordinary accented names are fine. Both databases.
func TestReservedAndLookAlikeUsernames(t *testing.T) {
	for _, pg := range []bool{false, true} {
		r := newRig(t, pg)
		for _, name := range []string{"Admin", "ADMIN", "\u0430dmin", "adrnin"} {
			_, err := r.call(t, "addNewInternalUser", name, "correct horse battery", "", "", "", "")
			if f := fault(t, err); !strings.Contains(f.Message, "reserved for the built-in administrator") {
				t.Errorf("addNewInternalUser(%q): fault %q, want the reserved-name refusal", name, f.Message)
			}
			_, err = r.call(t, "addNewUser", name)
			if f := fault(t, err); !strings.Contains(f.Message, "reserved") {
				t.Errorf("addNewUser(%q): fault %q", name, f.Message)
			}
		}
		_, err := r.call(t, "addNewUser", "p\u0430ypal")
		if f := fault(t, err); !strings.Contains(f.Message, "mixes the") {
			t.Errorf("mixed-script name: fault %q", f.Message)
		}
		for _, name := range []string{"josé", "zoë", "user1"} {
			r.must(t, "addNewUser", name)
		}
		_, err = r.call(t, "addNewInternalUser", "userl", "correct horse battery", "", "", "", "")
		if f := fault(t, err); !strings.Contains(f.Message, `looks too much like the existing user "user1"`) {
			t.Errorf("look-alike of user1: fault %q", f.Message)
		}
		_, err = r.call(t, "renameUserAccount", "josé", "Admin")
		if f := fault(t, err); !strings.Contains(f.Message, "reserved") {
			t.Errorf("rename to Admin: fault %q", f.Message)
		}
		var out, errb bytes.Buffer
		if code := commands.RunCLI(context.Background(), r.table, r.env, []string{"add-new-user", "admin"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "reserved") {
			t.Errorf("server-command add-new-user admin: exit %d, %q", code, errb.String())
		}
		for _, name := range []string{"admin", "userl", "p\u0430ypal"} {
			if v := r.must(t, "isUserExists", name); v != false {
				t.Errorf("%q was created", name)
			}
		}
	}
}

// TestAPICallsAreCounted: ream_api_calls_total counts every answered call
// by method and fault, with methods outside the table as "unknown" so a
// caller cannot make a series per made-up name.
func TestAPICallsAreCounted(t *testing.T) {
	r := newRig(t, false)
	value := func(method, fault string) float64 {
		return metrics.Value(metrics.APICalls.WithLabelValues(method, fault))
	}
	ok, notFound, unknown := value("api.isUserExists", "none"), value("api.getUserAccountBalance", "not-found"), value("unknown", "method")
	r.must(t, "isUserExists", "nobody")
	if _, err := r.call(t, "getUserAccountBalance", "nobody"); fault(t, err).Code != commands.FaultNotFound {
		t.Fatalf("getUserAccountBalance of nobody: %v", err)
	}
	if _, err := r.call(t, "noSuchMethodX1"); fault(t, err).Code != commands.FaultMethod {
		t.Fatalf("an unknown method: %v", err)
	}
	if value("api.isUserExists", "none") != ok+1 || value("api.getUserAccountBalance", "not-found") != notFound+1 || value("unknown", "method") != unknown+1 {
		t.Errorf("counts did not move as expected")
	}
	if value("api.noSuchMethodX1", "method") != 0 {
		t.Errorf("an unknown method name got a series of its own")
	}
}
