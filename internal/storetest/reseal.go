package storetest

import (
	"bytes"
	"crypto/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/seal"
)

// NewSealer returns an AES-GCM sealer with a random key.
func NewSealer(t testing.TB) *seal.AESGCM {
	t.Helper()
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	s, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sealedData is one of each sealed kind of value, to check after a Reseal.
type sealedData struct {
	tenant *facereg.Tenant
	regs   []*facereg.Registration
	tasks  []*facereg.Task
	recs   map[string][]byte
}

func fill(t *testing.T, s facereg.Store, n int) *sealedData {
	ctx := t.Context()
	d := &sealedData{tenant: newTenant(t, s), recs: map[string][]byte{}}
	d.tenant.Settings.WebhookSecret = "whsec-" + newID("s")
	must(t, s.UpdateTenantSettings(ctx, d.tenant.ID, d.tenant.Settings))
	for i := range n {
		r := newRegistration(d.tenant.ID, i)
		if i%3 == 0 {
			r.Face = nil
		}
		must(t, s.CreateRegistration(ctx, r))
		d.regs = append(d.regs, r)
		if i%4 == 0 {
			tk := newTask(d.tenant.ID, stamp(time.Duration(i)))
			must(t, s.CreateTask(ctx, tk))
			d.tasks = append(d.tasks, tk)
			id := newID("rec")
			d.recs[id] = []byte("record " + id)
			must(t, s.PutRecord(ctx, d.tenant.ID, "kind", id, d.recs[id], time.Time{}))
		}
	}
	return d
}

func (d *sealedData) check(t *testing.T, s facereg.Store) {
	t.Helper()
	ctx := t.Context()
	tn, err := s.Tenant(ctx, d.tenant.ID)
	if err != nil {
		t.Fatalf("Tenant: %v", err)
	}
	if tn.Settings.WebhookSecret != d.tenant.Settings.WebhookSecret {
		t.Errorf("webhook secret does not round-trip: %q", tn.Settings.WebhookSecret)
	}
	for _, r := range d.regs {
		got, err := s.Registration(ctx, d.tenant.ID, r.Key)
		if err != nil {
			t.Fatalf("Registration(%s): %v", r.Key, err)
		}
		wantRegistration(t, got, r)
	}
	yielded := map[string]facereg.Template{}
	must(t, s.EachTemplate(ctx, func(_, key string, tpl facereg.Template) error { yielded[key] = tpl; return nil }))
	for _, r := range d.regs {
		if tpl, ok := yielded[r.Key]; !ok || !sameVector(tpl.Vector, r.Template.Vector) {
			t.Errorf("EachTemplate did not yield the template of %s", r.Key)
		}
	}
	for _, tk := range d.tasks {
		got, err := s.Task(ctx, d.tenant.ID, tk.ID)
		if err != nil {
			t.Fatalf("Task(%s): %v", tk.ID, err)
		}
		if !bytes.Equal(got.Request, tk.Request) {
			t.Errorf("task %s request does not round-trip", tk.ID)
		}
	}
	if _, err := s.UnfinishedTasks(ctx); err != nil {
		t.Fatal(err)
	}
	for id, data := range d.recs {
		got, err := s.Record(ctx, d.tenant.ID, "kind", id)
		if err != nil {
			t.Fatalf("Record(%s): %v", id, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("record %s does not round-trip", id)
		}
	}
}

func testReseal(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	d := fill(t, s, 300) // more than one batch of a paging implementation
	d.check(t, s)
	must(t, s.Reseal(ctx, NewSealer(t)))
	d.check(t, s)
	must(t, s.Reseal(ctx, NewSealer(t)))
	d.check(t, s)

	// Data written after a reseal uses the new sealer and is readable.
	more := fill(t, s, 5)
	more.check(t, s)
	must(t, s.Reseal(ctx, seal.Nop{}))
	d.check(t, s)
	more.check(t, s)
	must(t, s.Reseal(ctx, NewSealer(t)))
	d.check(t, s)
	more.check(t, s)
}

// testResealConcurrentReads: readers and writers running during a Reseal
// never see data they cannot open.
func testResealConcurrentReads(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	d := fill(t, s, 60)
	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		reads  atomic.Int64
		errs   = make(chan error, 100)
		report = func(err error) {
			select {
			case errs <- err:
			default:
			}
		}
	)
	for i := range 4 {
		wg.Go(func() {
			for j := 0; !stop.Load(); j++ {
				r := d.regs[(i*7+j)%len(d.regs)]
				if _, err := s.Registration(ctx, r.TenantID, r.Key); err != nil {
					report(err)
				}
				if i == 0 {
					if err := s.EachTemplate(ctx, func(string, string, facereg.Template) error { return nil }); err != nil {
						report(err)
					}
				}
				reads.Add(1)
			}
		})
	}
	wg.Go(func() {
		for j := 0; !stop.Load(); j++ {
			r := newRegistration(d.tenant.ID, 1000+j)
			if err := s.CreateRegistration(ctx, r); err != nil {
				report(err)
				return
			}
			if _, err := s.Registration(ctx, r.TenantID, r.Key); err != nil {
				report(err)
			}
		}
	})
	for range 4 {
		if err := s.Reseal(ctx, NewSealer(t)); err != nil {
			report(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no reads ran during the reseals")
	}
	d.check(t, s)
}
