package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

const apiKeyColumns = "id, tenant_id, hash, created_at, revoked_at"

// CreateAPIKey stores k. A zero k.CreatedAt is set to now. Returns ENOTFOUND
// if k.TenantID is not a tenant, EINVALID if k.ID or k.Hash is empty.
func (d *DB) CreateAPIKey(ctx context.Context, k *facereg.APIKey) error {
	if k.ID == "" || len(k.Hash) == 0 {
		return invalid("API key id and hash are required")
	}
	created := orNow(&k.CreatedAt, now())
	var revoked *int64
	if k.RevokedAt != nil {
		n := nanos(*k.RevokedAt)
		revoked = &n
	}
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO api_keys ("+apiKeyColumns+") VALUES (?, ?, ?, ?, ?)",
			k.ID, k.TenantID, k.Hash, created, revoked)
		if isForeignKey(err) {
			return notFound("no tenant %q", k.TenantID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: creating API key %s: %w", k.ID, err)
		}
		return nil
	})
}

// APIKey returns the key with that id, of any tenant, revoked or not.
// Returns ENOTFOUND for an unknown id.
func (d *DB) APIKey(ctx context.Context, id string) (*facereg.APIKey, error) {
	k, err := scanAPIKey(d.r.QueryRowContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no API key %q", id)
	}
	return k, err
}

// APIKeys returns the keys of a tenant, revoked ones included, oldest first.
func (d *DB) APIKeys(ctx context.Context, tenantID string) ([]*facereg.APIKey, error) {
	rows, err := d.r.QueryContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys WHERE tenant_id = ? ORDER BY created_at, id", tenantID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing API keys: %w", err)
	}
	defer rows.Close()
	var ks []*facereg.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing API keys: %w", err)
	}
	return ks, nil
}

// RevokeAPIKey marks a key revoked now. Revoking a revoked key keeps its
// first revocation time. Returns ENOTFOUND for an unknown key of that tenant.
func (d *DB) RevokeAPIKey(ctx context.Context, tenantID, id string) error {
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE tenant_id = ? AND id = ?",
			nanos(now()), tenantID, id)
		if err != nil {
			return fmt.Errorf("sqlite: revoking API key %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: revoking API key %s: %w", id, err)
		} else if n == 0 {
			return notFound("no API key %q", id)
		}
		return nil
	})
}

func scanAPIKey(row scanner) (*facereg.APIKey, error) {
	var (
		k       facereg.APIKey
		created int64
		revoked *int64
	)
	if err := row.Scan(&k.ID, &k.TenantID, &k.Hash, &created, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading API key: %w", err)
	}
	k.CreatedAt = fromNanos(created)
	k.RevokedAt = nullNanos(revoked)
	return &k, nil
}
