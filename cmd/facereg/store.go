package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/seal"
	"github.com/facereg/facereg/internal/sqlite"
)

// dataFlags are the flags of every command that opens the database.
type dataFlags struct {
	data       string
	encryption bool
	lockFile   *os.File
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.data, "data", "data", "data directory: database (facereg.db) and, unless given by FACEREG_ENCRYPTION_KEY(_FILE), the encryption key")
	fs.BoolVar(&d.encryption, "encryption", true, "encrypt templates, face images and queued images at rest (AES-256-GCM)")
}

// sealer loads (or on first start generates) the encryption key. A pending
// rotation (encryption.key.next left by an interrupted rotate-key) is
// finished first.
func (d *dataFlags) sealer(log *slog.Logger) (facereg.Sealer, error) {
	if !d.encryption {
		return seal.Nop{}, nil
	}
	if err := os.MkdirAll(d.data, 0o700); err != nil {
		return nil, err
	}
	key, generated, err := seal.LoadKey(os.Getenv, d.data)
	if err != nil {
		return nil, err
	}
	if generated && log != nil {
		log.Info("generated a new encryption key", "file", filepath.Join(d.data, seal.KeyFileName))
	}
	return seal.New(key)
}

func (d *dataFlags) dbPath() string { return filepath.Join(d.data, "facereg.db") }

// open opens the database. An interrupted key rotation is recovered: if the
// current key does not open the database but encryption.key.next does, the
// rotation had committed and the next key becomes the current one.
func (d *dataFlags) open(ctx context.Context, log *slog.Logger) (*sqlite.DB, error) {
	if err := d.lock(false); err != nil {
		return nil, err
	}
	s, err := d.sealer(log)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, d.dbPath(), s)
	if err == nil {
		_ = os.Remove(filepath.Join(d.data, nextKeyFile)) // rotation never committed
		return db, nil
	}
	next := filepath.Join(d.data, nextKeyFile)
	b, rerr := os.ReadFile(next)
	if rerr != nil || os.Getenv(seal.EnvKey) != "" || os.Getenv(seal.EnvKeyFile) != "" {
		return nil, err
	}
	key, perr := seal.ParseKey(b)
	if perr != nil {
		return nil, errors.Join(err, perr)
	}
	ns, _ := seal.New(key)
	db, nerr := sqlite.Open(ctx, d.dbPath(), ns)
	if nerr != nil {
		return nil, err
	}
	if rerr := os.Rename(next, filepath.Join(d.data, seal.KeyFileName)); rerr != nil {
		db.Close()
		return nil, fmt.Errorf("finish key rotation: %w", rerr)
	}
	if log != nil {
		log.Info("finished an interrupted key rotation")
	}
	return db, nil
}

const nextKeyFile = "encryption.key.next"

// lock takes the data directory's lock file for the life of the process:
// shared for serve and the admin commands (they may run together), or
// exclusive for rotate-key, which must run alone: a server still sealing
// with the old key, or a command removing encryption.key.next mid-rotation,
// would make data unreadable. Non-blocking: a conflict is an error at once.
func (d *dataFlags) lock(exclusive bool) error {
	if d.lockFile != nil {
		return nil
	}
	if err := os.MkdirAll(d.data, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(d.data, "facereg.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if exclusive {
			return fmt.Errorf("the data directory %s is in use (a server or another command is running on it): stop it first", d.data)
		}
		return fmt.Errorf("the data directory %s is locked by a running rotate-key: retry when it is done", d.data)
	}
	d.lockFile = f
	heldLocks = append(heldLocks, f) // reachable until exit, so never finalised (which would unlock)
	return nil
}

var heldLocks []*os.File
