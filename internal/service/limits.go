package service

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/facereg/facereg"
)

// limiter holds the per-tenant request rate limits and the per-external-id
// failure lockouts, in memory (a restart clears them, which errs on the side
// of letting genuine users back in).
type limiter struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	rates    map[string]*rate.Limiter
	failures map[string][]time.Time // tenant/external id -> recent failures
	locked   map[string]time.Time   // tenant/external id -> locked until
}

func newLimiter(cfg Config, now func() time.Time) *limiter {
	return &limiter{cfg: cfg, now: now, rates: map[string]*rate.Limiter{}, failures: map[string][]time.Time{}, locked: map[string]time.Time{}}
}

// Allow applies the tenant's request rate limit. Returns ERATELIMITED.
func (s *Service) Allow(tenantID string) error {
	l := s.limits
	if l.cfg.TenantRate <= 0 {
		return nil
	}
	l.mu.Lock()
	r, ok := l.rates[tenantID]
	if !ok {
		burst := l.cfg.TenantBurst
		if burst < 1 {
			burst = 1
		}
		r = rate.NewLimiter(rate.Limit(l.cfg.TenantRate), burst)
		l.rates[tenantID] = r
	}
	l.mu.Unlock()
	if !r.AllowN(l.now(), 1) {
		return facereg.Errorf(facereg.ERATELIMITED, "request rate limit of %.0f/s exceeded; retry shortly", l.cfg.TenantRate)
	}
	return nil
}

// checkLocked returns ELOCKED while the external id is locked out.
func (l *limiter) checkLocked(tenantID, externalID string) error {
	if l.cfg.LockoutFailures <= 0 || externalID == "" {
		return nil
	}
	k := tenantID + "/" + externalID
	l.mu.Lock()
	defer l.mu.Unlock()
	if until, ok := l.locked[k]; ok {
		if l.now().Before(until) {
			e := facereg.Errorf(facereg.ELOCKED, "too many failed liveness or match attempts for this id; retry after %s", until.UTC().Format(time.RFC3339))
			e.Detail = map[string]any{"retry_after_seconds": int(until.Sub(l.now()).Seconds()) + 1}
			return e
		}
		delete(l.locked, k)
	}
	return nil
}

// recordFailure counts a liveness or match failure; the LockoutFailures-th
// within LockoutWindow locks the id out for LockoutWindow.
func (l *limiter) recordFailure(tenantID, externalID string) {
	if l.cfg.LockoutFailures <= 0 || externalID == "" {
		return
	}
	k := tenantID + "/" + externalID
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.failures[k][:0]
	for _, t := range l.failures[k] {
		if now.Sub(t) < l.cfg.LockoutWindow {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	if len(recent) >= l.cfg.LockoutFailures {
		l.locked[k] = now.Add(l.cfg.LockoutWindow)
		delete(l.failures, k)
		return
	}
	l.failures[k] = recent
	// bound memory: forget stale entries now and then
	if len(l.failures) > 100000 {
		for kk, ts := range l.failures {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) > l.cfg.LockoutWindow {
				delete(l.failures, kk)
			}
		}
	}
}

func (l *limiter) clearFailures(tenantID, externalID string) {
	l.mu.Lock()
	delete(l.failures, tenantID+"/"+externalID)
	l.mu.Unlock()
}

// CheckLockout returns ELOCKED while subject (an external id) is locked
// out. For adapters that make their own match decision (an authorisation
// by 1:N search, say) and report it with RecordAttempt.
func (s *Service) CheckLockout(t *facereg.Tenant, subject string) error {
	return s.limits.checkLocked(t.ID, subject)
}

// RecordAttempt counts a failed attempt of subject toward the lockout, or
// clears its count after a success.
func (s *Service) RecordAttempt(t *facereg.Tenant, subject string, ok bool) {
	if ok {
		s.limits.clearFailures(t.ID, subject)
	} else {
		s.limits.recordFailure(t.ID, subject)
	}
}
