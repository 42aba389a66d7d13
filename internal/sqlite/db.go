// Package sqlite implements facereg.Store on an SQLite file with the pure Go
// driver modernc.org/sqlite.
//
// The database runs in WAL mode with synchronous=FULL, so an acknowledged
// write survives a crash of the process or of the machine. Writes go through
// one connection (so concurrent writers queue in Go instead of failing with
// SQLITE_BUSY) and begin IMMEDIATE transactions; reads use a separate pool of
// read-only connections and are never blocked by a write.
//
// Templates, face crops, task requests and records are sealed with the
// facereg.Sealer given to Open, each bound by its aad to its row:
//
//	template      tenant/key
//	face          tenant/key/face
//	task request  tenant/task/id
//	record        tenant/kind/id
//
// Deleted rows are overwritten on disk (PRAGMA secure_delete).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/facereg/facereg"
)

// DB is the SQLite facereg.Store. It is safe for concurrent use.
type DB struct {
	path string
	w    *sql.DB // the single write connection
	r    *sql.DB // read-only connections

	// mu orders the sealer swap of Reseal against readers: a reader takes
	// the sealer and starts its snapshot under RLock, Reseal commits and
	// swaps under Lock, so a snapshot and its sealer always agree. Writers
	// need no lock: while one holds the write connection, Reseal cannot.
	mu     sync.RWMutex
	sealer facereg.Sealer
}

var _ facereg.Store = (*DB)(nil)

const busyTimeoutMS = 5000

// Open opens (creating if needed, with its parent directory) the database
// file at path, applies pending migrations, and checks that sealer opens the
// data already stored: a database written with another key, or written with
// encryption disabled when sealer encrypts (and the reverse), is refused with
// an error that wraps the sealer's. path is a file system path, not a URI;
// sealer must not be nil (use seal.Nop to store plaintext).
func Open(ctx context.Context, path string, sealer facereg.Sealer) (*DB, error) {
	if sealer == nil {
		return nil, errors.New("sqlite: nil sealer")
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: creating database directory: %w", err)
	}
	// Create the file ourselves so that it (and the -wal and -shm files,
	// which SQLite gives the same mode) is readable by the owner only.
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: creating database file: %w", err)
	}

	d := &DB{path: abs, sealer: sealer}
	d.w, err = sql.Open("sqlite", dsn(abs,
		"_txlock=immediate",
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMS),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(FULL)",
		"_pragma=foreign_keys(1)",
		"_pragma=secure_delete(1)",
	))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	d.w.SetMaxOpenConns(1)
	d.w.SetMaxIdleConns(1)
	if err := d.init(ctx); err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}

	d.r, err = sql.Open("sqlite", dsn(abs,
		"mode=ro",
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMS),
		"_pragma=query_only(1)",
	))
	if err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	n := max(8, 2*runtime.GOMAXPROCS(0))
	d.r.SetMaxOpenConns(n)
	d.r.SetMaxIdleConns(n)
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}
	return d, nil
}

// dsn is the driver's name for the file at abs: a file: URI, so that a path
// holding '?' or '%' is not misread, followed by params.
func dsn(abs string, params ...string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), OmitHost: true}
	return u.String() + "?" + strings.Join(params, "&")
}

// init migrates the schema, checks the journal mode and the sealer.
func (d *DB) init(ctx context.Context) error {
	if err := migrate(ctx, d.w); err != nil {
		return err
	}
	var mode string
	if err := d.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("reading journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not wal (does the file system support WAL?)", mode)
	}
	return d.checkSealer(ctx)
}

// Canary: a constant sealed at first open; failing to open it means the
// sealer is not the one the data was written with.
const (
	canaryName  = "sealer_check"
	canaryPlain = "facereg sealer check"
	canaryAAD   = "meta/sealer_check"
)

func (d *DB) checkSealer(ctx context.Context) error {
	return d.write(ctx, func(tx *sql.Tx, s facereg.Sealer) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE name = ?", canaryName).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			c, err := s.Seal([]byte(canaryPlain), []byte(canaryAAD))
			if err != nil {
				return fmt.Errorf("sealing key check: %w", err)
			}
			_, err = tx.ExecContext(ctx, "INSERT INTO meta (name, value) VALUES (?, ?)", canaryName, c)
			return err
		}
		if err != nil {
			return err
		}
		plain, err := s.Open(sealed, []byte(canaryAAD))
		if err != nil {
			return fmt.Errorf("the configured encryption key does not open this database: %w", err)
		}
		if string(plain) != canaryPlain {
			return errors.New("the configured encryption key does not open this database: key check mismatch")
		}
		return nil
	})
}

// Close closes the database. Pending writes already returned are durable.
func (d *DB) Close() error {
	var err error
	if d.r != nil {
		err = d.r.Close()
	}
	return errors.Join(err, d.w.Close())
}

// Ping checks that the database file can be read.
func (d *DB) Ping(ctx context.Context) error {
	var n int
	if err := d.r.QueryRowContext(ctx, "SELECT count(*) FROM meta").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (d *DB) Path() string { return d.path }

// write runs fn in an IMMEDIATE transaction on the write connection and
// commits it if fn returns nil. fn gets the current sealer.
func (d *DB) write(ctx context.Context, fn func(tx *sql.Tx, s facereg.Sealer) error) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	d.mu.RLock()
	s := d.sealer
	d.mu.RUnlock()
	if err := fn(tx, s); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// read runs fn in a read transaction whose snapshot matches the sealer fn
// gets. The transaction is rolled back (it never writes).
func (d *DB) read(ctx context.Context, fn func(tx *sql.Tx, s facereg.Sealer) error) error {
	d.mu.RLock()
	s := d.sealer
	tx, err := d.r.BeginTx(ctx, nil)
	if err == nil {
		// The snapshot starts with the first read, not with BEGIN.
		var n int
		err = tx.QueryRowContext(ctx, "SELECT count(*) FROM meta").Scan(&n)
		if err != nil {
			tx.Rollback()
		}
	}
	d.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx, s)
}

// PurgeExpired deletes the records whose expiry has passed and returns how
// many it deleted. Record already treats them as missing; this reclaims
// their space. Call it periodically.
func (d *DB) PurgeExpired(ctx context.Context) (int64, error) {
	var n int64
	err := d.write(ctx, func(tx *sql.Tx, _ facereg.Sealer) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at <= ?", nanos(time.Now()))
		if err != nil {
			return fmt.Errorf("sqlite: purging expired records: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
