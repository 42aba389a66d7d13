package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func testRegistrations(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	r := newRegistration(a.ID, 1)
	must(t, s.CreateRegistration(ctx, r))

	got, err := s.Registration(ctx, a.ID, r.Key)
	must(t, err)
	wantRegistration(t, got, r)
	got, err = s.RegistrationByExternalID(ctx, a.ID, r.ExternalID)
	must(t, err)
	wantRegistration(t, got, r)

	// No face, no liveness, zero times.
	bare := newRegistration(a.ID, 2)
	bare.Face, bare.Liveness = nil, nil
	bare.CreatedAt, bare.UpdatedAt = time.Time{}, time.Time{}
	before := time.Now().Add(-time.Second)
	must(t, s.CreateRegistration(ctx, bare))
	if bare.CreatedAt.Before(before) || bare.UpdatedAt.Before(before) {
		t.Errorf("zero times were set to %v and %v, want now", bare.CreatedAt, bare.UpdatedAt)
	}
	got, err = s.Registration(ctx, a.ID, bare.Key)
	must(t, err)
	wantRegistration(t, got, bare)

	dup := newRegistration(a.ID, 3)
	dup.ExternalID = r.ExternalID
	wantCode(t, s.CreateRegistration(ctx, dup), facereg.EALREADY, "CreateRegistration(duplicate external id)")
	_, err = s.Registration(ctx, a.ID, dup.Key)
	wantCode(t, err, facereg.ENOTFOUND, "Registration(refused duplicate)")
	got, err = s.RegistrationByExternalID(ctx, a.ID, r.ExternalID)
	must(t, err)
	wantRegistration(t, got, r)

	orphan := newRegistration("no-such-tenant", 4)
	wantCode(t, s.CreateRegistration(ctx, orphan), facereg.ENOTFOUND, "CreateRegistration(unknown tenant)")

	_, err = s.Registration(ctx, a.ID, "no-such-key")
	wantCode(t, err, facereg.ENOTFOUND, "Registration(unknown)")
	_, err = s.RegistrationByExternalID(ctx, a.ID, "no-such-person")
	wantCode(t, err, facereg.ENOTFOUND, "RegistrationByExternalID(unknown)")
}

// testRegistrationIsolation: another tenant's registration is ENOTFOUND
// everywhere, and external ids are unique per tenant only.
func testRegistrationIsolation(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	ra := newRegistration(a.ID, 1)
	must(t, s.CreateRegistration(ctx, ra))
	rb := newRegistration(b.ID, 2)
	rb.ExternalID = ra.ExternalID
	must(t, s.CreateRegistration(ctx, rb))

	_, err := s.Registration(ctx, b.ID, ra.Key)
	wantCode(t, err, facereg.ENOTFOUND, "Registration(other tenant's key)")
	got, err := s.RegistrationByExternalID(ctx, b.ID, ra.ExternalID)
	must(t, err)
	wantRegistration(t, got, rb)

	steal := newRegistration(b.ID, 3)
	steal.Key = ra.Key
	wantCode(t, s.ReplaceRegistration(ctx, steal), facereg.ENOTFOUND, "ReplaceRegistration(other tenant's key)")
	wantCode(t, s.DeleteRegistration(ctx, b.ID, ra.Key), facereg.ENOTFOUND, "DeleteRegistration(other tenant's key)")
	got, err = s.Registration(ctx, a.ID, ra.Key)
	must(t, err)
	wantRegistration(t, got, ra)

	list, err := s.Registrations(ctx, b.ID, "", 0)
	must(t, err)
	if len(list) != 1 || list[0].Key != rb.Key {
		t.Errorf("Registrations(b) = %v, want only %s", regKeys(list), rb.Key)
	}
}

func testRegistrationPaging(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	var keys []string
	for i := range 25 {
		r := newRegistration(a.ID, i)
		r.Key = fmt.Sprintf("k%08x", rand.Uint32()) // creation order is not key order
		must(t, s.CreateRegistration(ctx, r))
		keys = append(keys, r.Key)
		must(t, s.CreateRegistration(ctx, newRegistration(b.ID, i)))
	}
	sort.Strings(keys)

	var seen []string
	after := ""
	for page := 0; ; page++ {
		list, err := s.Registrations(ctx, a.ID, after, 10)
		must(t, err)
		if len(list) > 10 {
			t.Fatalf("page %d has %d registrations, limit 10", page, len(list))
		}
		for _, r := range list {
			if r.TenantID != a.ID {
				t.Fatalf("Registrations(a) returned a registration of %s", r.TenantID)
			}
			if len(r.Template.Vector) == 0 {
				t.Errorf("listed registration %s has no template", r.Key)
			}
			seen = append(seen, r.Key)
		}
		if len(list) < 10 {
			break
		}
		after = list[len(list)-1].Key
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	wantEqual(t, "paged keys", seen, keys)

	all, err := s.Registrations(ctx, a.ID, "", 0)
	must(t, err)
	wantEqual(t, "Registrations(limit 0)", regKeys(all), keys)
	list, err := s.Registrations(ctx, a.ID, keys[24], 10)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("page after the last key = %v", regKeys(list))
	}
	list, err = s.Registrations(ctx, a.ID, keys[3], 2)
	must(t, err)
	wantEqual(t, "page after keys[3]", regKeys(list), keys[4:6])
	list, err = s.Registrations(ctx, "no-such-tenant", "", 10)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("Registrations(unknown tenant) = %v", regKeys(list))
	}
}

