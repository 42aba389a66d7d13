package sqlite

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/seal"
	"github.com/facereg/facereg/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) facereg.Store {
		return open(t, filepath.Join(t.TempDir(), "facereg.db"), storetest.NewSealer(t))
	})
}

func TestStoreNop(t *testing.T) {
	storetest.Run(t, func(t *testing.T) facereg.Store {
		return open(t, filepath.Join(t.TempDir(), "facereg.db"), seal.Nop{})
	})
}

func open(t *testing.T, path string, s facereg.Sealer) *DB {
	t.Helper()
	d, err := Open(t.Context(), path, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tenant(t *testing.T, d *DB) *facereg.Tenant {
	t.Helper()
	tn := &facereg.Tenant{ID: "tenant-1", Name: "acme", Settings: facereg.DefaultTenantSettings(0.8, 0.6)}
	must(t, d.CreateTenant(t.Context(), tn))
	return tn
}

// marker is a template vector whose bytes are easy to look for on disk.
func marker() []float32 {
	v := make([]float32, 128)
	for i := range v {
		v[i] = 1234.5678 + float32(i)
	}
	return v
}

func registration(tenantID, key string) *facereg.Registration {
	live := 0.97
	return &facereg.Registration{
		Key: key, TenantID: tenantID, ExternalID: "ext-" + key,
		Template: facereg.Template{Model: "m", Vector: marker()},
		Face:     bytes.Repeat([]byte("FACE-JPEG-MARKER"), 64),
		Box:      facereg.Box{X: 1, Y: 2, Width: 3, Height: 4},
		Liveness: &live,
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "facereg.db")
	key := storetest.NewSealer(t)
	d, err := Open(ctx, path, key)
	must(t, err)
	tn := tenant(t, d)
	r := registration(tn.ID, "reg-1")
	r.CreatedAt = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC) // nanoseconds survive
	must(t, d.CreateRegistration(ctx, r))
	must(t, d.CreateTask(ctx, &facereg.Task{ID: "task-1", TenantID: tn.ID, Kind: "k", Request: []byte("req")}))
	must(t, d.AddTransaction(ctx, &facereg.Transaction{ID: "tx-1", TenantID: tn.ID, Operation: "register", Outcome: "success"}))
	must(t, d.PutRecord(ctx, tn.ID, "kind", "id", []byte("doc"), time.Time{}))
	must(t, d.PutIdempotent(ctx, tn.ID, "idem", &facereg.IdempotentResponse{RequestHash: "h", Status: 201}))
	must(t, d.Close())

	d = open(t, path, key)
	got, err := d.Registration(ctx, tn.ID, "reg-1")
	must(t, err)
	if !got.CreatedAt.Equal(r.CreatedAt) || got.CreatedAt.Nanosecond() != 123456789 || got.Template.Vector[5] != r.Template.Vector[5] {
		t.Errorf("registration after reopen: %+v", got)
	}
	if _, err := d.Tenant(ctx, tn.ID); err != nil {
		t.Error(err)
	}
	if tk, err := d.Task(ctx, tn.ID, "task-1"); err != nil || string(tk.Request) != "req" {
		t.Errorf("task after reopen: %v %v", tk, err)
	}
	if _, err := d.Transaction(ctx, tn.ID, "tx-1"); err != nil {
		t.Error(err)
	}
	if doc, err := d.Record(ctx, tn.ID, "kind", "id"); err != nil || string(doc) != "doc" {
		t.Errorf("record after reopen: %q %v", doc, err)
	}
	if _, err := d.Idempotent(ctx, tn.ID, "idem"); err != nil {
		t.Error(err)
	}
}

// diskBytes returns the database file and its WAL, if any.
func diskBytes(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestNotPlaintextOnDisk(t *testing.T) {
	pattern := encodeVector(marker()[:16])
	for _, tc := range []struct {
		name   string
		sealer facereg.Sealer
		found  bool
	}{
		{"aesgcm", storetest.NewSealer(t), false},
		{"nop", seal.Nop{}, true}, // shows that the search works
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "facereg.db")
			d, err := Open(ctx, path, tc.sealer)
			must(t, err)
			tn := tenant(t, d)
			must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))
			must(t, d.CreateTask(ctx, &facereg.Task{ID: "task-1", TenantID: tn.ID, Kind: "k", Request: []byte("TASK-REQUEST-MARKER")}))
			must(t, d.PutRecord(ctx, tn.ID, "kind", "id", []byte("RECORD-MARKER"), time.Time{}))
			st := tn.Settings
			st.WebhookSecret = "WEBHOOK-SECRET-MARKER"
			must(t, d.UpdateTenantSettings(ctx, tn.ID, st))
			back, err := d.Tenant(ctx, tn.ID)
			must(t, err)
			if back.Settings.WebhookSecret != "WEBHOOK-SECRET-MARKER" {
				t.Fatalf("webhook secret round trip: %q", back.Settings.WebhookSecret)
			}
			for _, phase := range []string{"open", "closed"} {
				if phase == "closed" {
					must(t, d.Close())
				}
				disk := diskBytes(t, path)
				for what, p := range map[string][]byte{
					"template": pattern, "face": []byte("FACE-JPEG-MARKER"),
					"task request": []byte("TASK-REQUEST-MARKER"), "record": []byte("RECORD-MARKER"),
					"webhook secret": []byte("WEBHOOK-SECRET-MARKER"),
				} {
					if got := bytes.Contains(disk, p); got != tc.found {
						t.Errorf("%s: %s found on disk: %v, want %v", phase, what, got, tc.found)
					}
				}
			}
		})
	}
}

