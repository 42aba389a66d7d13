package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/facereg/facereg/internal/apptest"
)

func TestRegisterSmoke(t *testing.T) {
	s := apptest.Start(t)
	_, key := s.Tenant(t, "acme")
	r := s.Do(t, "POST", "/v1/registrations", key, map[string]any{"external_id": "obama", "image": apptest.B64(t, "identities/fr_obama/obama.jpg")})
	if r.Status != http.StatusCreated || r.Str("registration_key") == "" {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
}
