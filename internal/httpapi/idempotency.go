package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/facereg/facereg"
)

// keyedMutex serialises requests that share an idempotency key, so a retry
// that arrives while the first attempt runs waits for its response.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	e, ok := k.m[key]
	if !ok {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// recorder captures a response to store it.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// idempotent makes a create route honour the Idempotency-Key header: a retry
// with the same key and the same body gets the first response again
// (header Idempotent-Replayed: true); the same key with another body gets
// 422 IDEMPOTENCY_CONFLICT. Responses are kept for 24 hours; 5xx responses
// are not kept, so a retry after a server error runs again.
func (s *Server) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			next(w, r)
			return
		}
		if len(key) > 255 {
			s.Error(w, r, facereg.Errorf(facereg.EINVALID, "Idempotency-Key must be at most 255 characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.Error(w, r, badBody(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n" + r.Header.Get("Content-Type") + "\n"))
		h.Write(body)
		sum := hex.EncodeToString(h.Sum(nil))
		t := Tenant(r.Context())
		unlock := s.idem.lock(t.ID + "\x00" + key)
		defer unlock()
		prev, err := s.svc.Store().Idempotent(r.Context(), t.ID, key)
		switch {
		case err == nil && time.Since(prev.CreatedAt) < 24*time.Hour:
			if prev.RequestHash != sum {
				s.Error(w, r, facereg.Errorf(facereg.EIDEMPOTENCY, "Idempotency-Key was used with a different request"))
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.Status)
			_, _ = w.Write(prev.Body)
			return
		case err != nil && facereg.ErrorCode(err) != facereg.ENOTFOUND:
			s.Error(w, r, err)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next(rec, r)
		if rec.status >= 500 || rec.status == 0 {
			return
		}
		if err := s.svc.Store().PutIdempotent(context.WithoutCancel(r.Context()), t.ID, key, &facereg.IdempotentResponse{
			RequestHash: sum, Status: rec.status, Body: rec.buf.Bytes(), CreatedAt: time.Now().UTC(),
		}); err != nil {
			s.log.Error("store idempotent response", "err", err)
		}
	}
}
