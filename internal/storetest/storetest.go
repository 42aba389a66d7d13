// Package storetest is the contract suite of facereg.Store. Every backend
// runs it from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) facereg.Store { ... })
//	}
//
// Beyond the error codes named by the interface, the contract includes:
// creating an object under an unknown tenant (API key, registration, task)
// and adding a delivery to an unknown task are ENOTFOUND; zero CreatedAt and
// UpdatedAt are set to the current time, written back into the argument;
// times come back in UTC, equal to those stored to the microsecond at least;
// Registrations and Transactions treat a limit <= 0 as no limit;
// Transactions lists newest first (descending id), After being the last id
// of the previous page; Since is inclusive and Until exclusive; revoking a
// revoked key keeps its first revocation time.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facereg/facereg"
)

// Run runs the contract suite against the stores open returns. open must
// return a new, empty store on each call and arrange for it to be closed
// (t.Cleanup). Its sealer may be any facereg.Sealer; the Reseal tests
// replace it with AES-GCM sealers.
func Run(t *testing.T, open func(t *testing.T) facereg.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, facereg.Store)
	}{
		{"Tenants", testTenants},
		{"APIKeys", testAPIKeys},
		{"Registrations", testRegistrations},
		{"RegistrationIsolation", testRegistrationIsolation},
		{"RegistrationPaging", testRegistrationPaging},
		{"ReplaceRegistration", testReplaceRegistration},
		{"DeleteRegistration", testDeleteRegistration},
		{"EachTemplate", testEachTemplate},
		{"Tasks", testTasks},
		{"Deliveries", testDeliveries},
		{"UndeliveredTasks", testUndeliveredTasks},
		{"Transactions", testTransactions},
		{"TransactionFilter", testTransactionFilter},
		{"Idempotency", testIdempotency},
		{"Records", testRecords},
		{"RecordExpiry", testRecordExpiry},
		{"Timestamps", testTimestamps},
		{"Reseal", testReseal},
		{"ResealConcurrentReads", testResealConcurrentReads},
		{"ConcurrentSameExternalID", testConcurrentSameExternalID},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Ping", func(t *testing.T, s facereg.Store) {
			if err := s.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var (
	idPrefix = fmt.Sprintf("%012x", time.Now().UnixMilli())
	idSeq    atomic.Int64
)

// newID returns a unique id; later calls sort after earlier ones.
func newID(kind string) string {
	return fmt.Sprintf("%s-%s-%08d", kind, idPrefix, idSeq.Add(1))
}

// stamp is a fixed time in a non-UTC zone, at microsecond precision.
func stamp(offset time.Duration) time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.FixedZone("X", 5*3600+1800)).Add(offset)
}

func wantCode(t *testing.T, err error, code string, what string) {
	t.Helper()
	if got := facereg.ErrorCode(err); got != code {
		t.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	var fe *facereg.Error
	if code != "" && code != facereg.EINTERNAL && !errors.As(err, &fe) {
		t.Fatalf("%s: error %v is not a *facereg.Error", what, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

func newTenant(t *testing.T, s facereg.Store) *facereg.Tenant {
	t.Helper()
	id := newID("tenant")
	tn := &facereg.Tenant{
		ID:        id,
		Name:      "name of " + id,
		Settings:  facereg.DefaultTenantSettings(0.8, 0.6),
		CreatedAt: stamp(time.Duration(idSeq.Load()) * time.Millisecond),
	}
	must(t, s.CreateTenant(t.Context(), tn))
	return tn
}

// vector returns a template vector with awkward values.
func vector(seed int) []float32 {
	v := make([]float32, 128)
	for i := range v {
		v[i] = float32(math.Sin(float64(seed*131+i))) * 3
	}
	v[0] = float32(math.Copysign(0, -1))
	v[1] = math.MaxFloat32
	v[2] = math.SmallestNonzeroFloat32
	v[3] = float32(seed)
	return v
}

func newRegistration(tenantID string, seed int) *facereg.Registration {
	live := 0.25 + float64(seed%50)/100
	return &facereg.Registration{
		Key:        newID("reg"),
		TenantID:   tenantID,
		ExternalID: fmt.Sprintf("person-%d-%s", seed, newID("x")),
		Template:   facereg.Template{Model: "model-a", Vector: vector(seed)},
		Face:       []byte(fmt.Sprintf("\xff\xd8jpeg bytes of face %d\xff\xd9", seed)),
		Box:        facereg.Box{X: 10.5, Y: float64(seed), Width: 100.25, Height: 120},
		Liveness:   &live,
		CreatedAt:  stamp(time.Duration(seed) * time.Second),
		UpdatedAt:  stamp(time.Duration(seed)*time.Second + time.Microsecond),
	}
}

func sameVector(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func wantRegistration(t *testing.T, got, want *facereg.Registration) {
	t.Helper()
	if got.Key != want.Key || got.TenantID != want.TenantID || got.ExternalID != want.ExternalID {
		t.Errorf("registration = %s/%s/%s, want %s/%s/%s", got.TenantID, got.Key, got.ExternalID, want.TenantID, want.Key, want.ExternalID)
	}
	if got.Template.Model != want.Template.Model || !sameVector(got.Template.Vector, want.Template.Vector) {
		t.Errorf("registration %s: template does not round-trip", want.Key)
	}
	if !bytes.Equal(got.Face, want.Face) || (got.Face == nil) != (len(want.Face) == 0) {
		t.Errorf("registration %s: face = %q, want %q", want.Key, got.Face, want.Face)
	}
	if got.Box != want.Box {
		t.Errorf("registration %s: box = %+v, want %+v", want.Key, got.Box, want.Box)
	}
	switch {
	case (got.Liveness == nil) != (want.Liveness == nil):
		t.Errorf("registration %s: liveness = %v, want %v", want.Key, got.Liveness, want.Liveness)
	case got.Liveness != nil && *got.Liveness != *want.Liveness:
		t.Errorf("registration %s: liveness = %v, want %v", want.Key, *got.Liveness, *want.Liveness)
	}
	wantTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}
