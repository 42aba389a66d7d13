package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/facereg/facereg/internal/apptest"
	"github.com/facereg/facereg/internal/compat"
)

var (
	fuzzOnce   sync.Once
	fuzzServer *apptest.Server
	fuzzKey    string
	fuzzRoutes []string
)

// fuzzTarget starts one server for the whole fuzz run (it outlives the
// first test's cleanup on purpose: the fuzz workers share it).
func fuzzTarget(t testing.TB) {
	fuzzOnce.Do(func() {
		fuzzServer = apptest.StartShared(t)
		_, fuzzKey = fuzzServer.Tenant(t, "fuzz")
		seen := map[string]bool{}
		for _, rt := range fuzzServer.App.API.Routes() {
			if rt.Method == "POST" || rt.Method == "PATCH" {
				seen[rt.Method+" "+rt.Pattern] = true
			}
		}
		for _, a := range compat.Adapters(fuzzServer.App.API, compat.Config{JWTSecret: []byte("x")}) {
			for _, rt := range a.Routes() {
				if rt.Method == "POST" || rt.Method == "PUT" || rt.Method == "PATCH" {
					seen[rt.Method+" "+rt.Pattern] = true
				}
			}
		}
		for k := range seen {
			fuzzRoutes = append(fuzzRoutes, k)
		}
		sort.Strings(fuzzRoutes)
	})
}

// FuzzRouteBodies sends arbitrary bodies to every POST/PUT/PATCH route of the
// native API and the five vendor formats: bad input never gets a 5xx (nor
// crashes the server): it gets a 4xx with a reason code.
func FuzzRouteBodies(f *testing.F) {
	for i := 0; i < 16; i++ {
		f.Add(uint8(i), []byte(`{"external_id":"x","image":"aGVsbG8="}`))
		f.Add(uint8(i), []byte(`{"image":"data:image/png;base64,iVBORw0KGgo=","limit":3}`))
		f.Add(uint8(i), []byte(`{"face":"/9j/","clientid":"c","id":"1","ativarLiveness":true,"token":"t"}`))
		f.Add(uint8(i), []byte(`{"document_number":"1","image_key":"k"}`))
		f.Add(uint8(i), []byte(`{"model":{"faceImageBase64":"","documentType":10},"applicantId":"a"}`))
		f.Add(uint8(i), []byte(`{"image":"x","os":"IOS","force":true}`))
		f.Add(uint8(i), []byte(`[1,2,3]`))
		f.Add(uint8(i), []byte(`{"external_id":{"a":1},"image":null}`))
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		fuzzTarget(t)
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		var method, path string
		fmt.Sscanf(rt, "%s %s", &method, &path)
		path = fillPattern(path)
		req, err := http.NewRequest(method, fuzzServer.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		r := fuzzServer.Send(t, req, fuzzKey)
		if r.Status >= 500 {
			t.Fatalf("%s with body %q: %d %s", rt, body, r.Status, r.Body)
		}
	})
}

// fillPattern replaces {name} segments with a placeholder value.
func fillPattern(p string) string {
	var b bytes.Buffer
	skip := false
	for _, c := range p {
		switch {
		case c == '{':
			skip = true
			b.WriteString("fuzz-id")
		case c == '}':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}
