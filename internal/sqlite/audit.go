package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/facereg/facereg"
)

const transactionColumns = "id, tenant_id, operation, outcome, reason, registration_key, external_id, latency_ms, created_at"

// AddTransaction appends an audit row. A zero tx.CreatedAt is set to now.
// The tenant is not checked: an audit row is never refused for it. Returns
// EINVALID for an empty id.
func (d *DB) AddTransaction(ctx context.Context, t *facereg.Transaction) error {
	if t.ID == "" {
		return invalid("transaction id is required")
	}
	created := orNow(&t.CreatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO transactions ("+transactionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
			t.ID, t.TenantID, t.Operation, t.Outcome, t.Reason, t.RegistrationKey, t.ExternalID, t.LatencyMS, created)
		if err != nil {
			return fmt.Errorf("sqlite: adding transaction %s: %w", t.ID, err)
		}
		return nil
	})
}

// Transaction returns ENOTFOUND.
func (d *DB) Transaction(ctx context.Context, tenantID, id string) (*facereg.Transaction, error) {
	t, err := scanTransaction(d.r.QueryRowContext(ctx, "SELECT "+transactionColumns+" FROM transactions WHERE tenant_id = ? AND id = ?", tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no transaction %q", id)
	}
	return t, err
}

// Transactions returns the tenant's audit rows matching f, newest first (by
// descending id, ids being time ordered). f.After is the last id of the
// previous page: rows with a smaller id follow. f.Since is inclusive,
// f.Until exclusive, both on CreatedAt. f.Limit <= 0 means no limit.
func (d *DB) Transactions(ctx context.Context, tenantID string, f facereg.TransactionFilter) ([]*facereg.Transaction, error) {
	where := []string{"tenant_id = ?"}
	args := []any{tenantID}
	eq := func(column, value string) {
		if value != "" {
			where = append(where, column+" = ?")
			args = append(args, value)
		}
	}
	eq("operation", f.Operation)
	eq("outcome", f.Outcome)
	eq("reason", f.Reason)
	eq("external_id", f.ExternalID)
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, nanos(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, nanos(f.Until))
	}
	if f.After != "" {
		where = append(where, "id < ?")
		args = append(args, f.After)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	args = append(args, limit)
	rows, err := d.r.QueryContext(ctx, "SELECT "+transactionColumns+" FROM transactions WHERE "+
		strings.Join(where, " AND ")+" ORDER BY id DESC LIMIT ?", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: listing transactions: %w", err)
	}
	defer rows.Close()
	var ts []*facereg.Transaction
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: listing transactions: %w", err)
	}
	return ts, nil
}

func scanTransaction(row scanner) (*facereg.Transaction, error) {
	var (
		t       facereg.Transaction
		created int64
	)
	if err := row.Scan(&t.ID, &t.TenantID, &t.Operation, &t.Outcome, &t.Reason, &t.RegistrationKey, &t.ExternalID, &t.LatencyMS, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading transaction: %w", err)
	}
	t.CreatedAt = fromNanos(created)
	return &t, nil
}
