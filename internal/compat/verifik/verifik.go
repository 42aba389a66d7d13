// Package verifik is the Verifik-compatible wire format over facereg's core
// (stub: replaced by the adapter's implementation).
package verifik

import "github.com/facereg/facereg/internal/httpapi"

// Adapter serves the Verifik routes.
type Adapter struct {
	s      *httpapi.Server
	secret []byte
}

// New returns the adapter; secret signs its JWTs.
func New(s *httpapi.Server, secret []byte) *Adapter { return &Adapter{s: s, secret: secret} }

// Routes returns the adapter's routes.
func (a *Adapter) Routes() []httpapi.Route { return nil }

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any { return nil }
