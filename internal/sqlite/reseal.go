package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/facereg/facereg"
)

// resealBatch is how many rows Reseal holds in memory at once.
const resealBatch = 256

// Reseal re-encrypts every sealed value (templates, faces, task requests,
// records and the key check) from the current sealer to next in one
// transaction, then makes next the current sealer. Readers see either the
// old data with the old sealer or the new data with next, never a mix;
// writers wait until it is done. On error nothing changes.
func (d *DB) Reseal(ctx context.Context, next facereg.Sealer) error {
	if next == nil {
		return errors.New("sqlite: reseal: nil sealer")
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: reseal: begin: %w", err)
	}
	defer tx.Rollback()
	d.mu.RLock()
	cur := d.sealer
	d.mu.RUnlock()

	r := resealer{ctx: ctx, tx: tx, cur: cur, next: next}
	if err := r.all(); err != nil {
		return fmt.Errorf("sqlite: reseal: %w", err)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: reseal: commit: %w", err)
	}
	d.sealer = next
	return nil
}

type resealer struct {
	ctx       context.Context
	tx        *sql.Tx
	cur, next facereg.Sealer
}

// again opens a value with the current sealer and seals it with the next.
func (r *resealer) again(sealed, aad []byte) ([]byte, error) {
	plain, err := r.cur.Open(sealed, aad)
	if err != nil {
		return nil, err
	}
	return r.next.Seal(plain, aad)
}

func (r *resealer) all() error {
	var canary []byte
	if err := r.tx.QueryRowContext(r.ctx, "SELECT value FROM meta WHERE name = ?", canaryName).Scan(&canary); err != nil {
		return fmt.Errorf("reading key check: %w", err)
	}
	c, err := r.again(canary, []byte(canaryAAD))
	if err != nil {
		return fmt.Errorf("key check: %w", err)
	}
	if _, err := r.tx.ExecContext(r.ctx, "UPDATE meta SET value = ? WHERE name = ?", c, canaryName); err != nil {
		return err
	}
	if err := r.webhookSecrets(); err != nil {
		return err
	}
	if err := r.registrations(); err != nil {
		return err
	}
	if err := r.tasks(); err != nil {
		return err
	}
	return r.records()
}

func (r *resealer) registrations() error {
	type row struct {
		key, tenant    string
		template, face []byte
	}
	after := ""
	for {
		rows, err := r.tx.QueryContext(r.ctx, "SELECT key, tenant_id, template, face FROM registrations WHERE key > ? ORDER BY key LIMIT ?", after, resealBatch)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.key, &x.tenant, &x.template, &x.face); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range batch {
			if x.template, err = r.again(x.template, templateAAD(x.tenant, x.key)); err != nil {
				return fmt.Errorf("template of registration %s: %w", x.key, err)
			}
			if x.face != nil {
				if x.face, err = r.again(x.face, faceAAD(x.tenant, x.key)); err != nil {
					return fmt.Errorf("face of registration %s: %w", x.key, err)
				}
			}
			if _, err := r.tx.ExecContext(r.ctx, "UPDATE registrations SET template = ?, face = ? WHERE key = ?", x.template, x.face, x.key); err != nil {
				return err
			}
		}
		if len(batch) < resealBatch {
			return nil
		}
		after = batch[len(batch)-1].key
	}
}

func (r *resealer) tasks() error {
	type row struct {
		id, tenant string
		request    []byte
	}
	after := ""
	for {
		rows, err := r.tx.QueryContext(r.ctx, "SELECT id, tenant_id, request FROM tasks WHERE id > ? ORDER BY id LIMIT ?", after, resealBatch)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.id, &x.tenant, &x.request); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range batch {
			if len(x.request) == 0 {
				continue // erased when the task finished
			}
			if x.request, err = r.again(x.request, taskAAD(x.tenant, x.id)); err != nil {
				return fmt.Errorf("request of task %s: %w", x.id, err)
			}
			if _, err := r.tx.ExecContext(r.ctx, "UPDATE tasks SET request = ? WHERE id = ?", x.request, x.id); err != nil {
				return err
			}
		}
		if len(batch) < resealBatch {
			return nil
		}
		after = batch[len(batch)-1].id
	}
}

// webhookSecrets re-seals the tenants' webhook secrets (few rows: one pass).
func (r *resealer) webhookSecrets() error {
	type row struct {
		id     string
		secret []byte
	}
	rows, err := r.tx.QueryContext(r.ctx, "SELECT id, webhook_secret FROM tenants WHERE webhook_secret IS NOT NULL")
	if err != nil {
		return err
	}
	var all []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.id, &x.secret); err != nil {
			rows.Close()
			return err
		}
		all = append(all, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range all {
		if x.secret, err = r.again(x.secret, webhookAAD(x.id)); err != nil {
			return fmt.Errorf("webhook secret of tenant %s: %w", x.id, err)
		}
		if _, err := r.tx.ExecContext(r.ctx, "UPDATE tenants SET webhook_secret = ? WHERE id = ?", x.secret, x.id); err != nil {
			return err
		}
	}
	return nil
}

func (r *resealer) records() error {
	type row struct {
		tenant, kind, id string
		data             []byte
	}
	var last row // ("", "", "") sorts before every record
	for {
		rows, err := r.tx.QueryContext(r.ctx, `SELECT tenant_id, kind, id, data FROM records
			WHERE (tenant_id, kind, id) > (?, ?, ?) ORDER BY tenant_id, kind, id LIMIT ?`,
			last.tenant, last.kind, last.id, resealBatch)
		if err != nil {
			return err
		}
		var batch []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.tenant, &x.kind, &x.id, &x.data); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range batch {
			if x.data, err = r.again(x.data, recordAAD(x.tenant, x.kind, x.id)); err != nil {
				return fmt.Errorf("record %s/%s: %w", x.kind, x.id, err)
			}
			if _, err := r.tx.ExecContext(r.ctx, "UPDATE records SET data = ? WHERE tenant_id = ? AND kind = ? AND id = ?",
				x.data, x.tenant, x.kind, x.id); err != nil {
				return err
			}
		}
		if len(batch) < resealBatch {
			return nil
		}
		last = batch[len(batch)-1]
	}
}