func TestDeleteErasesFromDisk(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "facereg.db")
	d, err := Open(ctx, path, seal.Nop{}) // plaintext, to see what is left
	must(t, err)
	tn := tenant(t, d)
	must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))
	must(t, d.Close())
	if !bytes.Contains(diskBytes(t, path), []byte("FACE-JPEG-MARKER")) {
		t.Fatal("face not on disk before the delete; the test is broken")
	}
	d, err = Open(ctx, path, seal.Nop{})
	must(t, err)
	must(t, d.DeleteRegistration(ctx, tn.ID, "reg-1"))
	must(t, d.Close())
	disk := diskBytes(t, path)
	if bytes.Contains(disk, []byte("FACE-JPEG-MARKER")) || bytes.Contains(disk, encodeVector(marker()[:16])) {
		t.Error("the deleted face or template is still in the database file")
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "facereg.db")
	key := storetest.NewSealer(t)
	ms, err := loadMigrations()
	must(t, err)
	for range 3 {
		d, err := Open(ctx, path, key)
		must(t, err)
		var n, maxV int
		must(t, d.w.QueryRowContext(ctx, "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &maxV))
		if n != len(ms) || maxV != ms[len(ms)-1].version {
			t.Fatalf("schema_migrations has %d rows up to %d, want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].version)
		}
		must(t, d.Close())
	}

	// A database from a newer program is refused.
	d, err := Open(ctx, path, key)
	must(t, err)
	_, err = d.w.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future', 0)")
	must(t, err)
	must(t, d.Close())
	_, err = Open(ctx, path, key)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "facereg.db")
	right, wrong := storetest.NewSealer(t), storetest.NewSealer(t)
	d, err := Open(ctx, path, right)
	must(t, err)
	tn := tenant(t, d)
	must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))
	must(t, d.Close())

	_, err = Open(ctx, path, wrong)
	if !errors.Is(err, seal.ErrWrongKey) || !strings.Contains(err.Error(), "encryption key does not open this database") {
		t.Fatalf("Open with the wrong key: %v", err)
	}
	_, err = Open(ctx, path, seal.Nop{})
	if !errors.Is(err, seal.ErrEncrypted) {
		t.Fatalf("Open of an encrypted database without encryption: %v", err)
	}

	// Without the key check, reads still fail clearly.
	d, err = Open(ctx, path, right)
	must(t, err)
	_, err = d.w.ExecContext(ctx, "DELETE FROM meta WHERE name = ?", canaryName)
	must(t, err)
	must(t, d.Close())
	d = open(t, path, wrong)
	err = d.EachTemplate(ctx, func(string, string, facereg.Template) error { return nil })
	if !errors.Is(err, seal.ErrWrongKey) || !strings.Contains(err.Error(), "reg-1") {
		t.Fatalf("EachTemplate with the wrong key: %v", err)
	}
	_, err = d.Registration(ctx, tn.ID, "reg-1")
	if !errors.Is(err, seal.ErrWrongKey) || facereg.ErrorCode(err) != facereg.EINTERNAL {
		t.Fatalf("Registration with the wrong key: %v", err)
	}
}

func TestPlaintextDatabaseNeedsReseal(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "facereg.db")
	d, err := Open(ctx, path, seal.Nop{})
	must(t, err)
	tn := tenant(t, d)
	must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))
	must(t, d.Close())

	key := storetest.NewSealer(t)
	if _, err := Open(ctx, path, key); !errors.Is(err, seal.ErrNotEncrypted) {
		t.Fatalf("Open of a plaintext database with a key: %v", err)
	}
	// Enabling encryption: open as written, reseal, reopen with the key.
	d, err = Open(ctx, path, seal.Nop{})
	must(t, err)
	must(t, d.Reseal(ctx, key))
	must(t, d.Close())
	if bytes.Contains(diskBytes(t, path), []byte("FACE-JPEG-MARKER")) {
		t.Error("face still in plaintext on disk after Reseal")
	}
	d = open(t, path, key)
	if _, err := d.Registration(ctx, tn.ID, "reg-1"); err != nil {
		t.Fatal(err)
	}
}

