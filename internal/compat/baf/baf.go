// Package baf is the baf-compatible wire format over facereg's core (stub:
// replaced by the adapter's implementation).
package baf

import "github.com/facereg/facereg/internal/httpapi"

// Adapter serves the baf routes.
type Adapter struct{ s *httpapi.Server }

// New returns the adapter.
func New(s *httpapi.Server) *Adapter { return &Adapter{s: s} }

// Routes returns the adapter's routes.
func (a *Adapter) Routes() []httpapi.Route { return nil }

// OpenAPIPaths returns the adapter's OpenAPI paths.
func (a *Adapter) OpenAPIPaths() map[string]any { return nil }
