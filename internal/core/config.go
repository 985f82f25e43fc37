package core

import (
	"context"

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
func (c *Core) SetConfigValue(ctx context.Context, a Actor, key, value string, fromAPI bool) error {
	k, ok := settings.Lookup(key)
	if !ok {
		return Errorf(Invalid, "unknown config key %q", key)
	}
	if fromAPI && !k.API {
		return Errorf(Forbidden, "config key %q cannot be changed through the API", key)
	}
	if _, err := settings.Normalize(key, value); err != nil {
		return Errorf(Invalid, "%v", err)
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := c.Settings.Set(ctx, tx, key, value); err != nil {
			return Errorf(Invalid, "%v", err)
		}
		shown := value
		if k.Secret {
			shown = "(secret)"
		}
		return audit(ctx, tx, a, "config.set", key, shown)
	})
}

// SetConfigValues changes several settings at once (one admin form), all or none.
func (c *Core) SetConfigValues(ctx context.Context, a Actor, values map[string]string) error {
	for key, value := range values {
		if _, err := settings.Normalize(key, value); err != nil {
			return Errorf(Invalid, "%v", err)
		}
	}
	return c.Store.InTx(ctx, func(tx *store.Tx) error {
		for key, value := range values {
			if err := c.Settings.Set(ctx, tx, key, value); err != nil {
				return Errorf(Invalid, "%v", err)
			}
			k, _ := settings.Lookup(key)
			shown := value
			if k.Secret {
				shown = "(secret)"
			}
			if err := audit(ctx, tx, a, "config.set", key, shown); err != nil {
				return err
			}
		}
		return nil
	})
}