func TestPragmas(t *testing.T) {
	ctx := t.Context()
	d := open(t, filepath.Join(t.TempDir(), "facereg.db"), seal.Nop{})
	for pragma, want := range map[string]string{
		"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "secure_delete": "1",
	} {
		var got string
		must(t, d.w.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
		if got != want {
			t.Errorf("writer PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	var qo int
	must(t, d.r.QueryRowContext(ctx, "PRAGMA query_only").Scan(&qo))
	if qo != 1 {
		t.Error("reader is not query_only")
	}
	if _, err := d.r.ExecContext(ctx, "INSERT INTO meta (name, value) VALUES ('x', x'00')"); err == nil {
		t.Error("a reader connection could write")
	}
}

func TestReadsNotBlockedByWrites(t *testing.T) {
	ctx := t.Context()
	d := open(t, filepath.Join(t.TempDir(), "facereg.db"), seal.Nop{})
	tn := tenant(t, d)
	must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))

	tx, err := d.w.BeginTx(ctx, nil) // holds the write lock
	must(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, "UPDATE tenants SET name = 'changed'")
	must(t, err)

	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := d.Tenant(rctx, tn.ID)
	must(t, err)
	if got.Name != "acme" {
		t.Errorf("read saw uncommitted data: %q", got.Name)
	}
	if _, err := d.Registration(rctx, tn.ID, "reg-1"); err != nil {
		t.Fatal(err)
	}
}

func TestPurgeExpired(t *testing.T) {
	ctx := t.Context()
	d := open(t, filepath.Join(t.TempDir(), "facereg.db"), storetest.NewSealer(t))
	past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
	must(t, d.PutRecord(ctx, "t", "k", "old1", []byte("x"), past))
	must(t, d.PutRecord(ctx, "t", "k", "old2", []byte("x"), past))
	must(t, d.PutRecord(ctx, "t", "k", "new", []byte("x"), future))
	must(t, d.PutRecord(ctx, "t", "k", "forever", []byte("x"), time.Time{}))
	n, err := d.PurgeExpired(ctx)
	must(t, err)
	if n != 2 {
		t.Errorf("PurgeExpired = %d, want 2", n)
	}
	var left int
	must(t, d.r.QueryRowContext(ctx, "SELECT count(*) FROM records").Scan(&left))
	if left != 2 {
		t.Errorf("%d records left, want 2", left)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%20chars", "sub")
	path := filepath.Join(dir, "facereg.db")
	d := open(t, path, seal.Nop{})
	tenant(t, d)
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("database file mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("WAL file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "facereg.db") {
			t.Errorf("unexpected file %q: the path was misread", e.Name())
		}
	}
	if d.Path() != path {
		t.Errorf("Path() = %q, want %q", d.Path(), path)
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := t.Context()
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if d, err := Open(ctx, p, seal.Nop{}); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "x.db"), nil); err == nil {
		t.Error("Open with a nil sealer succeeded")
	}
}

func TestUniqueErrorIsTranslatedOnlyForExternalID(t *testing.T) {
	ctx := t.Context()
	d := open(t, filepath.Join(t.TempDir(), "facereg.db"), seal.Nop{})
	tn := tenant(t, d)
	must(t, d.CreateRegistration(ctx, registration(tn.ID, "reg-1")))
	// Same key, other external id: a caller bug, not ALREADY_REGISTERED.
	r := registration(tn.ID, "reg-1")
	r.ExternalID = "someone else"
	err := d.CreateRegistration(ctx, r)
	if err == nil || facereg.ErrorCode(err) != facereg.EINTERNAL {
		t.Errorf("duplicate key: %v (code %s), want an internal error", err, facereg.ErrorCode(err))
	}
}

func TestVectorEncoding(t *testing.T) {
	v := []float32{0, float32(math.Copysign(0, -1)), 1, -1.5, math.MaxFloat32, float32(math.Inf(-1))}
	b := encodeVector(v)
	if len(b) != 4*len(v) || !bytes.Equal(b[8:12], []byte{0, 0, 0x80, 0x3f}) {
		t.Fatalf("encoding of 1.0 is %x, want little-endian 0000803f", b[8:12])
	}
	got, err := decodeVector(b)
	must(t, err)
	for i := range v {
		if math.Float32bits(got[i]) != math.Float32bits(v[i]) {
			t.Errorf("element %d = %v, want %v", i, got[i], v[i])
		}
	}
	if _, err := decodeVector(b[:5]); err == nil {
		t.Error("decoded a vector of 5 bytes")
	}
}
