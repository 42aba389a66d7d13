package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func testConcurrentSameExternalID(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	const n = 16
	var (
		wg       sync.WaitGroup
		ok, dups atomic.Int64
		start    = make(chan struct{})
		winner   atomic.Value
	)
	for i := range n {
		wg.Go(func() {
			r := newRegistration(a.ID, i)
			r.ExternalID = "same-person"
			<-start
			err := s.CreateRegistration(ctx, r)
			switch facereg.ErrorCode(err) {
			case "":
				ok.Add(1)
				winner.Store(r.Key)
			case facereg.EALREADY:
				dups.Add(1)
			default:
				t.Errorf("CreateRegistration: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || dups.Load() != n-1 {
		t.Fatalf("%d succeeded and %d got EALREADY, want 1 and %d", ok.Load(), dups.Load(), n-1)
	}
	got, err := s.RegistrationByExternalID(ctx, a.ID, "same-person")
	must(t, err)
	if got.Key != winner.Load() {
		t.Errorf("stored registration %s, want the winner %s", got.Key, winner.Load())
	}
	list, err := s.Registrations(ctx, a.ID, "", 0)
	must(t, err)
	if len(list) != 1 {
		t.Errorf("%d registrations stored, want 1", len(list))
	}
}

// testConcurrentWriters: writers of different rows, with readers alongside,
// never fail.
func testConcurrentWriters(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	tenants := []*facereg.Tenant{newTenant(t, s), newTenant(t, s)}
	const writers, each = 8, 15
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			tn := tenants[w%len(tenants)]
			<-start
			for i := range each {
				seed := w*1000 + i
				r := newRegistration(tn.ID, seed)
				if err := s.CreateRegistration(ctx, r); err != nil {
					t.Errorf("writer %d: CreateRegistration: %v", w, err)
					return
				}
				if err := s.AddTransaction(ctx, &facereg.Transaction{ID: newID("tx"), TenantID: tn.ID, Operation: "register", Outcome: "success", RegistrationKey: r.Key}); err != nil {
					t.Errorf("writer %d: AddTransaction: %v", w, err)
				}
				if err := s.PutRecord(ctx, tn.ID, "w", fmt.Sprint(seed), []byte("x"), time.Now().Add(time.Hour)); err != nil {
					t.Errorf("writer %d: PutRecord: %v", w, err)
				}
				tk := newTask(tn.ID, time.Time{})
				if err := s.CreateTask(ctx, tk); err != nil {
					t.Errorf("writer %d: CreateTask: %v", w, err)
				}
				if err := s.SetTaskStatus(ctx, tk.ID, facereg.TaskRunning); err != nil {
					t.Errorf("writer %d: SetTaskStatus: %v", w, err)
				}
				if i%3 == 0 {
					r.Face = nil
					if err := s.ReplaceRegistration(ctx, r); err != nil {
						t.Errorf("writer %d: ReplaceRegistration: %v", w, err)
					}
				}
				if i%5 == 0 {
					if err := s.DeleteRegistration(ctx, tn.ID, r.Key); err != nil {
						t.Errorf("writer %d: DeleteRegistration: %v", w, err)
					}
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			<-start
			for range each * 2 {
				for _, tn := range tenants {
					if _, err := s.Registrations(ctx, tn.ID, "", 20); err != nil {
						t.Errorf("reader: Registrations: %v", err)
					}
					if _, err := s.Transactions(ctx, tn.ID, facereg.TransactionFilter{Limit: 20}); err != nil {
						t.Errorf("reader: Transactions: %v", err)
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()

	n := 0
	must(t, s.EachTemplate(ctx, func(string, string, facereg.Template) error { n++; return nil }))
	if want := writers * (each - 3); n != want { // every 5th of 15 deleted
		t.Errorf("EachTemplate yielded %d registrations, want %d", n, want)
	}
	un, err := s.UnfinishedTasks(ctx)
	must(t, err)
	if len(un) != writers*each {
		t.Errorf("%d unfinished tasks, want %d", len(un), writers*each)
	}
}
