package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

const tenantColumns = "id, name, settings, created_at, webhook_secret"

func webhookAAD(tenantID string) []byte { return []byte(tenantID + "/webhook") }

// splitSettings returns the settings JSON without the webhook secret and
// the secret sealed (nil when there is none).
func splitSettings(id string, st facereg.TenantSettings, s facereg.Sealer) (string, []byte, error) {
	secret := st.WebhookSecret
	st.WebhookSecret = ""
	b, err := json.Marshal(st)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: encoding tenant settings: %w", err)
	}
	if secret == "" {
		return string(b), nil, nil
	}
	sealed, err := s.Seal([]byte(secret), webhookAAD(id))
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: sealing webhook secret of tenant %s: %w", id, err)
	}
	return string(b), sealed, nil
}

// CreateTenant stores t. A zero t.CreatedAt is set to now. Returns EINVALID
// if another tenant has that name, or if t.ID or t.Name is empty.
func (d *DB) CreateTenant(ctx context.Context, t *facereg.Tenant) error {
	if t.ID == "" || t.Name == "" {
		return invalid("tenant id and name are required")
	}
	created := orNow(&t.CreatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		settings, secret, err := splitSettings(t.ID, t.Settings, s)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO tenants ("+tenantColumns+") VALUES (?, ?, ?, ?, ?)",
			t.ID, t.Name, settings, created, secret)
		if isUnique(err) {
			return invalid("a tenant named %q already exists", t.Name)
		}
		if err != nil {
			return fmt.Errorf("sqlite: creating tenant %s: %w", t.ID, err)
		}
		return nil
	})
}

// Tenant returns ENOTFOUND if no tenant has that id.
func (d *DB) Tenant(ctx context.Context, id string) (*facereg.Tenant, error) {
	t, err := d.oneTenant(ctx, "id", id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no tenant %q", id)
	}
	return t, err
}

// TenantByName returns ENOTFOUND if no tenant has that name.
func (d *DB) TenantByName(ctx context.Context, name string) (*facereg.Tenant, error) {
	t, err := d.oneTenant(ctx, "name", name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no tenant named %q", name)
	}
	return t, err
}

func (d *DB) oneTenant(ctx context.Context, column, value string) (*facereg.Tenant, error) {
	var t *facereg.Tenant
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		var err error
		t, err = scanTenant(tx.QueryRowContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE "+column+" = ?", value), s)
		return err
	})
	return t, err
}

// Tenants returns all tenants, oldest first.
func (d *DB) Tenants(ctx context.Context) ([]*facereg.Tenant, error) {
	var ts []*facereg.Tenant
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+tenantColumns+" FROM tenants ORDER BY created_at, id")
		if err != nil {
			return fmt.Errorf("sqlite: listing tenants: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTenant(rows, s)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: listing tenants: %w", err)
		}
		return nil
	})
	return ts, err
}

// UpdateTenantSettings replaces the settings of tenant id. Returns ENOTFOUND
// for an unknown tenant.
func (d *DB) UpdateTenantSettings(ctx context.Context, id string, st facereg.TenantSettings) error {
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		settings, secret, err := splitSettings(id, st, s)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE tenants SET settings = ?, webhook_secret = ? WHERE id = ?", settings, secret, id)
		if err != nil {
			return fmt.Errorf("sqlite: updating tenant %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: updating tenant %s: %w", id, err)
		} else if n == 0 {
			return notFound("no tenant %q", id)
		}
		return nil
	})
}

func scanTenant(row scanner, s facereg.Sealer) (*facereg.Tenant, error) {
	var (
		t        facereg.Tenant
		settings string
		created  int64
		secret   []byte
	)
	if err := row.Scan(&t.ID, &t.Name, &settings, &created, &secret); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading tenant: %w", err)
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, fmt.Errorf("sqlite: decoding settings of tenant %s: %w", t.ID, err)
	}
	if len(secret) > 0 {
		b, err := s.Open(secret, webhookAAD(t.ID))
		if err != nil {
			return nil, fmt.Errorf("sqlite: opening webhook secret of tenant %s: %w", t.ID, err)
		}
		t.Settings.WebhookSecret = string(b)
	}
	t.CreatedAt = fromNanos(created)
	return &t, nil
}
