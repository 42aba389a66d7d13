package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Environment variables and file name read by LoadKey.
const (
	// EnvKey holds the key itself: 64 hex characters or base64 of 32 bytes.
	EnvKey = "FACEREG_ENCRYPTION_KEY"
	// EnvKeyFile names a file holding the key in the same formats.
	EnvKeyFile = "FACEREG_ENCRYPTION_KEY_FILE"
	// KeyFileName is the key file in the data directory, used when neither
	// variable is set and created on first start.
	KeyFileName = "encryption.key"
)

// LoadKey finds the encryption key, in order:
//
//  1. EnvKey, the key itself;
//  2. EnvKeyFile, a file holding it;
//  3. dataDir/KeyFileName;
//  4. else it generates a random key and writes it to dataDir/KeyFileName
//     (mode 0600, written to a temporary file, synced, then linked into
//     place so that a concurrent start never overwrites a key already in
//     use), and returns generated = true.
//
// The key is given as 64 hex characters or as base64 (standard or URL
// alphabet, padded or not) of 32 bytes; surrounding white space is ignored.
// Setting both variables is an error. getenv is usually os.Getenv; nil means
// os.Getenv. Errors never contain key material.
func LoadKey(getenv func(string) string, dataDir string) (key []byte, generated bool, err error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	env, file := getenv(EnvKey), getenv(EnvKeyFile)
	switch {
	case env != "" && file != "":
		return nil, false, fmt.Errorf("seal: set only one of %s and %s", EnvKey, EnvKeyFile)
	case env != "":
		key, err := ParseKey([]byte(env))
		if err != nil {
			return nil, false, fmt.Errorf("seal: %s: %w", EnvKey, err)
		}
		return key, false, nil
	case file != "":
		key, err := readKeyFile(file)
		if err != nil {
			return nil, false, fmt.Errorf("seal: %s: %w", EnvKeyFile, err)
		}
		return key, false, nil
	}
	if dataDir == "" {
		return nil, false, fmt.Errorf("seal: no encryption key: set %s or %s, or give a data directory", EnvKey, EnvKeyFile)
	}
	path := filepath.Join(dataDir, KeyFileName)
	key, err = readKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("seal: %w", err)
	}
	key, err = createKeyFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("seal: %w", err)
	}
	return key, true, nil
}

// ParseKey decodes a key given as 64 hex characters or as base64 of 32 bytes.
func ParseKey(text []byte) ([]byte, error) {
	s := string(bytes.TrimSpace(text))
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("key must be %d hex characters or base64 of %d bytes", 2*KeySize, KeySize)
}

// EncodeKey returns the text form LoadKey writes: hex and a newline.
func EncodeKey(key []byte) []byte {
	return []byte(hex.EncodeToString(key) + "\n")
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// createKeyFile generates a key and stores it at path without ever leaving a
// partial file there, and without replacing a file another process created
// meanwhile (in which case that file's key is returned).
func createKeyFile(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating key directory: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+KeyFileName+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link, or on failure
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	if _, err := tmp.Write(EncodeKey(key)); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	// A hard link fails if path exists, unlike a rename: a key written by a
	// concurrent start wins and is used by both.
	switch err := os.Link(tmpName, path); {
	case err == nil:
	case errors.Is(err, fs.ErrExist):
		return readKeyFile(path)
	default:
		// File systems without hard links: fall back to a rename.
		if err := os.Rename(tmpName, path); err != nil {
			return nil, fmt.Errorf("writing key file: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return nil, fmt.Errorf("writing key file: %w", err)
	}
	return key, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
