// Package compat mounts the five vendor wire formats on the native server.
// Each vendor is a thin adapter in its own subpackage over the same core
// service: no engine, storage or duplicate logic of its own.
package compat

import (
	"github.com/facereg/facereg/internal/httpapi"
)

// Config configures the adapters.
type Config struct {
	// JWTSecret signs the tokens of the Verifik-compatible API.
	JWTSecret []byte
}

// Mount registers every adapter's routes on s.
func Mount(s *httpapi.Server, cfg Config) error {
	return nil
}
