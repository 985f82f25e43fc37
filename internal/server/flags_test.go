package server

import (
	"strings"
	"testing"
)

func TestConfigurationFlagsMayStandAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args, globals, rest string
	}{
		{"sync --data-dir /x --test", "--data-dir /x", "sync --test"},
		{"--data-dir=/x sync --file a.txt", "--data-dir=/x", "sync --file a.txt"},
		{"user-exists --set log.level=warn bob", "--set log.level=warn", "user-exists bob"},
		{"set-password --stdin --config /etc/ream.toml", "--config /etc/ream.toml", "set-password --stdin"},
		{"set-config-value note -- --data-dir", "", "set-config-value note -- --data-dir"},
		{"--listen", "--listen", ""},
	} {
		globals, rest := globalFlags(strings.Fields(tc.args))
		if strings.Join(globals, " ") != tc.globals || strings.Join(rest, " ") != tc.rest {
			t.Errorf("globalFlags(%q) = %q, %q; want %q, %q", tc.args, globals, rest, tc.globals, tc.rest)
		}
	}
}
