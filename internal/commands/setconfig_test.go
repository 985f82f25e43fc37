package commands_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/reamprint/ream/internal/commands"
	"github.com/reamprint/ream/internal/xmlrpc"
)

// PaperCut's installer puts a new web-services token in place with
// `server-command set-config auth.webservices.auth-token …`: it takes effect
// at once, get-config shows only that it is set, and neither verb exists
// over XML-RPC.
func TestSetConfigWebServicesToken(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			r := newRig(t, db == "postgres")
			ctx := context.Background()
			run := func(args ...string) (int, string, string) {
				var out, errb bytes.Buffer
				code := commands.RunCLI(ctx, r.table, r.env, args, &out, &errb)
				return code, out.String(), errb.String()
			}
			callWith := func(tok string) error {
				_, err := xmlrpc.Call(ctx, http.DefaultClient, r.url, "api.getTotalUsers", tok)
				return err
			}
			// The configuration's token counts as set.
			if code, out, _ := run("get-config", "auth.webservices.auth-token"); code != 0 || out != "(set)\n" {
				t.Errorf("get-config of the configured token: %d %q", code, out)
			}
			const fresh = "Fresh-Token-Kestrel-5521"
			if code, out, errs := run("set-config", "auth.webservices.auth-token", fresh); code != 0 || out != "true\n" {
				t.Fatalf("set-config: %d %q %q", code, out, errs)
			}
			if err := callWith(fresh); err != nil {
				t.Errorf("the new token, without a restart: %v", err)
			}
			if err := callWith(token); err == nil {
				t.Error("the replaced token still works")
			}
			code, out, _ := run("get-config", "auth.webservices.auth-token")
			if code != 0 || out != "(set)\n" || strings.Contains(out, fresh) {
				t.Errorf("get-config of the token: %d %q", code, out)
			}
			if code, out, _ := run("get-config-value", "auth.webservices.auth-token"); code != 0 || strings.Contains(out, fresh) {
				t.Errorf("get-config-value of the token: %d %q", code, out)
			}
			// The audit log says it changed, never to what.
			audit, _, err := r.store.AuditLog(ctx, "", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range audit {
				if strings.Contains(e.Detail, fresh) {
					t.Errorf("the token is in the audit log: %+v", e)
				}
			}
			// A bad value changes nothing and names the key.
			if code, _, errs := run("set-config", "auth.webservices.auth-token", `["unterminated`); code != 1 || !strings.Contains(errs, "auth.webservices.auth-token") || strings.Contains(errs, "unterminated") {
				t.Errorf("bad token: %d %q", code, errs)
			}
			if err := callWith(fresh); err != nil {
				t.Errorf("after a refused change: %v", err)
			}
			if code, _, errs := run("set-config", "no.such.key", "1"); code != 1 || !strings.Contains(errs, `"no.such.key"`) {
				t.Errorf("unknown key: %d %q", code, errs)
			}
			// Keys of the configuration file read as `ream config show` shows them.
			if code, out, _ := run("get-config", "log.level"); code != 0 || out != "info\n" {
				t.Errorf("get-config log.level: %d %q", code, out)
			}
			if code, _, errs := run("set-config", "listen", ":9999"); code != 1 || !strings.Contains(errs, "configuration file") || !strings.Contains(errs, "REAM_LISTEN") {
				t.Errorf("set-config of a configuration file key: %d %q", code, errs)
			}
			// health.api.key is readable, as PaperCut's monitoring scripts read it.
			const key = "health-key-Heron-88231907"
			run("set-config", "health.api.key", key)
			if code, out, _ := run("get-config", "health.api.key"); code != 0 || out != key+"\n" {
				t.Errorf("get-config health.api.key: %d %q", code, out)
			}
			// Over XML-RPC: neither verb, and the allow-list still guards the keys.
			for _, m := range []string{"api.setConfig", "api.getConfig"} {
				_, err := xmlrpc.Call(ctx, http.DefaultClient, r.url, m, fresh, "auth.webservices.auth-token", "x")
				if f := fault(t, err); f.Code != commands.FaultMethod || !strings.Contains(f.Message, "command line") {
					t.Errorf("%s over XML-RPC: %d %q", m, f.Code, f.Message)
				}
			}
			for _, key := range []string{"auth.webservices.auth-token", "health.api.key"} {
				if _, err := xmlrpc.Call(ctx, http.DefaultClient, r.url, "api.setConfigValue", fresh, key, "Other-Token-Plover-1234"); fault(t, err).Code != commands.FaultForbidden {
					t.Errorf("setConfigValue %s over XML-RPC: %v", key, err)
				}
				if _, err := xmlrpc.Call(ctx, http.DefaultClient, r.url, "api.getConfigValue", fresh, key); fault(t, err).Code != commands.FaultForbidden {
					t.Errorf("getConfigValue %s over XML-RPC: %v", key, err)
				}
			}
		})
	}
}
