package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facereg/facereg/internal/seal"
)

// runRotateKey re-encrypts everything sealed in the database under a new
// key. The server must be stopped (it holds the old key in memory).
//
// With the key in the data directory: the new key is first written durably
// to encryption.key.next, then every sealed column is re-encrypted in one
// transaction, then the next key replaces encryption.key. A crash at any
// point is recovered at the next start (see dataFlags.open). With the key in
// FACEREG_ENCRYPTION_KEY(_FILE), pass --new-key-file and point the variable
// at the new key afterwards.
func runRotateKey(ctx context.Context, args []string) error {
	fs := newFlags("rotate-key")
	var df dataFlags
	df.register(fs)
	newFile := fs.String("new-key-file", "", "file with the new key (64 hex chars); needed when the current key comes from FACEREG_ENCRYPTION_KEY(_FILE); default: generate one")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !df.encryption {
		return errors.New("encryption is off (--encryption=false): nothing to rotate")
	}
	external := os.Getenv(seal.EnvKey) != "" || os.Getenv(seal.EnvKeyFile) != ""
	var next []byte
	if *newFile != "" {
		b, err := os.ReadFile(*newFile)
		if err != nil {
			return err
		}
		if next, err = seal.ParseKey(b); err != nil {
			return fmt.Errorf("%s: %w", *newFile, err)
		}
	} else if external {
		return errors.New("the current key comes from FACEREG_ENCRYPTION_KEY(_FILE): give the new one with --new-key-file, then point the variable at it")
	} else {
		next = make([]byte, seal.KeySize)
		if _, err := rand.Read(next); err != nil {
			return err
		}
	}
	if _, err := os.Stat(df.dbPath()); err != nil {
		return fmt.Errorf("no database at %s: %w", df.dbPath(), err)
	}
	if err := df.lock(true); err != nil {
		return err
	}
	db, err := df.open(ctx, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	nextPath := filepath.Join(df.data, nextKeyFile)
	if !external {
		if err := writeFileSync(nextPath, seal.EncodeKey(next)); err != nil {
			return err
		}
	}
	ns, err := seal.New(next)
	if err != nil {
		return err
	}
	if err := db.Reseal(ctx, ns); err != nil {
		_ = os.Remove(nextPath)
		return fmt.Errorf("re-encrypt: %w (nothing changed)", err)
	}
	if !external {
		if err := os.Rename(nextPath, filepath.Join(df.data, seal.KeyFileName)); err != nil {
			return fmt.Errorf("data re-encrypted but the key file was not replaced (%w): the next start finishes it", err)
		}
	}
	return printJSON(map[string]any{"rotated": true, "key_id": hex.EncodeToString(seal.KeyID(next))})
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// jwtSecret returns the Verifik token signing secret: the flag, else one
// derived from the encryption key (so it survives restarts without another
// file), else a random one kept in the data directory.
func jwtSecret(flagVal string, df *dataFlags) ([]byte, error) {
	if flagVal != "" {
		return []byte(flagVal), nil
	}
	if df.encryption {
		key, _, err := seal.LoadKey(os.Getenv, df.data)
		if err != nil {
			return nil, err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte("facereg verifik jwt v1"))
		return m.Sum(nil), nil
	}
	p := filepath.Join(df.data, "jwt.secret")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return b, writeFileSync(p, b)
}
