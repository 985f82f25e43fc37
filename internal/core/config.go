package core

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/reamprint/ream/internal/auth"
	"github.com/reamprint/ream/internal/model"
	"github.com/reamprint/ream/internal/settings"
	"github.com/reamprint/ream/internal/store"
)

// ConfigValue reads a setting that the API may see (SPEC §7 getConfigValue).
func (c *Core) ConfigValue(ctx context.Context, key string) (string, error) {
	k, ok := settings.Lookup(key)
	if !ok || !k.API || k.Secret {
		return "", Errorf(Forbidden, "config key %q is not readable through the API", key)
	}
	return c.Settings.Get(ctx, key), nil
}

// SetConfigValue changes a setting. The API may change only allow-listed
// keys (fromAPI); the admin pages and the CLI may change any setting.
// Changing a key that guards a secret clears that secret (see
// ApplyConfigValues).
func (c *Core) SetConfigValue(ctx context.Context, a Actor, key, value string, fromAPI bool) error {
	k, ok := settings.Lookup(key)
	if !ok {
		if c.Config != nil && !fromAPI {
			for _, info := range c.Config.Keys() {
				if info.Name == key {
					return Errorf(Invalid, "config key %q belongs to the configuration file (%s); change it there and restart", key, info.Env)
				}
			}
		}
		return Errorf(Invalid, "unknown config key %q", key)
	}
	if fromAPI && !k.API {
		return Errorf(Forbidden, "config key %q cannot be changed through the API", key)
	}
	_, err := c.ApplyConfigValues(ctx, a, map[string]string{key: value})
	return err
}

// SetConfigValues changes several settings at once (one admin form), all or none.
func (c *Core) SetConfigValues(ctx context.Context, a Actor, values map[string]string) error {
	_, err := c.ApplyConfigValues(ctx, a, values)
	return err
}

// ApplyConfigValues changes several settings at once, all or none, and
// returns the secrets it cleared. A stored password is meant only for the
// server and login it was entered with: when a key that guards it (e.g.
// smtp.host guards smtp.password) gets a different value and the same
// change does not set the secret, the secret is cleared, so it is never
// sent to a server someone else chose.
func (c *Core) ApplyConfigValues(ctx context.Context, a Actor, values map[string]string) (cleared []string, err error) {
	names := make([]string, 0, len(values))
	normalized := make(map[string]string, len(values))
	for key, value := range values {
		k, ok := settings.Lookup(key)
		if !ok {
			return nil, Errorf(Invalid, "unknown config key %q", key)
		}
		if k.LocalOnly && a.Kind != model.ActorCLI && a.Kind != model.ActorSystem {
			return nil, Errorf(Forbidden, "config key %q can be changed only on the server, with server-command set-config", key)
		}
		v, err := settings.Normalize(key, value)
		if err != nil {
			return nil, Errorf(Invalid, "%v", err)
		}
		names = append(names, key)
		normalized[key] = v
	}
	sort.Strings(names) // a stable order of audit entries
	err = c.Store.InTx(ctx, func(tx *store.Tx) error {
		cleared = nil
		changedGuard := map[string]string{} // secret -> first guarding key that changed
		for _, key := range names {
			k, _ := settings.Lookup(key)
			if k.Guards != "" {
				if _, setsSecret := values[k.Guards]; !setsSecret {
					cur, err := storedSetting(ctx, tx, k)
					if err != nil {
						return err
					}
					if _, seen := changedGuard[k.Guards]; !seen && cur != normalized[key] {
						changedGuard[k.Guards] = key
					}
				}
			}
			if err := c.Settings.Set(ctx, tx, key, values[key]); err != nil {
				return Errorf(Invalid, "%v", err)
			}
			shown := normalized[key]
			if k.Secret {
				shown = "(secret)"
			}
			if err := audit(ctx, tx, a, "config.set", key, shown); err != nil {
				return err
			}
		}
		secrets := make([]string, 0, len(changedGuard))
		for secret := range changedGuard {
			secrets = append(secrets, secret)
		}
		sort.Strings(secrets)
		for _, secret := range secrets {
			sk, _ := settings.Lookup(secret)
			cur, err := storedSetting(ctx, tx, sk)
			if err != nil {
				return err
			}
			if cur == "" {
				continue // nothing stored, nothing to protect
			}
			if err := c.Settings.Set(ctx, tx, secret, ""); err != nil {
				return err
			}
			detail := "stored password cleared because " + changedGuard[secret] + " changed (the server or login it was entered for)"
			if err := audit(ctx, tx, a, "config.secret-cleared", secret, detail); err != nil {
				return err
			}
			cleared = append(cleared, secret)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cleared, nil
}

// storedSetting is a setting's value inside tx, or its default when it was never set.
func storedSetting(ctx context.Context, tx *store.Tx, k *settings.Key) (string, error) {
	v, ok, err := tx.Setting(ctx, k.Name)
	if err != nil {
		return "", fmt.Errorf("core: unable to read setting %s: %w", k.Name, err)
	}
	if !ok {
		return k.Default, nil
	}
	return v, nil
}

// LocalConfigValue is get-config on the server's command line: any
// setting, but a secret shows only whether it is set ("(set)" or ""),
// unless it is marked LocalReadable. The web-services token counts as set
// when the configuration file gives one.
//
// A key of the configuration file (listen, data-dir…) is shown too, the
// way `ream config show` shows it (a database URL without its password).
func (c *Core) LocalConfigValue(ctx context.Context, key string) (string, error) {
	k, ok := settings.Lookup(key)
	if !ok {
		if c.Config != nil {
			for _, info := range c.Config.Keys() {
				if info.Name != key {
					continue
				}
				if info.Secret {
					if info.Value == SecretIsSet {
						return SecretIsSet, nil
					}
					return "", nil
				}
				if v, err := strconv.Unquote(info.Value); err == nil {
					return v, nil
				}
				return info.Value, nil
			}
		}
		return "", Errorf(Invalid, "unknown config key %q", key)
	}
	v := c.Settings.Get(ctx, key)
	if key == settings.WebServicesToken && v == "" && c.Config != nil && c.Config.Auth.WebServices.AuthToken != "" {
		v = c.Config.Auth.WebServices.AuthToken
	}
	if k.Secret && !k.LocalReadable {
		if v == "" {
			return "", nil
		}
		return SecretIsSet, nil
	}
	return v, nil
}

// SecretIsSet is what get-config prints for a secret that has a value.
const SecretIsSet = "(set)"

// EnsureHealthAPIKey makes the health API's key on first start, as
// PaperCut does; an existing key is kept. The key is never logged: an
// operator reads it with server-command get-config health.api.key.
func (c *Core) EnsureHealthAPIKey(ctx context.Context) error {
	if c.Settings.Get(ctx, settings.HealthAPIKey) != "" {
		return nil
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if v, ok, err := tx.Setting(ctx, settings.HealthAPIKey); err != nil || (ok && v != "") {
			return err // another server made it first
		}
		if err := c.Settings.Set(ctx, tx, settings.HealthAPIKey, auth.NewToken()); err != nil {
			return err
		}
		return audit(ctx, tx, Actor{Name: "first start", Kind: model.ActorSystem}, "config.set", settings.HealthAPIKey, "(secret) made on first start")
	})
}
