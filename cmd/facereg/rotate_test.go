package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dbFileBytes reads the database file and its WAL (if any).
func dbFileBytes(t *testing.T, data string) []byte {
	t.Helper()
	var all []byte
	for _, name := range []string{"facereg.db", "facereg.db-wal"} {
		b, err := os.ReadFile(filepath.Join(data, name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatalf("no database in %s", data)
	}
	return all
}

// noPlaintext checks that no 48-byte piece of secret (at 16 offsets) is in
// the database files.
func noPlaintext(t *testing.T, data, what string, secret []byte) {
	t.Helper()
	db := dbFileBytes(t, data)
	if len(secret) < 64 {
		t.Fatalf("%s: too short to search for (%d bytes)", what, len(secret))
	}
	for i := 0; i < 16; i++ {
		off := i * (len(secret) - 48) / 15
		if bytes.Contains(db, secret[off:off+48]) {
			t.Fatalf("the database holds %s in plaintext (bytes %d..%d)", what, off, off+48)
		}
	}
}

func readDataKey(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "encryption.key"))
	if err != nil {
		t.Fatalf("encryption key file: %v", err)
	}
	k := strings.TrimSpace(string(b))
	if len(k) != 64 {
		t.Fatalf("encryption.key is not 64 hex characters: %q", k)
	}
	if _, err := hex.DecodeString(k); err != nil {
		t.Fatalf("encryption.key is not hex: %v", err)
	}
	return k
}

func copyDataDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRotateKey rotates the encryption key of a stopped server's data
// directory and checks that the data is readable with the new key only,
// that nothing sealed is stored in plaintext, and that an interrupted
// rotation is finished (or dropped) at the next start.
func TestRotateKey(t *testing.T) {
	bin := buildFacereg(t)
	root := t.TempDir()
	data := filepath.Join(root, "data")
	apiKey := createTenant(t, bin, data, "acme")
	env := binEnv(t)
	args := func(data string) []string {
		return []string{"--addr", "127.0.0.1:0", "--data", data, "--log-format", "json", "--rate", "0", "--lockout-failures", "0"}
	}
	faces := facesDir(t)
	imgPath := filepath.Join(faces, "identities", "fr_obama", "obama.jpg")
	img := readB64(t, imgPath)
	taskImg, err := os.ReadFile(filepath.Join(faces, "identities", "fr_biden", "biden.jpg"))
	if err != nil {
		t.Fatal(err)
	}

	// A registration, and a task whose sealed request holds an image.
	srv := startServer(t, bin, env, args(data)...)
	c := newAPIClient("http://"+srv.Addr, apiKey, nil)
	r := c.must(t, "POST", "/v1/registrations", map[string]any{"external_id": "rot-1", "image": img, "liveness": "skip"})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	regKey := r.str("registration_key")
	face := c.must(t, "GET", "/v1/faces/"+regKey, nil)
	if face.Status != http.StatusOK || len(face.Body) < 1000 {
		t.Fatalf("face: %d, %d bytes", face.Status, len(face.Body))
	}
	// rotate-key refuses while a server runs on the data directory (the
	// server would keep sealing with the old key).
	if busy := runCLI(t, bin, env, 60*time.Second, "rotate-key", "--data", data); busy.Code == 0 || !strings.Contains(busy.Stderr, "in use") {
		t.Fatalf("rotate-key with a running server: exit %d, stderr %q", busy.Code, busy.Stderr)
	}
	// and refuses a data directory without a database
	if none := runCLI(t, bin, env, 60*time.Second, "rotate-key", "--data", filepath.Join(root, "typo")); none.Code == 0 || !strings.Contains(none.Stderr, "no database") {
		t.Fatalf("rotate-key on a missing database: exit %d, stderr %q", none.Code, none.Stderr)
	}
	ta := c.must(t, "POST", "/v1/registrations", map[string]any{"external_id": "rot-2", "image": base64.StdEncoding.EncodeToString(taskImg), "liveness": "skip", "async": true})
	if ta.Status != http.StatusAccepted {
		t.Fatalf("async register: %d %s", ta.Status, ta.Body)
	}
	taskID := ta.str("task_id")
	waitTaskDone := func(c *apiClient) *apiResp {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			r := c.must(t, "GET", "/v1/tasks/"+taskID, nil)
			if st := r.str("status"); r.Status == http.StatusOK && (st == "succeeded" || st == "failed") {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %s not finished: %d %s", taskID, r.Status, r.Body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if tr := waitTaskDone(c); tr.str("status") != "succeeded" {
		t.Fatalf("task: %s", tr.Body)
	}
	srv.stopClean(t)

	// check reads the data after a start: the registration, its face (the
	// same bytes) and identification with its image, and the task.
	check := func(srv *serveProc, when string) {
		t.Helper()
		c := newAPIClient("http://"+srv.Addr, apiKey, nil)
		if g := c.must(t, "GET", "/v1/registrations/"+regKey, nil); g.Status != http.StatusOK || g.str("external_id") != "rot-1" {
			t.Fatalf("%s: registration: %d %s", when, g.Status, g.Body)
		}
		if f := c.must(t, "GET", "/v1/faces/"+regKey, nil); f.Status != http.StatusOK || !bytes.Equal(f.Body, face.Body) {
			t.Fatalf("%s: face: %d, %d bytes (want the %d bytes stored)", when, f.Status, len(f.Body), len(face.Body))
		}
		if keys, r := c.identifyKeys(t, img); len(keys) != 1 || keys[0] != regKey {
			t.Fatalf("%s: identify: %s", when, r.Body)
		}
		if tr := waitTaskDone(c); tr.str("status") != "succeeded" || tr.str("result", "external_id") != "rot-2" {
			t.Fatalf("%s: task: %s", when, tr.Body)
		}
	}

	oldKey := readDataKey(t, data)
	noPlaintext(t, data, "the face image", face.Body)
	noPlaintext(t, data, "the task's image", taskImg)
	noPlaintext(t, data, "the task's image (base64)", []byte(base64.StdEncoding.EncodeToString(taskImg)))
	before := filepath.Join(root, "before")
	copyDataDir(t, data, before)

	// With the key in the environment rotate-key needs the new key given.
	if r := runCLI(t, bin, binEnv(t, "FACEREG_ENCRYPTION_KEY="+oldKey), 30*time.Second, "rotate-key", "--data", data); r.Code == 0 || !strings.Contains(r.Stderr, "--new-key-file") {
		t.Fatalf("rotate-key with FACEREG_ENCRYPTION_KEY and no --new-key-file: exit %d %s%s", r.Code, r.Stdout, r.Stderr)
	}
	if k := readDataKey(t, data); k != oldKey {
		t.Fatal("a refused rotate-key changed the key file")
	}

	rot := runCLI(t, bin, env, 60*time.Second, "rotate-key", "--data", data)
	if rot.Code != 0 {
		t.Fatalf("rotate-key: exit %d\n%s%s", rot.Code, rot.Stdout, rot.Stderr)
	}
	var out struct {
		Rotated bool   `json:"rotated"`
		KeyID   string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(rot.Stdout), &out); err != nil || !out.Rotated || out.KeyID == "" {
		t.Fatalf("rotate-key output: %v %s", err, rot.Stdout)
	}
	newKey := readDataKey(t, data)
	if newKey == oldKey {
		t.Fatal("rotate-key left the key file unchanged")
	}
	if _, err := os.Stat(filepath.Join(data, "encryption.key.next")); !os.IsNotExist(err) {
		t.Fatalf("encryption.key.next left behind: %v", err)
	}
	if strings.Contains(rot.Stdout+rot.Stderr, newKey) || strings.Contains(rot.Stdout+rot.Stderr, oldKey) {
		t.Fatal("rotate-key printed key material")
	}
	noPlaintext(t, data, "the face image", face.Body)
	noPlaintext(t, data, "the task's image", taskImg)

	// The server starts with the new key and everything is readable.
	srv = startServer(t, bin, env, args(data)...)
	check(srv, "after the rotation")
	srv.stopClean(t)

	// The old key does not open the database any more.
	old := runCLI(t, bin, binEnv(t, "FACEREG_ENCRYPTION_KEY="+oldKey), 60*time.Second, append([]string{"serve"}, args(data)...)...)
	if old.Code == 0 || !strings.Contains(old.Stderr, "encryption key does not open this database") {
		t.Fatalf("serve with the old key: exit %d, stderr:\n%s", old.Code, old.Stderr)
	}
	if strings.Contains(old.Stderr, oldKey) || strings.Contains(old.Stderr, newKey) {
		t.Fatal("the refused start printed key material")
	}
	// nor did that attempt damage anything: the new key still works
	if k := readDataKey(t, data); k != newKey {
		t.Fatal("a refused start changed the key file")
	}
	srv = startServer(t, bin, binEnv(t, "FACEREG_ENCRYPTION_KEY="+newKey), args(data)...)
	check(srv, "with the new key in FACEREG_ENCRYPTION_KEY")
	srv.stopClean(t)

	// Interrupted rotation, committed: the database is sealed with the new
	// key, the new key is still in encryption.key.next and the old one in
	// encryption.key (a crash between the commit and the rename). The next
	// start finishes the rotation.
	if err := os.WriteFile(filepath.Join(data, "encryption.key"), []byte(oldKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "encryption.key.next"), []byte(newKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, bin, env, args(data)...)
	check(srv, "after an interrupted rotation that had committed")
	srv.stopClean(t)
	if len(srv.Logs.lines("finished an interrupted key rotation")) != 1 {
		t.Errorf("no \"finished an interrupted key rotation\" log line:\n%s", srv.Logs.String())
	}
	if k := readDataKey(t, data); k != newKey {
		t.Fatal("the interrupted rotation was not finished: encryption.key is not the new key")
	}
	if _, err := os.Stat(filepath.Join(data, "encryption.key.next")); !os.IsNotExist(err) {
		t.Fatalf("encryption.key.next left behind after finishing the rotation: %v", err)
	}

	// Interrupted rotation, not committed: the data directory as before the
	// rotation with a next key written (a crash before the commit). The
	// next start keeps the old key and drops the next one.
	if err := os.WriteFile(filepath.Join(before, "encryption.key.next"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, bin, env, args(before)...)
	check(srv, "after an interrupted rotation that had not committed")
	srv.stopClean(t)
	if k := readDataKey(t, before); k != oldKey {
		t.Fatal("an uncommitted rotation replaced the key")
	}
	if _, err := os.Stat(filepath.Join(before, "encryption.key.next")); !os.IsNotExist(err) {
		t.Fatalf("encryption.key.next of an uncommitted rotation left behind: %v", err)
	}
}
