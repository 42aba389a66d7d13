// Package compat mounts the five vendor wire formats on the native server.
// Each vendor is a thin adapter in its own subpackage over the same core
// service: no engine, storage or duplicate logic of its own.
package compat

import (
	"encoding/json"
	"fmt"

	"github.com/facereg/facereg/internal/compat/baf"
	"github.com/facereg/facereg/internal/compat/facesign"
	"github.com/facereg/facereg/internal/compat/progeny"
	"github.com/facereg/facereg/internal/compat/qitech"
	"github.com/facereg/facereg/internal/compat/verifik"
	"github.com/facereg/facereg/internal/httpapi"
)

// Config configures the adapters.
type Config struct {
	// JWTSecret signs the tokens of the Verifik-compatible API.
	JWTSecret []byte
}

// Adapter is one vendor wire format.
type Adapter interface {
	// Routes are mounted with Auth false: each adapter authenticates the
	// way its vendor's clients do, through the core service.
	Routes() []httpapi.Route
	// OpenAPIPaths is the adapter's part of the OpenAPI "paths" object.
	OpenAPIPaths() map[string]any
}

// Adapters returns the five adapters over s.
func Adapters(s *httpapi.Server, cfg Config) []Adapter {
	return []Adapter{
		facesign.New(s),
		qitech.New(s),
		progeny.New(s),
		verifik.New(s, cfg.JWTSecret),
		baf.New(s),
	}
}

// Mount registers every adapter's routes on s and merges their paths into
// the served OpenAPI document.
func Mount(s *httpapi.Server, cfg Config) error {
	var doc map[string]any
	if err := json.Unmarshal(httpapi.OpenAPI(), &doc); err != nil {
		return fmt.Errorf("openapi: %w", err)
	}
	paths := doc["paths"].(map[string]any)
	for _, a := range Adapters(s, cfg) {
		for _, r := range a.Routes() {
			s.Handle(r)
		}
		for p, v := range a.OpenAPIPaths() {
			paths[p] = v
		}
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	s.SetOpenAPI(b)
	return nil
}
