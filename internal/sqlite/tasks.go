package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/facereg/facereg"
)

const taskColumns = "id, tenant_id, kind, status, request, result, http_code, created_at, updated_at"

func validStatus(s string) bool {
	switch s {
	case facereg.TaskPending, facereg.TaskRunning, facereg.TaskSucceeded, facereg.TaskFailed:
		return true
	}
	return false
}

// CreateTask stores t with its request sealed. An empty t.Status is set to
// TaskPending, zero times to now. Returns ENOTFOUND if t.TenantID is not a
// tenant, EINVALID for an empty id or kind or an unknown status.
func (d *DB) CreateTask(ctx context.Context, t *facereg.Task) error {
	if t.ID == "" || t.Kind == "" {
		return invalid("task id and kind are required")
	}
	if t.Status == "" {
		t.Status = facereg.TaskPending
	}
	if !validStatus(t.Status) {
		return invalid("unknown task status %q", t.Status)
	}
	n := now()
	created := orNow(&t.CreatedAt, n)
	updated := orNow(&t.UpdatedAt, n)
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		request, err := s.Seal(t.Request, taskAAD(t.TenantID, t.ID))
		if err != nil {
			return fmt.Errorf("sqlite: sealing request of task %s: %w", t.ID, err)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO tasks ("+taskColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.TenantID, t.Kind, t.Status, request, t.Result, t.HTTPCode, created, updated)
		if isForeignKey(err) {
			return notFound("no tenant %q", t.TenantID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: creating task %s: %w", t.ID, err)
		}
		return nil
	})
}

// Task returns the task with its request opened. Returns ENOTFOUND.
func (d *DB) Task(ctx context.Context, tenantID, id string) (*facereg.Task, error) {
	var t *facereg.Task
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		var err error
		t, err = scanTask(tx.QueryRowContext(ctx, "SELECT "+taskColumns+" FROM tasks WHERE tenant_id = ? AND id = ?", tenantID, id), s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no task %q", id)
	}
	return t, err
}

// UnfinishedTasks returns pending and running tasks of all tenants, oldest
// first, with their requests.
func (d *DB) UnfinishedTasks(ctx context.Context) ([]*facereg.Task, error) {
	var ts []*facereg.Task
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+taskColumns+" FROM tasks WHERE status IN (?, ?) ORDER BY created_at, id",
			facereg.TaskPending, facereg.TaskRunning)
		if err != nil {
			return fmt.Errorf("sqlite: listing unfinished tasks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows, s)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: listing unfinished tasks: %w", err)
		}
		return nil
	})
	return ts, err
}

// UndeliveredTasks returns the finished tasks of all tenants, finished at
// or after since, that have no successful (2xx) webhook delivery, oldest
// first. Their requests are erased, so only their results are returned.
func (d *DB) UndeliveredTasks(ctx context.Context, since time.Time) ([]*facereg.Task, error) {
	var ts []*facereg.Task
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+taskColumns+` FROM tasks t
			WHERE status IN (?, ?) AND updated_at >= ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.task_id = t.id AND d.status_code BETWEEN 200 AND 299)
			ORDER BY updated_at, id`, facereg.TaskSucceeded, facereg.TaskFailed, nanos(since))
		if err != nil {
			return fmt.Errorf("sqlite: listing undelivered tasks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanTask(rows, s)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: listing undelivered tasks: %w", err)
		}
		return nil
	})
	return ts, err
}

// FinishTask stores t.Status, t.Result and t.HTTPCode on the task t.ID of
// tenant t.TenantID and sets its updated time to t.UpdatedAt (now if zero).
// The request (which holds the image) is erased: a finished task keeps only
// its result. Returns ENOTFOUND, or EINVALID for an unknown status.
func (d *DB) FinishTask(ctx context.Context, t *facereg.Task) error {
	if !validStatus(t.Status) {
		return invalid("unknown task status %q", t.Status)
	}
	updated := orNow(&t.UpdatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "UPDATE tasks SET status = ?, result = ?, http_code = ?, updated_at = ?, request = X'' WHERE tenant_id = ? AND id = ?",
			t.Status, t.Result, t.HTTPCode, updated, t.TenantID, t.ID)
		return affectedOne(res, err, "finishing task", t.ID)
	})
}

