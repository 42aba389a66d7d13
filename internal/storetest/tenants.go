package storetest

import (
	"testing"
	"time"

	"github.com/facereg/facereg"
)

func testTenants(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a := newTenant(t, s)
	b := &facereg.Tenant{ID: newID("tenant"), Name: "b " + newID("n")}
	b.Settings = facereg.TenantSettings{
		LivenessThreshold: 0.5,
		MatchThreshold:    0.7,
		Quality:           []string{facereg.Blurry},
		WebhookURL:        "https://example.invalid/hook",
		WebhookSecret:     "s3cret",
	}
	before := time.Now()
	must(t, s.CreateTenant(ctx, b))
	if b.CreatedAt.Before(before.Add(-time.Second)) || b.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("zero CreatedAt was set to %v, want now", b.CreatedAt)
	}

	for _, want := range []*facereg.Tenant{a, b} {
		got, err := s.Tenant(ctx, want.ID)
		must(t, err)
		wantEqual(t, "tenant", got.Settings, want.Settings)
		if got.ID != want.ID || got.Name != want.Name {
			t.Errorf("Tenant = %s %q, want %s %q", got.ID, got.Name, want.ID, want.Name)
		}
		wantTime(t, "tenant CreatedAt", got.CreatedAt, want.CreatedAt)
		got, err = s.TenantByName(ctx, want.Name)
		must(t, err)
		if got.ID != want.ID {
			t.Errorf("TenantByName(%q) = %s, want %s", want.Name, got.ID, want.ID)
		}
	}

	_, err := s.Tenant(ctx, "no-such-tenant")
	wantCode(t, err, facereg.ENOTFOUND, "Tenant(unknown)")
	_, err = s.TenantByName(ctx, "no such name")
	wantCode(t, err, facereg.ENOTFOUND, "TenantByName(unknown)")

	dup := &facereg.Tenant{ID: newID("tenant"), Name: a.Name}
	wantCode(t, s.CreateTenant(ctx, dup), facereg.EINVALID, "CreateTenant(duplicate name)")
	_, err = s.Tenant(ctx, dup.ID)
	wantCode(t, err, facereg.ENOTFOUND, "Tenant(refused duplicate)")

	all, err := s.Tenants(ctx)
	must(t, err)
	ids := map[string]bool{}
	for _, tn := range all {
		ids[tn.ID] = true
	}
	if len(all) != 2 || !ids[a.ID] || !ids[b.ID] {
		t.Errorf("Tenants returned %d tenants %v, want %s and %s", len(all), ids, a.ID, b.ID)
	}

	ns := b.Settings
	ns.LivenessRequired = true
	ns.Quality = []string{facereg.TooDark, facereg.TooBright}
	ns.WebhookURL = ""
	must(t, s.UpdateTenantSettings(ctx, b.ID, ns))
	got, err := s.Tenant(ctx, b.ID)
	must(t, err)
	wantEqual(t, "updated settings", got.Settings, ns)
	got, err = s.Tenant(ctx, a.ID)
	must(t, err)
	wantEqual(t, "other tenant's settings", got.Settings, a.Settings)
	wantCode(t, s.UpdateTenantSettings(ctx, "no-such-tenant", ns), facereg.ENOTFOUND, "UpdateTenantSettings(unknown)")
}

func testAPIKeys(t *testing.T, s facereg.Store) {
	ctx := t.Context()
	a, b := newTenant(t, s), newTenant(t, s)
	k1 := &facereg.APIKey{ID: newID("key"), TenantID: a.ID, Hash: []byte("hash-1\x00\xff"), CreatedAt: stamp(0)}
	k2 := &facereg.APIKey{ID: newID("key"), TenantID: a.ID, Hash: []byte("hash-2"), CreatedAt: stamp(time.Second)}
	kb := &facereg.APIKey{ID: newID("key"), TenantID: b.ID, Hash: []byte("hash-b")}
	for _, k := range []*facereg.APIKey{k1, k2, kb} {
		must(t, s.CreateAPIKey(ctx, k))
	}
	if kb.CreatedAt.IsZero() {
		t.Error("zero CreatedAt was not set")
	}
	wantCode(t, s.CreateAPIKey(ctx, &facereg.APIKey{ID: newID("key"), TenantID: "no-such-tenant", Hash: []byte("h")}),
		facereg.ENOTFOUND, "CreateAPIKey(unknown tenant)")

	got, err := s.APIKey(ctx, k1.ID)
	must(t, err)
	if got.TenantID != a.ID || string(got.Hash) != string(k1.Hash) || got.RevokedAt != nil {
		t.Errorf("APIKey = %+v, want %+v", got, k1)
	}
	wantTime(t, "key CreatedAt", got.CreatedAt, k1.CreatedAt)
	_, err = s.APIKey(ctx, "no-such-key")
	wantCode(t, err, facereg.ENOTFOUND, "APIKey(unknown)")

	list, err := s.APIKeys(ctx, a.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != k1.ID || list[1].ID != k2.ID {
		t.Errorf("APIKeys(a) = %v, want [%s %s] oldest first", keyIDs(list), k1.ID, k2.ID)
	}
	list, err = s.APIKeys(ctx, "no-such-tenant")
	must(t, err)
	if len(list) != 0 {
		t.Errorf("APIKeys(unknown tenant) = %v", keyIDs(list))
	}

	wantCode(t, s.RevokeAPIKey(ctx, b.ID, k1.ID), facereg.ENOTFOUND, "RevokeAPIKey(other tenant's key)")
	got, err = s.APIKey(ctx, k1.ID)
	must(t, err)
	if got.RevokedAt != nil {
		t.Fatal("another tenant revoked the key")
	}
	wantCode(t, s.RevokeAPIKey(ctx, a.ID, "no-such-key"), facereg.ENOTFOUND, "RevokeAPIKey(unknown)")

	before := time.Now().Add(-time.Second)
	must(t, s.RevokeAPIKey(ctx, a.ID, k1.ID))
	got, err = s.APIKey(ctx, k1.ID)
	must(t, err)
	if got.RevokedAt == nil || got.RevokedAt.Before(before) || got.RevokedAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("revoked key has RevokedAt %v, want now", got.RevokedAt)
	}
	first := *got.RevokedAt
	must(t, s.RevokeAPIKey(ctx, a.ID, k1.ID))
	got, err = s.APIKey(ctx, k1.ID)
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(first) {
		t.Errorf("revoking again changed RevokedAt from %v to %v", first, got.RevokedAt)
	}
	got, err = s.APIKey(ctx, k2.ID)
	must(t, err)
	if got.RevokedAt != nil {
		t.Error("revoking one key revoked another")
	}
	list, err = s.APIKeys(ctx, a.ID)
	must(t, err)
	if len(list) != 2 || list[0].RevokedAt == nil {
		t.Errorf("APIKeys after revoke = %v, want the revoked key listed with RevokedAt", keyIDs(list))
	}
}

func keyIDs(ks []*facereg.APIKey) []string {
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}
