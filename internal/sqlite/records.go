package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/facereg/facereg"
)

// PutRecord stores data sealed under (tenant, kind, id), replacing any
// record there. A zero expires never expires. Returns EINVALID for an empty
// tenant, kind or id.
func (d *DB) PutRecord(ctx context.Context, tenantID, kind, id string, data []byte, expires time.Time) error {
	if tenantID == "" || kind == "" || id == "" {
		return invalid("record tenant, kind and id are required")
	}
	var exp *int64
	if !expires.IsZero() {
		n := nanos(expires)
		exp = &n
	}
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		sealed, err := s.Seal(data, recordAAD(tenantID, kind, id))
		if err != nil {
			return fmt.Errorf("sqlite: sealing record %s/%s: %w", kind, id, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO records (tenant_id, kind, id, data, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, kind, id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
			tenantID, kind, id, sealed, exp)
		if err != nil {
			return fmt.Errorf("sqlite: storing record %s/%s: %w", kind, id, err)
		}
		return nil
	})
}

// Record returns the data of a record. Returns ENOTFOUND if it is missing or
// expired.
func (d *DB) Record(ctx context.Context, tenantID, kind, id string) ([]byte, error) {
	var data []byte
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT data FROM records
			WHERE tenant_id = ? AND kind = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`,
			tenantID, kind, id, nanos(time.Now())).Scan(&sealed)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return err
			}
			return fmt.Errorf("sqlite: reading record %s/%s: %w", kind, id, err)
		}
		if data, err = s.Open(sealed, recordAAD(tenantID, kind, id)); err != nil {
			return fmt.Errorf("sqlite: opening record %s/%s: %w", kind, id, err)
		}
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no %s %q", kind, id)
	}
	return data, err
}

// DeleteRecord deletes a record. Returns ENOTFOUND if it is missing or
// expired (an expired record is deleted all the same).
func (d *DB) DeleteRecord(ctx context.Context, tenantID, kind, id string) error {
	found := false
	err := d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		var expires *int64
		err := tx.QueryRowContext(ctx, "DELETE FROM records WHERE tenant_id = ? AND kind = ? AND id = ? RETURNING expires_at",
			tenantID, kind, id).Scan(&expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqlite: deleting record %s/%s: %w", kind, id, err)
		}
		found = expires == nil || *expires > nanos(time.Now())
		return nil
	})
	if err == nil && !found {
		return notFound("no %s %q", kind, id)
	}
	return err
}
