package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func testIdempotency(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	_, err := s.Idempotent(ctx, a.ID, "k1")
	wantCode(t, err, facereg.ENOTFOUND, "Idempotent(missing)")

	r := &facereg.IdempotentResponse{RequestHash: "sha256:abc", Status: 201, Body: []byte(`{"ok":true}`), CreatedAt: stamp(0)}
	must(t, s.PutIdempotent(ctx, a.ID, "k1", r))
	got, err := s.Idempotent(ctx, a.ID, "k1")
	must(t, err)
	if got.RequestHash != r.RequestHash || got.Status != r.Status || !bytes.Equal(got.Body, r.Body) {
		t.Errorf("Idempotent = %+v, want %+v", got, r)
	}
	wantTime(t, "idempotent CreatedAt", got.CreatedAt, r.CreatedAt)

	// An existing entry is kept.
	must(t, s.PutIdempotent(ctx, a.ID, "k1", &facereg.IdempotentResponse{RequestHash: "sha256:other", Status: 500, Body: []byte("x")}))
	got, err = s.Idempotent(ctx, a.ID, "k1")
	must(t, err)
	if got.RequestHash != r.RequestHash || got.Status != 201 {
		t.Errorf("second PutIdempotent replaced the entry: %+v", got)
	}

	_, err = s.Idempotent(ctx, b.ID, "k1")
	wantCode(t, err, facereg.ENOTFOUND, "Idempotent(other tenant's)")
	rb := &facereg.IdempotentResponse{RequestHash: "sha256:b", Status: 200}
	must(t, s.PutIdempotent(ctx, b.ID, "k1", rb))
	if rb.CreatedAt.IsZero() {
		t.Error("zero CreatedAt was not set")
	}
	got, err = s.Idempotent(ctx, b.ID, "k1")
	must(t, err)
	if got.RequestHash != "sha256:b" || len(got.Body) != 0 {
		t.Errorf("Idempotent(b) = %+v", got)
	}
}

func testRecords(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	data := []byte(`{"applicant":"x"}` + "\x00\xff")
	must(t, s.PutRecord(ctx, a.ID, "applicant", "r1", data, time.Time{}))
	got, err := s.Record(ctx, a.ID, "applicant", "r1")
	must(t, err)
	if !bytes.Equal(got, data) {
		t.Errorf("Record = %q, want %q", got, data)
	}
	for _, c := range [][3]string{{b.ID, "applicant", "r1"}, {a.ID, "upload", "r1"}, {a.ID, "applicant", "r2"}} {
		_, err := s.Record(ctx, c[0], c[1], c[2])
		wantCode(t, err, facereg.ENOTFOUND, "Record"+c[0]+"/"+c[1]+"/"+c[2])
		wantCode(t, s.DeleteRecord(ctx, c[0], c[1], c[2]), facereg.ENOTFOUND, "DeleteRecord"+c[0]+"/"+c[1]+"/"+c[2])
	}

	// Same id under another kind and tenant are other records.
	must(t, s.PutRecord(ctx, a.ID, "upload", "r1", []byte("upload"), time.Time{}))
	must(t, s.PutRecord(ctx, b.ID, "applicant", "r1", []byte("b's"), time.Time{}))
	// Replace.
	must(t, s.PutRecord(ctx, a.ID, "applicant", "r1", []byte("v2"), time.Now().Add(time.Hour)))
	for _, c := range [][4]string{{a.ID, "applicant", "r1", "v2"}, {a.ID, "upload", "r1", "upload"}, {b.ID, "applicant", "r1", "b's"}} {
		got, err := s.Record(ctx, c[0], c[1], c[2])
		must(t, err)
		if string(got) != c[3] {
			t.Errorf("Record(%s/%s/%s) = %q, want %q", c[0], c[1], c[2], got, c[3])
		}
	}
	// Replacing with no expiry clears the expiry.
	must(t, s.PutRecord(ctx, a.ID, "applicant", "r1", []byte("v3"), time.Time{}))

	must(t, s.DeleteRecord(ctx, a.ID, "applicant", "r1"))
	_, err = s.Record(ctx, a.ID, "applicant", "r1")
	wantCode(t, err, facereg.ENOTFOUND, "Record(deleted)")
	wantCode(t, s.DeleteRecord(ctx, a.ID, "applicant", "r1"), facereg.ENOTFOUND, "DeleteRecord(deleted)")
	if _, err := s.Record(ctx, a.ID, "upload", "r1"); err != nil {
		t.Errorf("deleting one record deleted another: %v", err)
	}

	must(t, s.PutRecord(ctx, a.ID, "empty", "e", nil, time.Time{}))
	got, err = s.Record(ctx, a.ID, "empty", "e")
	must(t, err)
	if len(got) != 0 {
		t.Errorf("empty record = %q", got)
	}
}

func testRecordExpiry(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	must(t, s.PutRecord(ctx, a.ID, "k", "past", []byte("x"), time.Now().Add(-time.Second)))
	_, err := s.Record(ctx, a.ID, "k", "past")
	wantCode(t, err, facereg.ENOTFOUND, "Record(expired)")
	wantCode(t, s.DeleteRecord(ctx, a.ID, "k", "past"), facereg.ENOTFOUND, "DeleteRecord(expired)")

	soon := time.Now().Add(300 * time.Millisecond)
	must(t, s.PutRecord(ctx, a.ID, "k", "soon", []byte("x"), soon))
	if _, err := s.Record(ctx, a.ID, "k", "soon"); err != nil && time.Now().Before(soon) {
		t.Fatalf("Record before expiry: %v", err)
	}
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	_, err = s.Record(ctx, a.ID, "k", "soon")
	wantCode(t, err, facereg.ENOTFOUND, "Record(after expiry)")

	// An expired record can be put again.
	must(t, s.PutRecord(ctx, a.ID, "k", "soon", []byte("y"), time.Time{}))
	got, err := s.Record(ctx, a.ID, "k", "soon")
	must(t, err)
	if string(got) != "y" {
		t.Errorf("Record(put again) = %q", got)
	}
}

// testTimestamps: times in any zone come back equal, in UTC.
func testTimestamps(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	zone := time.FixedZone("Y", -(9*3600 + 1800))
	when := time.Date(2031, 12, 31, 23, 59, 59, 999999000, zone)
	tn := &facereg.Tenant{ID: newID("tenant"), Name: newID("name"), CreatedAt: when}
	must(t, s.CreateTenant(ctx, tn))
	got, err := s.Tenant(ctx, tn.ID)
	must(t, err)
	wantTime(t, "tenant CreatedAt", got.CreatedAt, when)

	r := newRegistration(tn.ID, 1)
	r.CreatedAt, r.UpdatedAt = when, when.Add(time.Microsecond)
	must(t, s.CreateRegistration(ctx, r))
	gr, err := s.Registration(ctx, tn.ID, r.Key)
	must(t, err)
	wantRegistration(t, gr, r)

	old := time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC)
	tx := &facereg.Transaction{ID: newID("tx"), TenantID: tn.ID, Operation: "x", Outcome: "success", CreatedAt: old}
	must(t, s.AddTransaction(ctx, tx))
	gt, err := s.Transaction(ctx, tn.ID, tx.ID)
	must(t, err)
	wantTime(t, "transaction CreatedAt", gt.CreatedAt, old)
}