// SetTaskStatus sets the status of task id (of any tenant) and its updated
// time to now. Returns ENOTFOUND, or EINVALID for an unknown status.
func (d *DB) SetTaskStatus(ctx context.Context, id, status string) error {
	if !validStatus(status) {
		return invalid("unknown task status %q", status)
	}
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?", status, nanos(now()), id)
		return affectedOne(res, err, "setting status of task", id)
	})
}

// affectedOne turns the result of an UPDATE of one task into ENOTFOUND when
// it matched no row.
func affectedOne(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %s %s: %w", what, id, err)
	}
	if n == 0 {
		return notFound("no task %q", id)
	}
	return nil
}

func scanTask(row scanner, s facereg.Sealer) (*facereg.Task, error) {
	var (
		t                facereg.Task
		request          []byte
		created, updated int64
	)
	if err := row.Scan(&t.ID, &t.TenantID, &t.Kind, &t.Status, &request, &t.Result, &t.HTTPCode, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading task: %w", err)
	}
	var err error
	if len(request) == 0 {
		// erased when the task finished
	} else if t.Request, err = s.Open(request, taskAAD(t.TenantID, t.ID)); err != nil {
		return nil, fmt.Errorf("sqlite: opening request of task %s: %w", t.ID, err)
	}
	t.CreatedAt = fromNanos(created)
	t.UpdatedAt = fromNanos(updated)
	return &t, nil
}

// AddDelivery records a webhook delivery attempt of task d.TaskID and sets
// d.ID. A zero d.CreatedAt is set to now. Returns ENOTFOUND for an unknown
// task.
func (d *DB) AddDelivery(ctx context.Context, dl *facereg.Delivery) error {
	created := orNow(&dl.CreatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (task_id, tenant_id, attempt, url, status_code, error, created_at)
			SELECT id, tenant_id, ?, ?, ?, ?, ? FROM tasks WHERE id = ?`,
			dl.Attempt, dl.URL, dl.StatusCode, dl.Error, created, dl.TaskID)
		if err != nil {
			return fmt.Errorf("sqlite: adding delivery of task %s: %w", dl.TaskID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: adding delivery of task %s: %w", dl.TaskID, err)
		} else if n == 0 {
			return notFound("no task %q", dl.TaskID)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite: adding delivery of task %s: %w", dl.TaskID, err)
		}
		dl.ID = id
		return nil
	})
}

// Deliveries returns the delivery attempts of a task in the order they were
// added. Returns ENOTFOUND if the tenant has no such task.
func (d *DB) Deliveries(ctx context.Context, tenantID, taskID string) ([]*facereg.Delivery, error) {
	var ds []*facereg.Delivery
	err := d.read(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tasks WHERE tenant_id = ? AND id = ?", tenantID, taskID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: listing deliveries: %w", err)
		}
		if n == 0 {
			return notFound("no task %q", taskID)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, task_id, attempt, url, status_code, error, created_at
			FROM deliveries WHERE task_id = ? AND tenant_id = ? ORDER BY id`, taskID, tenantID)
		if err != nil {
			return fmt.Errorf("sqlite: listing deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var (
				dl      facereg.Delivery
				created int64
			)
			if err := rows.Scan(&dl.ID, &dl.TaskID, &dl.Attempt, &dl.URL, &dl.StatusCode, &dl.Error, &created); err != nil {
				return fmt.Errorf("sqlite: reading delivery: %w", err)
			}
			dl.CreatedAt = fromNanos(created)
			ds = append(ds, &dl)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: listing deliveries: %w", err)
		}
		return nil
	})
	return ds, err
}
