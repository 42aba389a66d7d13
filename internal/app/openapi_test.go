package app_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/compat"
)

// The served OpenAPI document lists exactly the mounted routes (native and
// vendor adapters), with the same methods.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := apptest.Start(t)
	r := s.Do(t, "GET", "/openapi.json", "", nil)
	if r.Status != 200 {
		t.Fatal(r.Status)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" {
				continue
			}
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	mounted := map[string]bool{"GET /metrics": true}
	for _, rt := range s.App.API.Routes() {
		mounted[rt.Method+" "+rt.Pattern] = true
	}
	for _, a := range compat.Adapters(s.App.API, compat.Config{JWTSecret: []byte("x")}) {
		for _, rt := range a.Routes() {
			mounted[rt.Method+" "+rt.Pattern] = true
		}
	}
	var missing, extra []string
	for k := range mounted {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !mounted[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes not documented: %v\ndocumented but not mounted: %v", missing, extra)
	}
}