func testReplaceRegistration(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	r := newRegistration(a.ID, 1)
	must(t, s.CreateRegistration(ctx, r))
	other := newRegistration(a.ID, 2)
	must(t, s.CreateRegistration(ctx, other))

	repl := &facereg.Registration{
		Key:        r.Key,
		TenantID:   a.ID,
		ExternalID: "ignored",
		Template:   facereg.Template{Model: "model-b", Vector: vector(99)[:64]},
		Face:       []byte("new face"),
		Box:        facereg.Box{X: 1, Y: 2, Width: 3, Height: 4},
		CreatedAt:  stamp(time.Hour), // ignored
		UpdatedAt:  stamp(2 * time.Hour),
	}
	must(t, s.ReplaceRegistration(ctx, repl))
	got, err := s.Registration(ctx, a.ID, r.Key)
	must(t, err)
	want := *repl
	want.ExternalID, want.CreatedAt = r.ExternalID, r.CreatedAt
	wantRegistration(t, got, &want)
	_, err = s.RegistrationByExternalID(ctx, a.ID, "ignored")
	wantCode(t, err, facereg.ENOTFOUND, "external id after replace")

	// Replacing without a face removes the stored one; zero UpdatedAt is now.
	repl2 := *repl
	repl2.Face, repl2.UpdatedAt = nil, time.Time{}
	live := 0.9
	repl2.Liveness = &live
	before := time.Now().Add(-time.Second)
	must(t, s.ReplaceRegistration(ctx, &repl2))
	if repl2.UpdatedAt.Before(before) {
		t.Errorf("zero UpdatedAt was set to %v, want now", repl2.UpdatedAt)
	}
	got, err = s.Registration(ctx, a.ID, r.Key)
	must(t, err)
	want = repl2
	want.ExternalID, want.CreatedAt = r.ExternalID, r.CreatedAt
	wantRegistration(t, got, &want)

	got, err = s.Registration(ctx, a.ID, other.Key)
	must(t, err)
	wantRegistration(t, got, other)

	missing := newRegistration(a.ID, 3)
	wantCode(t, s.ReplaceRegistration(ctx, missing), facereg.ENOTFOUND, "ReplaceRegistration(unknown)")
	_, err = s.Registration(ctx, a.ID, missing.Key)
	wantCode(t, err, facereg.ENOTFOUND, "Registration after refused replace")
}

func testDeleteRegistration(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	r := newRegistration(a.ID, 1)
	keep := newRegistration(a.ID, 2)
	must(t, s.CreateRegistration(ctx, r))
	must(t, s.CreateRegistration(ctx, keep))

	must(t, s.DeleteRegistration(ctx, a.ID, r.Key))
	_, err := s.Registration(ctx, a.ID, r.Key)
	wantCode(t, err, facereg.ENOTFOUND, "Registration(deleted)")
	_, err = s.RegistrationByExternalID(ctx, a.ID, r.ExternalID)
	wantCode(t, err, facereg.ENOTFOUND, "RegistrationByExternalID(deleted)")
	wantCode(t, s.DeleteRegistration(ctx, a.ID, r.Key), facereg.ENOTFOUND, "DeleteRegistration(deleted)")
	wantCode(t, s.ReplaceRegistration(ctx, r), facereg.ENOTFOUND, "ReplaceRegistration(deleted)")

	keys := map[string]bool{}
	must(t, s.EachTemplate(ctx, func(_, key string, _ facereg.Template) error {
		keys[key] = true
		return nil
	}))
	if keys[r.Key] || !keys[keep.Key] || len(keys) != 1 {
		t.Errorf("EachTemplate after delete yielded %v, want only %s", keys, keep.Key)
	}
	list, err := s.Registrations(ctx, a.ID, "", 0)
	must(t, err)
	wantEqual(t, "Registrations after delete", regKeys(list), []string{keep.Key})

	// The external id is free again.
	again := newRegistration(a.ID, 3)
	again.ExternalID = r.ExternalID
	must(t, s.CreateRegistration(ctx, again))
	got, err := s.RegistrationByExternalID(ctx, a.ID, r.ExternalID)
	must(t, err)
	wantRegistration(t, got, again)
}

func testEachTemplate(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	want := map[string]*facereg.Registration{}
	for i := range 3 {
		tn := newTenant(t, s)
		for j := range 40 {
			r := newRegistration(tn.ID, i*100+j)
			if j%2 == 0 {
				r.Template.Model = "model-b"
			}
			must(t, s.CreateRegistration(ctx, r))
			want[r.Key] = r
		}
	}
	seen := map[string]bool{}
	err := s.EachTemplate(ctx, func(tenantID, key string, tpl facereg.Template) error {
		r, ok := want[key]
		switch {
		case !ok:
			t.Errorf("EachTemplate yielded unknown key %s", key)
		case seen[key]:
			t.Errorf("EachTemplate yielded %s twice", key)
		case tenantID != r.TenantID || tpl.Model != r.Template.Model || !sameVector(tpl.Vector, r.Template.Vector):
			t.Errorf("EachTemplate(%s) = tenant %s model %s, want tenant %s model %s (or vector differs)",
				key, tenantID, tpl.Model, r.TenantID, r.Template.Model)
		}
		seen[key] = true
		return nil
	})
	must(t, err)
	if len(seen) != len(want) {
		t.Errorf("EachTemplate yielded %d registrations, want %d", len(seen), len(want))
	}

	stop := errors.New("stop")
	n := 0
	err = s.EachTemplate(ctx, func(string, string, facereg.Template) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("EachTemplate with fn failing at 5 = %v after %d calls, want stop after 5", err, n)
	}

	// fn may use the store.
	err = s.EachTemplate(ctx, func(tenantID, key string, _ facereg.Template) error {
		_, err := s.Registration(ctx, tenantID, key)
		return err
	})
	must(t, err)
}

func regKeys(rs []*facereg.Registration) []string {
	keys := []string{}
	for _, r := range rs {
		keys = append(keys, r.Key)
	}
	return keys
}
