package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

const tenantColumns = "id, name, settings, created_at"

// CreateTenant stores t. A zero t.CreatedAt is set to now. Returns EINVALID
// if another tenant has that name, or if t.ID or t.Name is empty.
func (d *DB) CreateTenant(ctx context.Context, t *facereg.Tenant) error {
	if t.ID == "" || t.Name == "" {
		return invalid("tenant id and name are required")
	}
	settings, err := json.Marshal(t.Settings)
	if err != nil {
		return fmt.Errorf("sqlite: encoding tenant settings: %w", err)
	}
	created := orNow(&t.CreatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO tenants ("+tenantColumns+") VALUES (?, ?, ?, ?)",
			t.ID, t.Name, string(settings), created)
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
	t, err := scanTenant(d.r.QueryRowContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no tenant %q", id)
	}
	return t, err
}

// TenantByName returns ENOTFOUND if no tenant has that name.
func (d *DB) TenantByName(ctx context.Context, name string) (*facereg.Tenant, error) {
	t, err := scanTenant(d.r.QueryRowContext(ctx, "SELECT "+tenantColumns+" FROM tenants WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no tenant named %q", name)
	}
	return t, err
}

// Tenants returns all tenants, oldest first.
func (d *DB) Tenants(ctx context.Context) ([]*facereg.Tenant, error) {
	rows, err := d.r.QueryContext(ctx, "SELECT "+tenantColumns+" FROM tenants ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing tenants: %w", err)
	}
	defer rows.Close()
	var ts []*facereg.Tenant
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing tenants: %w", err)
	}
	return ts, nil
}

// UpdateTenantSettings replaces the settings of tenant id. Returns ENOTFOUND
// for an unknown tenant.
func (d *DB) UpdateTenantSettings(ctx context.Context, id string, s facereg.TenantSettings) error {
	settings, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("sqlite: encoding tenant settings: %w", err)
	}
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "UPDATE tenants SET settings = ? WHERE id = ?", string(settings), id)
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

func scanTenant(row scanner) (*facereg.Tenant, error) {
	var (
		t        facereg.Tenant
		settings string
		created  int64
	)
	if err := row.Scan(&t.ID, &t.Name, &settings, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading tenant: %w", err)
	}
	if err := json.Unmarshal([]byte(settings), &t.Settings); err != nil {
		return nil, fmt.Errorf("sqlite: decoding settings of tenant %s: %w", t.ID, err)
	}
	t.CreatedAt = fromNanos(created)
	return &t, nil
}
