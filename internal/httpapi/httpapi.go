// Package httpapi is facereg's native JSON API over net/http: the routes
// table, middleware (transaction ids, limits, auth, metrics, recovery),
// handlers per noun and the one table that maps error codes to statuses.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/metrics"
	"github.com/facereg/facereg/internal/service"
	"github.com/facereg/facereg/internal/worker"
)

// Config tunes the HTTP layer.
type Config struct {
	// MaxBodyBytes bounds every request body (default 20 MiB: a 15 MiB
	// image in base64 plus JSON).
	MaxBodyBytes int64
}

// Server holds the handlers' dependencies.
type Server struct {
	svc     *service.Service
	tasks   *worker.Pool
	metrics *metrics.Metrics
	log     *slog.Logger
	cfg     Config
	mux     *http.ServeMux
	routes  []Route
	idem    keyedMutex
	doc     []byte
}

// Route is one entry of the routes table (also checked against the OpenAPI
// document by a test).
type Route struct {
	Method, Pattern string
	// Auth: the route needs a tenant API key (Bearer).
	Auth    bool
	Handler http.HandlerFunc
	// Error, if set, writes the middleware's refusals (overload) in the
	// route's own envelope (the vendor adapters set it).
	Error func(w http.ResponseWriter, r *http.Request, err error)
}

// New builds the server and its routes. m may be nil.
func New(svc *service.Service, tasks *worker.Pool, m *metrics.Metrics, log *slog.Logger, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 20 << 20
	}
	s := &Server{svc: svc, tasks: tasks, metrics: m, log: log, cfg: cfg, mux: http.NewServeMux(), idem: keyedMutex{m: map[string]*keyedEntry{}}}
	s.routes = []Route{
		{Method: "GET", Pattern: "/healthz", Auth: false, Handler: s.handleHealth},
		{Method: "GET", Pattern: "/readyz", Auth: false, Handler: s.handleReady},
		{Method: "GET", Pattern: "/openapi.json", Auth: false, Handler: s.handleOpenAPI},
		{Method: "POST", Pattern: "/v1/registrations", Auth: true, Handler: s.idempotent(s.handleCreateRegistration)},
		{Method: "GET", Pattern: "/v1/registrations", Auth: true, Handler: s.handleListRegistrations},
		{Method: "GET", Pattern: "/v1/registrations/{key}", Auth: true, Handler: s.handleGetRegistration},
		{Method: "GET", Pattern: "/v1/faces/{key}", Auth: true, Handler: s.handleGetFace},
		{Method: "DELETE", Pattern: "/v1/registrations/{key}", Auth: true, Handler: s.handleDeleteRegistration},
		{Method: "GET", Pattern: "/v1/registrations/by-external-id/{external_id}", Auth: true, Handler: s.handleFindRegistration},
		{Method: "POST", Pattern: "/v1/verify", Auth: true, Handler: s.handleVerify},
		{Method: "POST", Pattern: "/v1/identify", Auth: true, Handler: s.handleIdentify},
		{Method: "POST", Pattern: "/v1/analyze", Auth: true, Handler: s.handleAnalyze},
		{Method: "GET", Pattern: "/v1/tasks/{id}", Auth: true, Handler: s.handleGetTask},
		{Method: "GET", Pattern: "/v1/transactions", Auth: true, Handler: s.handleListTransactions},
		{Method: "GET", Pattern: "/v1/transactions/{id}", Auth: true, Handler: s.handleGetTransaction},
		{Method: "GET", Pattern: "/v1/tenant", Auth: true, Handler: s.handleGetTenant},
		{Method: "PATCH", Pattern: "/v1/tenant/settings", Auth: true, Handler: s.handlePatchSettings},
	}
	for _, r := range s.routes {
		s.Handle(r)
	}
	if m != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	}
	return s
}

// Handle registers a route with the standard middleware (used by the
// vendor adapters too, which pass Auth=false and authenticate themselves).
func (s *Server) Handle(r Route) {
	s.mux.Handle(r.Method+" "+r.Pattern, s.wrap(r))
}

// Routes returns the native routes table.
func (s *Server) Routes() []Route { return s.routes }

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Service returns the core service (for the adapters).
func (s *Server) Service() *service.Service { return s.svc }

// Tasks returns the task pool (for the adapters).
func (s *Server) Tasks() *worker.Pool { return s.tasks }

// MaxBodyBytes is the request body limit.
func (s *Server) MaxBodyBytes() int64 { return s.cfg.MaxBodyBytes }

type tenantKey struct{}

// Tenant returns the authenticated tenant of a request.
func Tenant(ctx context.Context) *facereg.Tenant {
	t, _ := ctx.Value(tenantKey{}).(*facereg.Tenant)
	return t
}

// WithTenant returns ctx carrying t (the adapters authenticate their own way).
func WithTenant(ctx context.Context, t *facereg.Tenant) context.Context {
	return context.WithValue(ctx, tenantKey{}, t)
}

// statusWriter records the status for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status  int
	outcome string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Outcome lets a handler record the request outcome for metrics.
func setOutcome(w http.ResponseWriter, o string) {
	if sw, ok := w.(*statusWriter); ok {
		sw.outcome = o
	}
}

