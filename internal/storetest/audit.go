package storetest

import (
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func testTransactions(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	tx := &facereg.Transaction{
		ID:              newID("tx"),
		TenantID:        a.ID,
		Operation:       "register",
		Outcome:         "refused",
		Reason:          facereg.Blurry,
		RegistrationKey: "reg-1",
		ExternalID:      "person-1",
		LatencyMS:       12.375,
		CreatedAt:       stamp(0),
	}
	must(t, s.AddTransaction(ctx, tx))
	got, err := s.Transaction(ctx, a.ID, tx.ID)
	must(t, err)
	want := *tx
	wantTime(t, "transaction CreatedAt", got.CreatedAt, want.CreatedAt)
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	wantEqual(t, "Transaction", *got, want)

	_, err = s.Transaction(ctx, b.ID, tx.ID)
	wantCode(t, err, facereg.ENOTFOUND, "Transaction(other tenant's)")
	_, err = s.Transaction(ctx, a.ID, "no-such-tx")
	wantCode(t, err, facereg.ENOTFOUND, "Transaction(unknown)")
	list, err := s.Transactions(ctx, b.ID, facereg.TransactionFilter{})
	must(t, err)
	if len(list) != 0 {
		t.Errorf("Transactions(b) = %v, want none", txIDs(list))
	}

	zero := &facereg.Transaction{ID: newID("tx"), TenantID: a.ID, Operation: "verify", Outcome: "success"}
	must(t, s.AddTransaction(ctx, zero))
	if zero.CreatedAt.IsZero() {
		t.Error("zero CreatedAt was not set")
	}
}

func testTransactionFilter(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	ops := []string{"register", "verify", "delete"}
	outcomes := []string{"success", "refused", "error"}
	var all []*facereg.Transaction // in id order
	for i := range 30 {
		tx := &facereg.Transaction{
			ID:         newID("tx"),
			TenantID:   a.ID,
			Operation:  ops[i%3],
			Outcome:    outcomes[(i/3)%3],
			ExternalID: []string{"p1", "p2"}[i%2],
			LatencyMS:  float64(i),
			CreatedAt:  stamp(time.Duration(i) * time.Minute),
		}
		if tx.Outcome == "refused" {
			tx.Reason = facereg.NoFace
		}
		must(t, s.AddTransaction(ctx, tx))
		all = append(all, tx)
		must(t, s.AddTransaction(ctx, &facereg.Transaction{ID: newID("tx"), TenantID: b.ID, Operation: tx.Operation, Outcome: tx.Outcome, ExternalID: tx.ExternalID, CreatedAt: tx.CreatedAt}))
	}
	// expect returns the ids of all matching keep, newest first.
	expect := func(keep func(*facereg.Transaction) bool) []string {
		ids := []string{}
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	check := func(name string, f facereg.TransactionFilter, keep func(*facereg.Transaction) bool) {
		t.Helper()
		got, err := s.Transactions(ctx, a.ID, f)
		must(t, err)
		wantEqual(t, name, txIDs(got), expect(keep))
	}
	check("all", facereg.TransactionFilter{}, func(*facereg.Transaction) bool { return true })
	check("operation", facereg.TransactionFilter{Operation: "verify"}, func(x *facereg.Transaction) bool { return x.Operation == "verify" })
	check("outcome", facereg.TransactionFilter{Outcome: "error"}, func(x *facereg.Transaction) bool { return x.Outcome == "error" })
	check("reason", facereg.TransactionFilter{Reason: facereg.NoFace}, func(x *facereg.Transaction) bool { return x.Reason == facereg.NoFace })
	check("external id", facereg.TransactionFilter{ExternalID: "p2"}, func(x *facereg.Transaction) bool { return x.ExternalID == "p2" })
	check("combined", facereg.TransactionFilter{Operation: "register", ExternalID: "p1", Outcome: "success"}, func(x *facereg.Transaction) bool {
		return x.Operation == "register" && x.ExternalID == "p1" && x.Outcome == "success"
	})
	since, until := all[5].CreatedAt, all[12].CreatedAt
	check("since (inclusive)", facereg.TransactionFilter{Since: since}, func(x *facereg.Transaction) bool { return !x.CreatedAt.Before(since) })
	check("until (exclusive)", facereg.TransactionFilter{Until: until}, func(x *facereg.Transaction) bool { return x.CreatedAt.Before(until) })
	check("since and until", facereg.TransactionFilter{Since: since, Until: until.UTC()}, func(x *facereg.Transaction) bool {
		return !x.CreatedAt.Before(since) && x.CreatedAt.Before(until)
	})
	check("far bounds", facereg.TransactionFilter{Since: time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), Until: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
		func(*facereg.Transaction) bool { return true })
	check("after", facereg.TransactionFilter{After: all[10].ID}, func(x *facereg.Transaction) bool { return x.ID < all[10].ID })

	// Paging: newest first, After is the last id of the previous page.
	var paged []string
	f := facereg.TransactionFilter{Operation: "register", Limit: 4}
	for range 10 {
		page, err := s.Transactions(ctx, a.ID, f)
		must(t, err)
		if len(page) > 4 {
			t.Fatalf("page of %d, limit 4", len(page))
		}
		paged = append(paged, txIDs(page)...)
		if len(page) < 4 {
			break
		}
		f.After = page[len(page)-1].ID
	}
	wantEqual(t, "paged register transactions", paged, expect(func(x *facereg.Transaction) bool { return x.Operation == "register" }))
}

func txIDs(ts []*facereg.Transaction) []string {
	ids := []string{}
	for _, x := range ts {
		ids = append(ids, x.ID)
	}
	return ids
}
