// Package service is facereg's core: registration with a duplicate search
// that cannot be raced, verification, identification, tenants and keys,
// audit, abuse limits and back-pressure. It knows nothing of HTTP or of the
// vendor wire formats; every API is a thin layer over it.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/index"
	"github.com/facereg/facereg/internal/metrics"
	"github.com/facereg/facereg/internal/vision"
)

// Config tunes the service. Zero values take the defaults of DefaultConfig.
type Config struct {
	// MaxAnalyses bounds concurrent face analyses; MaxQueue bounds requests
	// waiting for one, and QueueWait how long they wait. Beyond that a
	// request is refused with EOVERLOADED (HTTP 503 + Retry-After).
	MaxAnalyses int
	MaxQueue    int
	QueueWait   time.Duration
	// TenantRate and TenantBurst limit each tenant's requests per second.
	TenantRate  float64
	TenantBurst int
	// LockoutFailures failed liveness or match attempts for one external
	// id within LockoutWindow lock it out for LockoutWindow.
	LockoutFailures int
	LockoutWindow   time.Duration
	// FaceSide is the side of stored face crops in pixels.
	FaceSide int
	// Defaults gives new tenants' thresholds when no engine is loaded
	// (the CLI creates tenants without loading the models).
	Defaults *vision.Thresholds
}

// DefaultConfig returns the defaults for n CPUs.
func DefaultConfig(n int) Config {
	if n < 1 {
		n = 1
	}
	return Config{
		MaxAnalyses: n, MaxQueue: 8 * n, QueueWait: 2 * time.Second,
		TenantRate: 50, TenantBurst: 100,
		LockoutFailures: 5, LockoutWindow: 3 * time.Minute,
		FaceSide: 256,
	}
}

// Service is the core. Create it with New and call Load before serving.
type Service struct {
	store   facereg.Store
	engine  *vision.Engine
	index   *index.Index
	metrics *metrics.Metrics
	log     *slog.Logger
	cfg     Config
	now     func() time.Time

	analyses chan struct{} // semaphore of running analyses
	waiting  chan struct{} // semaphore of waiting requests
	admitted chan struct{} // semaphore of requests whose bodies are in memory

	tenantLocks sync.Map // tenant id -> *sync.Mutex: duplicate search + insert
	limits      *limiter
	keyCache    sync.Map // key id -> *cachedKey
}

// New returns a Service. m may be nil.
func New(store facereg.Store, eng *vision.Engine, ix *index.Index, m *metrics.Metrics, log *slog.Logger, cfg Config) *Service {
	def := DefaultConfig(1)
	if cfg.MaxAnalyses <= 0 {
		cfg.MaxAnalyses = def.MaxAnalyses
	}
	if cfg.MaxQueue < 0 {
		cfg.MaxQueue = 0
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = def.QueueWait
	}
	if cfg.LockoutWindow <= 0 {
		cfg.LockoutWindow = def.LockoutWindow
	}
	if cfg.FaceSide <= 0 {
		cfg.FaceSide = def.FaceSide
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		store: store, engine: eng, index: ix, metrics: m, log: log, cfg: cfg, now: time.Now,
		analyses: make(chan struct{}, cfg.MaxAnalyses),
		waiting:  make(chan struct{}, cfg.MaxAnalyses+cfg.MaxQueue),
		admitted: make(chan struct{}, cfg.MaxAnalyses+cfg.MaxQueue),
	}
	s.limits = newLimiter(cfg, s.now)
	if m != nil && eng != nil {
		eng.Observe = m.ObserveStage
	}
	return s
}

// Load fills the in-memory index from the store. Templates of another model
// than the engine's are skipped and counted: they need re-registration.
func (s *Service) Load(ctx context.Context) (loaded, skipped int, err error) {
	model := s.engine.ModelID()
	err = s.store.EachTemplate(ctx, func(tenantID, key string, t facereg.Template) error {
		if t.Model != model {
			skipped++
			return nil
		}
		if err := s.index.Add(tenantID, key, t.Vector); err != nil {
			return fmt.Errorf("index %s: %w", key, err)
		}
		loaded++
		return nil
	})
	return loaded, skipped, err
}

// thresholds are the engine's, or the configured defaults.
func (s *Service) thresholds() vision.Thresholds {
	if s.engine != nil {
		return s.engine.Thresholds()
	}
	if s.cfg.Defaults != nil {
		return *s.cfg.Defaults
	}
	return vision.DefaultManifest().Thresholds
}

// Engine returns the face engine.
func (s *Service) Engine() *vision.Engine { return s.engine }