func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		txid := service.NewID()
		ctx := service.WithTransaction(r.Context(), txid)
		sw.Header().Set("X-Transaction-Id", txid)
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(sw, r.Body, s.cfg.MaxBodyBytes)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "transaction_id", txid, "route", rt.Pattern, "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					if rt.Error != nil {
						rt.Error(sw, r, errors.New("panic"))
					} else {
						s.Error(sw, r, errors.New("panic"))
					}
				}
			}
			outcome := sw.outcome
			if outcome == "" {
				switch {
				case sw.status >= 500:
					outcome = "error"
				case sw.status >= 400:
					outcome = "refused"
				default:
					outcome = "success"
				}
			}
			if s.metrics != nil {
				s.metrics.Requests.WithLabelValues(rt.Pattern, rt.Method, strconv.Itoa(sw.status), outcome).Inc()
				s.metrics.Latency.WithLabelValues(rt.Pattern, outcome).Observe(time.Since(start).Seconds())
			}
			if rt.Pattern != "/healthz" && rt.Pattern != "/readyz" {
				s.log.Debug("request", "transaction_id", txid, "method", rt.Method, "route", rt.Pattern, "status", sw.status, "ms", time.Since(start).Milliseconds())
			}
		}()
		if rt.Auth {
			t, err := s.authenticate(r)
			if err != nil {
				s.Error(sw, r, err)
				return
			}
			if err := s.svc.Allow(t.ID); err != nil {
				s.Error(sw, r, err)
				return
			}
			r = r.WithContext(WithTenant(r.Context(), t))
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			release, err := s.svc.Admit()
			if err != nil {
				if rt.Error != nil {
					rt.Error(sw, r, err)
				} else {
					s.Error(sw, r, err)
				}
				return
			}
			defer release()
		}
		rt.Handler(sw, r)
	})
}

func (s *Server) authenticate(r *http.Request) (*facereg.Tenant, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, facereg.Errorf(facereg.EUNAUTHORIZED, "missing or invalid API key (Authorization: Bearer <key>)")
	}
	return s.svc.Authenticate(r.Context(), strings.TrimSpace(tok))
}

// statuses maps every error code to its HTTP status: the one table.
var statuses = map[string]int{
	facereg.EINVALID:          http.StatusBadRequest,
	facereg.EUNAUTHORIZED:     http.StatusUnauthorized,
	facereg.ENOTFOUND:         http.StatusNotFound,
	facereg.EALREADY:          http.StatusConflict,
	facereg.EDUPLICATE:        http.StatusConflict,
	facereg.EMODELMISMATCH:    http.StatusConflict,
	facereg.ERATELIMITED:      http.StatusTooManyRequests,
	facereg.ELOCKED:           http.StatusTooManyRequests,
	facereg.EOVERLOADED:       http.StatusServiceUnavailable,
	facereg.ETOOLARGE:         http.StatusRequestEntityTooLarge,
	facereg.EIDEMPOTENCY:      http.StatusUnprocessableEntity,
	facereg.ENOTIMPLEMENTED:   http.StatusNotImplemented,
	facereg.EINTERNAL:         http.StatusInternalServerError,
	facereg.EUNAVAILABLE:      http.StatusServiceUnavailable,
	facereg.ENOTSUPPORTEDDOC:  http.StatusBadRequest,
	facereg.ImageEmpty:        http.StatusBadRequest,
	facereg.ImageInvalid:      http.StatusBadRequest,
	facereg.UnsupportedFormat: http.StatusUnsupportedMediaType,
	facereg.ImageTooLarge:     http.StatusRequestEntityTooLarge,
	facereg.NoFace:            http.StatusUnprocessableEntity,
	facereg.MultipleFaces:     http.StatusUnprocessableEntity,
	facereg.FaceTooSmall:      http.StatusUnprocessableEntity,
	facereg.FaceCropped:       http.StatusUnprocessableEntity,
	facereg.PoseTooLarge:      http.StatusUnprocessableEntity,
	facereg.EyesClosed:        http.StatusUnprocessableEntity,
	facereg.TooDark:           http.StatusUnprocessableEntity,
	facereg.TooBright:         http.StatusUnprocessableEntity,
	facereg.Blurry:            http.StatusUnprocessableEntity,
	facereg.LivenessFailed:    http.StatusUnprocessableEntity,
}

// Status returns the HTTP status of an error.
func Status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	if st, ok := statuses[facereg.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// Normalize turns transport errors into coded errors.
func Normalize(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return facereg.Errorf(facereg.ETOOLARGE, "request body larger than %d bytes", mbe.Limit)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return facereg.Errorf(facereg.EUNAVAILABLE, "request cancelled or timed out")
	}
	return err
}

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error         service.ErrorInfo `json:"error"`
	TransactionID string            `json:"transaction_id,omitempty"`
}

// Error writes err with its status. Internal errors are logged with the
// transaction id and shown to the client only as "internal error".
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	err = Normalize(err)
	st := Status(err)
	txid := service.TransactionID(r.Context())
	if st >= 500 && facereg.ErrorCode(err) == facereg.EINTERNAL {
		s.log.Error("internal error", "transaction_id", txid, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	switch facereg.ErrorCode(err) {
	case facereg.EOVERLOADED, facereg.EUNAVAILABLE:
		w.Header().Set("Retry-After", "1")
	case facereg.ERATELIMITED:
		w.Header().Set("Retry-After", "1")
	case facereg.ELOCKED:
		if fe := service.ErrorInfoOf(err); fe.Detail != nil {
			if v, ok := fe.Detail["retry_after_seconds"].(int); ok {
				w.Header().Set("Retry-After", strconv.Itoa(v))
			}
		}
	}
	WriteJSON(w, st, ErrorBody{Error: service.ErrorInfoOf(err), TransactionID: txid})
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
