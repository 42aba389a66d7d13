package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/facereg/facereg"
)

const registrationColumns = "key, tenant_id, external_id, model, template, face, box_x, box_y, box_width, box_height, liveness, created_at, updated_at"

// sealRegistration returns the sealed template and face (nil if r has none).
func sealRegistration(s facereg.Sealer, r *facereg.Registration) (template, face []byte, err error) {
	template, err = s.Seal(encodeVector(r.Template.Vector), templateAAD(r.TenantID, r.Key))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: sealing template of %s: %w", r.Key, err)
	}
	if len(r.Face) > 0 {
		face, err = s.Seal(r.Face, faceAAD(r.TenantID, r.Key))
		if err != nil {
			return nil, nil, fmt.Errorf("sqlite: sealing face of %s: %w", r.Key, err)
		}
	}
	return template, face, nil
}

// CreateRegistration stores r. Zero r.CreatedAt and r.UpdatedAt are set to
// now. Returns EALREADY if the tenant already has a registration with
// r.ExternalID, ENOTFOUND if r.TenantID is not a tenant, EINVALID if r.Key,
// r.TenantID or r.ExternalID is empty. An empty r.Face stores no face.
func (d *DB) CreateRegistration(ctx context.Context, r *facereg.Registration) error {
	if r.Key == "" || r.TenantID == "" || r.ExternalID == "" {
		return invalid("registration key, tenant and external id are required")
	}
	t := now()
	created := orNow(&r.CreatedAt, t)
	updated := orNow(&r.UpdatedAt, t)
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		template, face, err := sealRegistration(s, r)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO registrations ("+registrationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			r.Key, r.TenantID, r.ExternalID, r.Template.Model, template, face,
			r.Box.X, r.Box.Y, r.Box.Width, r.Box.Height, r.Liveness, created, updated)
		switch {
		case isUnique(err) && strings.Contains(err.Error(), "external_id"):
			return facereg.Errorf(facereg.EALREADY, "external id %q already has a registration", r.ExternalID)
		case isForeignKey(err):
			return notFound("no tenant %q", r.TenantID)
		case err != nil:
			return fmt.Errorf("sqlite: creating registration %s: %w", r.Key, err)
		}
		return nil
	})
}