// Store returns the store.
func (s *Service) Store() facereg.Store { return s.store }

// Ready reports whether the models are loaded and the database answers.
func (s *Service) Ready(ctx context.Context) error {
	if s.engine == nil {
		return facereg.Errorf(facereg.EUNAVAILABLE, "models not loaded")
	}
	if err := s.store.Ping(ctx); err != nil {
		return facereg.Errorf(facereg.EUNAVAILABLE, "database unreachable")
	}
	return nil
}

// NewID returns a new time-ordered id (UUIDv7).
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

type txKey struct{}

// WithTransaction returns ctx carrying the transaction id the service
// records in the audit for the operation run with it.
func WithTransaction(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, txKey{}, id)
}

// TransactionID returns the transaction id of ctx, or "".
func TransactionID(ctx context.Context) string {
	id, _ := ctx.Value(txKey{}).(string)
	return id
}

// audit writes the audit row of one operation. It never fails the
// operation: an audit write error is logged.
func (s *Service) audit(ctx context.Context, tenantID, op string, start time.Time, err error, regKey, externalID string) {
	id := TransactionID(ctx)
	if id == "" {
		return
	}
	reason := facereg.ErrorCode(err)
	if errors.Is(err, context.Canceled) {
		reason = "CANCELLED"
	}
	tx := &facereg.Transaction{
		ID: id, TenantID: tenantID, Operation: op, Outcome: Outcome(err), Reason: reason,
		RegistrationKey: regKey, ExternalID: externalID,
		LatencyMS: float64(s.now().Sub(start).Microseconds()) / 1000, CreatedAt: start.UTC(),
	}
	// The audit row must be written even when the client went away.
	if werr := s.store.AddTransaction(context.WithoutCancel(ctx), tx); werr != nil {
		s.log.Error("audit write failed", "transaction_id", id, "err", werr)
	}
	level := slog.LevelInfo
	if tx.Outcome == "error" {
		level = slog.LevelError
	}
	attrs := []any{"transaction_id", id, "tenant", tenantID, "operation", op, "outcome", tx.Outcome, "latency_ms", tx.LatencyMS}
	if tx.Reason != "" {
		attrs = append(attrs, "reason", tx.Reason)
	}
	if regKey != "" {
		attrs = append(attrs, "registration_key", regKey)
	}
	if tx.Outcome == "error" {
		attrs = append(attrs, "err", err)
	}
	s.log.Log(ctx, level, "operation", attrs...)
}

// Outcome classifies an operation's error: "success", "refused" (a client
// error with a reason code), "cancelled" (the client went away) or "error"
// (internal).
func Outcome(err error) string {
	var fe *facereg.Error
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &fe) && fe.Code != facereg.EINTERNAL && fe.Code != facereg.EUNAVAILABLE:
		return "refused"
	default:
		return "error"
	}
}

// Admit bounds the requests with a body in memory (image uploads) to
// MaxAnalyses+MaxQueue: a request beyond that is refused with EOVERLOADED
// before its body is read, so a flood of large images cannot grow memory
// without limit. Call the returned func when the request is done.
func (s *Service) Admit() (func(), error) {
	select {
	case s.admitted <- struct{}{}:
		return func() { <-s.admitted }, nil
	default:
		return nil, s.overloaded()
	}
}

// acquire takes an analysis slot, waiting at most QueueWait behind at most
// MaxQueue others; beyond that it refuses with EOVERLOADED rather than
// queueing without limit.
func (s *Service) acquire(ctx context.Context) (func(), error) {
	select {
	case s.waiting <- struct{}{}:
	default:
		return nil, s.overloaded()
	}
	t := time.NewTimer(s.cfg.QueueWait)
	defer t.Stop()
	select {
	case s.analyses <- struct{}{}:
	case <-t.C:
		<-s.waiting
		return nil, s.overloaded()
	case <-ctx.Done():
		<-s.waiting
		return nil, ctx.Err()
	}
	if s.metrics != nil {
		s.metrics.InFlight.Inc()
	}
	return func() {
		<-s.analyses
		<-s.waiting
		if s.metrics != nil {
			s.metrics.InFlight.Dec()
		}
	}, nil
}

func (s *Service) overloaded() error {
	if s.metrics != nil {
		s.metrics.Overloaded.Inc()
	}
	return facereg.Errorf(facereg.EOVERLOADED, "the server is at its limit of concurrent analyses; retry shortly")
}

// lockTenant serialises the duplicate search and the insert of one tenant.
func (s *Service) lockTenant(id string) func() {
	v, _ := s.tenantLocks.LoadOrStore(id, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
