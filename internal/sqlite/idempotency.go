package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

// Idempotent returns the stored response for (tenant, key) or ENOTFOUND.
func (d *DB) Idempotent(ctx context.Context, tenantID, key string) (*facereg.IdempotentResponse, error) {
	var (
		r       facereg.IdempotentResponse
		created int64
	)
	err := d.r.QueryRowContext(ctx, "SELECT request_hash, status, body, created_at FROM idempotency WHERE tenant_id = ? AND key = ?",
		tenantID, key).Scan(&r.RequestHash, &r.Status, &r.Body, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no idempotent response for key %q", key)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading idempotent response: %w", err)
	}
	r.CreatedAt = fromNanos(created)
	return &r, nil
}

// PutIdempotent stores a response for (tenant, key); an existing entry is
// kept unchanged. A zero r.CreatedAt is set to now.
func (d *DB) PutIdempotent(ctx context.Context, tenantID, key string, r *facereg.IdempotentResponse) error {
	if key == "" || r == nil {
		return invalid("idempotency key and response are required")
	}
	created := orNow(&r.CreatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO idempotency (tenant_id, key, request_hash, status, body, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO NOTHING`,
			tenantID, key, r.RequestHash, r.Status, r.Body, created)
		if err != nil {
			return fmt.Errorf("sqlite: storing idempotent response: %w", err)
		}
		return nil
	})
}