// ReplaceRegistration replaces the template, face, box and liveness of the
// registration r.Key of tenant r.TenantID and sets its updated time to
// r.UpdatedAt (now if zero). Its external id and created time are kept.
// Returns ENOTFOUND.
func (d *DB) ReplaceRegistration(ctx context.Context, r *facereg.Registration) error {
	updated := orNow(&r.UpdatedAt, now())
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		template, face, err := sealRegistration(s, r)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE registrations
			SET model = ?, template = ?, face = ?, box_x = ?, box_y = ?, box_width = ?, box_height = ?, liveness = ?, updated_at = ?
			WHERE tenant_id = ? AND key = ?`,
			r.Template.Model, template, face, r.Box.X, r.Box.Y, r.Box.Width, r.Box.Height, r.Liveness, updated,
			r.TenantID, r.Key)
		if err != nil {
			return fmt.Errorf("sqlite: replacing registration %s: %w", r.Key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: replacing registration %s: %w", r.Key, err)
		} else if n == 0 {
			return notFound("no registration %q", r.Key)
		}
		return nil
	})
}

// Registration returns ENOTFOUND.
func (d *DB) Registration(ctx context.Context, tenantID, key string) (*facereg.Registration, error) {
	return d.oneRegistration(ctx, "key", tenantID, key)
}

// RegistrationByExternalID returns ENOTFOUND.
func (d *DB) RegistrationByExternalID(ctx context.Context, tenantID, externalID string) (*facereg.Registration, error) {
	return d.oneRegistration(ctx, "external_id", tenantID, externalID)
}

func (d *DB) oneRegistration(ctx context.Context, column, tenantID, value string) (*facereg.Registration, error) {
	var r *facereg.Registration
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		var err error
		r, err = scanRegistration(tx.QueryRowContext(ctx,
			"SELECT "+registrationColumns+" FROM registrations WHERE tenant_id = ? AND "+column+" = ?", tenantID, value), s)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("no registration %q", value)
	}
	return r, err
}

// Registrations returns at most limit registrations of the tenant (all if
// limit <= 0), with template and face, by ascending key after the cursor
// after ("" for the first page).
func (d *DB) Registrations(ctx context.Context, tenantID, after string, limit int) ([]*facereg.Registration, error) {
	if limit <= 0 {
		limit = -1 // no limit
	}
	var rs []*facereg.Registration
	err := d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+registrationColumns+" FROM registrations WHERE tenant_id = ? AND key > ? ORDER BY key LIMIT ?",
			tenantID, after, limit)
		if err != nil {
			return fmt.Errorf("sqlite: listing registrations: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRegistration(rows, s)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: listing registrations: %w", err)
		}
		return nil
	})
	return rs, err
}

// DeleteRegistration deletes the registration with its template and face;
// the freed pages are overwritten. Returns ENOTFOUND.
func (d *DB) DeleteRegistration(ctx context.Context, tenantID, key string) error {
	return d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM registrations WHERE tenant_id = ? AND key = ?", tenantID, key)
		if err != nil {
			return fmt.Errorf("sqlite: deleting registration %s: %w", key, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: deleting registration %s: %w", key, err)
		} else if n == 0 {
			return notFound("no registration %q", key)
		}
		return nil
	})
}

// EachTemplate calls fn for every registration of every tenant, in no
// particular order, reading one row at a time from one consistent snapshot.
// It stops at the first error of fn and returns it unwrapped. fn may call
// the store.
func (d *DB) EachTemplate(ctx context.Context, fn func(tenantID, key string, t facereg.Template) error) error {
	return d.read(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		rows, err := tx.QueryContext(ctx, "SELECT tenant_id, key, model, template FROM registrations")
		if err != nil {
			return fmt.Errorf("sqlite: reading templates: %w", err)
		}
		defer rows.Close()
		var tenantID, key, model string
		var sealed []byte
		for rows.Next() {
			if err := rows.Scan(&tenantID, &key, &model, &sealed); err != nil {
				return fmt.Errorf("sqlite: reading templates: %w", err)
			}
			v, err := openTemplate(s, tenantID, key, sealed)
			if err != nil {
				return err
			}
			if err := fn(tenantID, key, facereg.Template{Model: model, Vector: v}); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: reading templates: %w", err)
		}
		return nil
	})
}

func openTemplate(s facereg.Sealer, tenantID, key string, sealed []byte) ([]float32, error) {
	plain, err := s.Open(sealed, templateAAD(tenantID, key))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening template of registration %s: %w", key, err)
	}
	v, err := decodeVector(plain)
	if err != nil {
		return nil, fmt.Errorf("sqlite: registration %s: %w", key, err)
	}
	return v, nil
}

func scanRegistration(row scanner, s facereg.Sealer) (*facereg.Registration, error) {
	var (
		r                facereg.Registration
		template, face   []byte
		created, updated int64
	)
	err := row.Scan(&r.Key, &r.TenantID, &r.ExternalID, &r.Template.Model, &template, &face,
		&r.Box.X, &r.Box.Y, &r.Box.Width, &r.Box.Height, &r.Liveness, &created, &updated)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: reading registration: %w", err)
	}
	if r.Template.Vector, err = openTemplate(s, r.TenantID, r.Key, template); err != nil {
		return nil, err
	}
	if face != nil {
		if r.Face, err = s.Open(face, faceAAD(r.TenantID, r.Key)); err != nil {
			return nil, fmt.Errorf("sqlite: opening face of registration %s: %w", r.Key, err)
		}
	}
	r.CreatedAt = fromNanos(created)
	r.UpdatedAt = fromNanos(updated)
	return &r, nil
}
