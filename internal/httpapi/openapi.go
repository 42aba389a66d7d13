package httpapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the OpenAPI document of the native routes; adapters'
// routes are merged in by the caller that mounts them (see compat).
func OpenAPI() []byte { return openapiDoc }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi())
}

// SetOpenAPI replaces the served document (the adapters add their paths).
func (s *Server) SetOpenAPI(doc []byte) { s.doc = doc }

func (s *Server) openapi() []byte {
	if s.doc != nil {
		return s.doc
	}
	return openapiDoc
}
