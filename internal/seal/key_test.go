package seal

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseKey(t *testing.T) {
	k := bytes.Repeat([]byte{0xab}, KeySize)
	for _, text := range []string{
		hex.EncodeToString(k),
		strings.ToUpper(hex.EncodeToString(k)),
		" " + hex.EncodeToString(k) + "\n",
		base64.StdEncoding.EncodeToString(k),
		base64.RawStdEncoding.EncodeToString(k),
		base64.URLEncoding.EncodeToString(k),
		base64.RawURLEncoding.EncodeToString(k) + "\r\n",
	} {
		got, err := ParseKey([]byte(text))
		if err != nil || !bytes.Equal(got, k) {
			t.Errorf("ParseKey(%q) = %x, %v", text, got, err)
		}
	}
	for _, text := range []string{"", "abc", hex.EncodeToString(k[:16]), base64.StdEncoding.EncodeToString(k[:31]), strings.Repeat("z", 64)} {
		if _, err := ParseKey([]byte(text)); err == nil {
			t.Errorf("ParseKey(%q) accepted", text)
		}
	}
}

func TestLoadKeyFromEnv(t *testing.T) {
	k := bytes.Repeat([]byte{1}, KeySize)
	dir := t.TempDir()
	got, gen, err := LoadKey(env(map[string]string{EnvKey: hex.EncodeToString(k)}), dir)
	if err != nil || gen || !bytes.Equal(got, k) {
		t.Fatalf("LoadKey = %x, %v, %v", got, gen, err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); !os.IsNotExist(err) {
		t.Fatal("a key file was written although the key came from the environment")
	}

	_, _, err = LoadKey(env(map[string]string{EnvKey: "not-a-key-but-a-secret"}), dir)
	if err == nil || strings.Contains(err.Error(), "not-a-key-but-a-secret") {
		t.Fatalf("bad key: err = %v (must fail and not echo the value)", err)
	}
}

func TestLoadKeyFromFile(t *testing.T) {
	k := bytes.Repeat([]byte{2}, KeySize)
	f := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(f, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, gen, err := LoadKey(env(map[string]string{EnvKeyFile: f}), t.TempDir())
	if err != nil || gen || !bytes.Equal(got, k) {
		t.Fatalf("LoadKey = %x, %v, %v", got, gen, err)
	}
	if _, _, err := LoadKey(env(map[string]string{EnvKeyFile: f + ".missing"}), t.TempDir()); err == nil {
		t.Fatal("missing key file accepted")
	}
	if _, _, err := LoadKey(env(map[string]string{EnvKeyFile: f, EnvKey: hex.EncodeToString(k)}), t.TempDir()); err == nil {
		t.Fatal("both variables accepted")
	}
}

func TestLoadKeyGenerates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "sub")
	k1, gen, err := LoadKey(env(nil), dir)
	if err != nil || !gen || len(k1) != KeySize {
		t.Fatalf("first LoadKey = %x, %v, %v", k1, gen, err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, gen, err := LoadKey(env(nil), dir)
	if err != nil || gen || !bytes.Equal(k1, k2) {
		t.Fatalf("second LoadKey = %x, %v, %v; want the stored key", k2, gen, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key file", len(entries))
	}

	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey(env(nil), dir); err == nil {
		t.Fatal("a corrupt key file was accepted (or replaced)")
	}
	if _, _, err := LoadKey(env(nil), ""); err == nil {
		t.Fatal("no key source accepted")
	}
}

func TestLoadKeyConcurrentStarts(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, err := LoadKey(env(nil), dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first starts got different keys")
		}
	}
}
