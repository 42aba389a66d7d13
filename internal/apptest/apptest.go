// Package apptest runs the real wiring (real models, real SQLite in a
// temporary directory, real HTTP) for end-to-end tests of the native API and
// the vendor adapters. It fails, never skips, when the models or the shared
// test images are missing.
package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facereg/facereg/internal/app"
	"github.com/facereg/facereg/internal/seal"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/sqlite"
	"github.com/facereg/facereg/internal/vision"
)

// Server is a running facereg on a loopback port.
type Server struct {
	URL  string
	App  *app.App
	Dir  string
	Logs *SyncBuffer

	cfg app.Config
	key []byte
	srv *httptest.Server
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes (the log sink).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Option changes the configuration before start.
type Option func(*app.Config)

// Start runs a server in a new temporary data directory.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := app.Config{Engine: vision.DefaultConfig(), JWTSecret: []byte("test-jwt-secret-0123456789abcdef")}
	cfg.Service = service.DefaultConfig(2)
	cfg.Service.TenantRate = 0
	for _, o := range opts {
		o(&cfg)
	}
	key := make([]byte, seal.KeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	s := &Server{Dir: t.TempDir(), Logs: &SyncBuffer{}, cfg: cfg, key: key}
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// StartShared is Start without the cleanup: for fuzz targets whose workers
// share one server for the whole run (the process exit ends it).
func StartShared(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := app.Config{Engine: vision.DefaultConfig(), JWTSecret: []byte("test-jwt-secret-0123456789abcdef")}
	cfg.Service = service.DefaultConfig(2)
	cfg.Service.TenantRate = 0
	for _, o := range opts {
		o(&cfg)
	}
	key := make([]byte, seal.KeySize)
	dir, err := os.MkdirTemp("", "facereg-fuzz-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, Logs: &SyncBuffer{}, cfg: cfg, key: key}
	s.start(t)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	sl, err := seal.New(s.key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(s.Dir, "facereg.db"), sl)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(ctx, db, log, s.cfg)
	if err != nil {
		db.Close()
		t.Fatalf("start facereg (run 'make setup' to fetch ONNX Runtime and the models): %v", err)
	}
	s.App = a
	s.srv = httptest.NewServer(a.Handler)
	s.URL = s.srv.URL
}

// Stop shuts the server down (idempotent).
func (s *Server) Stop(t testing.TB) {
	if s.srv == nil {
		return
	}
	s.srv.Close()
	s.srv = nil
	if err := s.App.Shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// OpenStore opens the database of a stopped server (to prepare state
// between a Stop and a start); close it before Start.
func (s *Server) OpenStore(t testing.TB) *sqlite.DB {
	t.Helper()
	sl, err := seal.New(s.key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(s.Dir, "facereg.db"), sl)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// StartAgain starts a stopped server on the same data directory.
func (s *Server) StartAgain(t testing.TB) {
	t.Helper()
	s.start(t)
}

// Restart stops the server and starts a new one on the same data directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// Tenant creates a tenant and returns its client id and API key.
func (s *Server) Tenant(t testing.TB, name string) (clientID, apiKey string) {
	t.Helper()
	tn, key, err := s.App.Service.CreateTenant(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID, key
}

// Response is a decoded response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// Do sends a request with a JSON body (nil for none) and the Bearer key
// (empty for none).
func (s *Server) Do(t testing.TB, method, path, key string, body any) *Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if b, ok := body.([]byte); ok {
			rd = bytes.NewReader(b)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return s.Send(t, req, key)
}

// Send sends a prepared request with the Bearer key (if any).
func (s *Server) Send(t testing.TB, req *http.Request, key string) *Response {
	t.Helper()
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	_ = json.Unmarshal(b, &r.JSON)
	return r
}

// Multipart sends a multipart/form-data POST with the file field fileField
// (skipped when file is nil) and plain fields.
func (s *Server) Multipart(t testing.TB, path, key, fileField string, file []byte, fields map[string]string) *Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile(fileField, "face.jpg")
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return s.Send(t, req, key)
}

// Faces is the shared labelled image directory.
func Faces(t testing.TB) string {
	t.Helper()
	wd, _ := os.Getwd()
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(d), "shared", "faces")
		}
		if filepath.Dir(d) == d {
			t.Fatal("go.mod not found above the test directory")
		}
	}
}

// Image reads a shared test image (path relative to shared/faces).
func Image(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Faces(t), rel))
	if err != nil {
		t.Fatalf("shared test image missing: %v", err)
	}
	return b
}

// B64 is the base64 of a shared test image.
func B64(t testing.TB, rel string) string {
	return base64.StdEncoding.EncodeToString(Image(t, rel))
}

// Str returns a string field of a JSON object path ("error.code").
func (r *Response) Str(path ...string) string {
	v := r.Get(path...)
	s, _ := v.(string)
	return s
}

// Get walks a JSON path.
func (r *Response) Get(path ...string) any {
	var cur any = r.JSON
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}
