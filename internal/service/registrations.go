package service

import (
	"context"
	"strings"
	"time"
	"unicode"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/imageio"
	"github.com/facereg/facereg/internal/vision"
)

// LivenessMode says what a request does with the liveness check.
type LivenessMode string

// Liveness modes. The default follows the tenant's liveness_required setting.
const (
	LivenessDefault    LivenessMode = ""
	LivenessRequire    LivenessMode = "require" // run it; a failure refuses with LIVENESS_FAILED
	LivenessReportOnly LivenessMode = "report"  // run it and report it; never refuse for it
	LivenessSkip       LivenessMode = "skip"    // do not run it
)

// ParseLivenessMode accepts "", require, report and skip.
func ParseLivenessMode(s string) (LivenessMode, error) {
	switch m := LivenessMode(strings.ToLower(strings.TrimSpace(s))); m {
	case LivenessDefault, LivenessRequire, LivenessReportOnly, LivenessSkip:
		return m, nil
	}
	return "", facereg.Errorf(facereg.EINVALID, "liveness must be one of require, report, skip")
}

func (m LivenessMode) resolve(t *facereg.Tenant) LivenessMode {
	if m != LivenessDefault {
		return m
	}
	if t.Settings.LivenessRequired {
		return LivenessRequire
	}
	return LivenessReportOnly
}

// RegisterRequest asks to enrol a face under a tenant's external id.
type RegisterRequest struct {
	ExternalID string
	Image      []byte // encoded JPEG, PNG or WebP
	Liveness   LivenessMode
	// Force replaces the face of an existing registration of ExternalID
	// instead of refusing with EALREADY.
	Force bool
	// Key, if set, is the key a new registration gets (async tasks derive
	// it from the task id to recognise their own registration after a crash).
	Key string
	// LivenessThreshold and MatchThreshold, when > 0, replace the tenant's
	// for this request (a vendor project's own liveness minimum and search
	// minimum, for instance).
	LivenessThreshold, MatchThreshold float64
}

// LivenessReport is the outcome of the liveness check, when it ran.
type LivenessReport struct {
	Score     float64 `json:"score"`
	Threshold float64 `json:"threshold"`
	Passed    bool    `json:"passed"`
	Enforced  bool    `json:"enforced"`
}

// FaceReport is what the engine measured on the subject face.
type FaceReport struct {
	Box                    facereg.Box     `json:"box"`
	DetectionScore         float64         `json:"detection_score"`
	InterpupillaryDistance float64         `json:"interpupillary_distance"`
	Pose                   vision.Pose     `json:"pose"`
	Liveness               *LivenessReport `json:"liveness,omitempty"`
	Quality                []vision.Check  `json:"quality"`
}

// RegisterResult is a successful registration.
type RegisterResult struct {
	RegistrationKey string     `json:"registration_key"`
	ExternalID      string     `json:"external_id"`
	TransactionID   string     `json:"transaction_id"`
	Replaced        bool       `json:"replaced"`
	Model           string     `json:"model"`
	Face            FaceReport `json:"face"`
	CreatedAt       time.Time  `json:"created_at"`
	// FaceJPEG is the registered face crop (also when the tenant does not
	// store it), for APIs that return it.
	FaceJPEG []byte `json:"-"`
	// Analysis is the engine's full output, for APIs that expose it.
	Analysis *vision.Analysis `json:"-"`
}

// ValidateExternalID checks an external id: 1 to 128 printable characters.
func ValidateExternalID(id string) error {
	if id == "" || len(id) > 128 {
		return facereg.Errorf(facereg.EINVALID, "external_id must be 1 to 128 characters")
	}
	for _, r := range id {
		if !unicode.IsPrint(r) {
			return facereg.Errorf(facereg.EINVALID, "external_id must contain printable characters only")
		}
	}
	return nil
}

// Register enrols a face. Refusals: EINVALID, EALREADY (the id is taken and
// Force is false), EDUPLICATE (the face is registered under another id:
// Detail has its registration_key, external_id and similarity), each image
// and quality reason code, LIVENESS_FAILED, ELOCKED, EOVERLOADED.
//
// The duplicate search and the insert run under the tenant's lock, so two
// concurrent registrations of one face under different ids never both
// succeed, and neither do two registrations of one id.
func (s *Service) Register(ctx context.Context, t *facereg.Tenant, req RegisterRequest) (res *RegisterResult, err error) {
	start := s.now()
	var regKey string
	defer func() {
		s.audit(ctx, t.ID, "register", start, err, regKey, req.ExternalID)
		if s.metrics != nil {
			s.metrics.Registrations.WithLabelValues(Outcome(err), facereg.ErrorCode(err)).Inc()
		}
	}()
	if err := ValidateExternalID(req.ExternalID); err != nil {
		return nil, err
	}
	if req.LivenessThreshold > 0 || req.MatchThreshold > 0 {
		tc := *t
		if req.LivenessThreshold > 0 {
			tc.Settings.LivenessThreshold = req.LivenessThreshold
		}
		if req.MatchThreshold > 0 {
			tc.Settings.MatchThreshold = req.MatchThreshold
		}
		t = &tc
	}
	if err := s.limits.checkLocked(t.ID, req.ExternalID); err != nil {
		return nil, err
	}
	if !req.Force {
		if r, err := s.store.RegistrationByExternalID(ctx, t.ID, req.ExternalID); err == nil {
			regKey = r.Key
			return nil, alreadyRegistered(r)
		} else if facereg.ErrorCode(err) != facereg.ENOTFOUND {
			return nil, err
		}
	}
	mode := req.Liveness.resolve(t)
	a, face, err := s.analyzeSubject(ctx, t, req.Image, mode, t.Settings.Quality, req.ExternalID)
	if err != nil {
		return nil, err
	}
	tpl, _ := s.engine.Template(a)
	crop, _ := a.FaceCrop(s.cfg.FaceSide)
	faceJPEG, err := imageio.EncodeJPEG(crop, 90)
	if err != nil {
		return nil, err
	}

	unlock := s.lockTenant(t.ID)
	defer unlock()
	existing, err := s.store.RegistrationByExternalID(ctx, t.ID, req.ExternalID)
	switch {
	case err == nil && !req.Force:
		regKey = existing.Key
		return nil, alreadyRegistered(existing)
	case err != nil && facereg.ErrorCode(err) != facereg.ENOTFOUND:
		return nil, err
	case err != nil:
		existing = nil
	}
	own := ""
	if existing != nil {
		own = existing.Key
	}
	if dup, sim, err := s.findDuplicate(ctx, t, tpl, own); err != nil {
		return nil, err
	} else if dup != nil {
		e := facereg.Errorf(facereg.EDUPLICATE, "this face is already registered under another external id")
		e.Detail = map[string]any{"registration_key": dup.Key, "external_id": dup.ExternalID, "similarity": round4(sim), "threshold": t.Settings.MatchThreshold}
		if lr := report(face, t, mode).Liveness; lr != nil {
			e.Detail["liveness"] = lr
		}
		return nil, e
	}
	now := s.now().UTC()
	r := &facereg.Registration{
		TenantID: t.ID, ExternalID: req.ExternalID, Template: tpl, Box: face.Box,
		Liveness: face.Liveness, CreatedAt: now, UpdatedAt: now,
	}
	if t.Settings.StoreFace {
		r.Face = faceJPEG
	}
	if existing != nil {
		r.Key, r.CreatedAt = existing.Key, existing.CreatedAt
		err = s.store.ReplaceRegistration(ctx, r)
	} else {
		r.Key = req.Key
		if r.Key == "" {
			r.Key = NewID()
		}
		err = s.store.CreateRegistration(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	if err := s.index.Add(t.ID, r.Key, tpl.Vector); err != nil {
		return nil, err
	}
	regKey = r.Key
	s.limits.clearFailures(t.ID, req.ExternalID)
	return &RegisterResult{
		RegistrationKey: r.Key, ExternalID: r.ExternalID, TransactionID: TransactionID(ctx), Replaced: existing != nil,
		Model: tpl.Model, Face: report(face, t, mode), CreatedAt: r.CreatedAt, FaceJPEG: faceJPEG, Analysis: a,
	}, nil
}

// ResultOf describes an existing registration as a registration result
// (without the engine's measurements, which are not stored).
func (s *Service) ResultOf(ctx context.Context, t *facereg.Tenant, r *facereg.Registration) *RegisterResult {
	res := &RegisterResult{
		RegistrationKey: r.Key, ExternalID: r.ExternalID, TransactionID: TransactionID(ctx), Model: r.Template.Model,
		Face: FaceReport{Box: r.Box, Quality: []vision.Check{}}, CreatedAt: r.CreatedAt, FaceJPEG: r.Face,
	}
	if r.Liveness != nil {
		res.Face.Liveness = &LivenessReport{Score: *r.Liveness, Threshold: t.Settings.LivenessThreshold, Passed: *r.Liveness >= t.Settings.LivenessThreshold}
	}
	return res
}

func alreadyRegistered(r *facereg.Registration) error {
	e := facereg.Errorf(facereg.EALREADY, "external_id is already registered; send force=true to replace its face")
	e.Detail = map[string]any{"registration_key": r.Key, "external_id": r.ExternalID}
	return e
}

func round4(v float64) float64 { return float64(int64(v*10000+0.5)) / 10000 }

// findDuplicate searches the tenant's index for the face, then re-scores the
// candidates on their exact stored templates (the index is quantised), and
// returns the best one at or above the tenant's match threshold, skipping
// the registration with key own.
func (s *Service) findDuplicate(ctx context.Context, t *facereg.Tenant, tpl facereg.Template, own string) (*facereg.Registration, float64, error) {
	thr := t.Settings.MatchThreshold
	cands := s.index.Search(t.ID, tpl.Vector, 5, float32(thr-0.02))
	var best *facereg.Registration
	bestSim := -2.0
	for _, c := range cands {
		if c.Key == own {
			continue
		}
		r, err := s.store.Registration(ctx, t.ID, c.Key)
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, 0, err
		}
		sim, err := vision.Similarity(tpl, r.Template)
		if err != nil {
			continue
		}
		if sim >= thr && sim > bestSim {
			best, bestSim = r, sim
		}
	}
	return best, bestSim, nil
}

// analyzeSubject runs the engine on an image under the analysis bound and
// turns a refusal into its *facereg.Error (the first failed check's code,
// with its measurement; Detail lists every failed check).
func (s *Service) analyzeSubject(ctx context.Context, t *facereg.Tenant, img []byte, mode LivenessMode, enforce []string, externalID string) (*vision.Analysis, *vision.Face, error) {
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.engine.AnalyzeBytes(ctx, img, vision.Options{
		Liveness: mode != LivenessSkip, Embedding: true, Enforce: enforce,
		LivenessThreshold: t.Settings.LivenessThreshold, KeepImage: true,
	})
	release()
	if err != nil {
		return nil, nil, err
	}
	var reasons []string
	for _, r := range a.Reasons {
		if r == facereg.LivenessFailed && mode != LivenessRequire {
			continue
		}
		reasons = append(reasons, r)
	}
	if len(reasons) == 0 {
		return a, &a.Faces[0], nil
	}
	if reasons[0] == facereg.LivenessFailed {
		s.limits.recordFailure(t.ID, externalID)
	}
	return nil, nil, refusal(a, reasons)
}

func refusal(a *vision.Analysis, reasons []string) error {
	code := reasons[0]
	e := &facereg.Error{Code: code, Detail: map[string]any{"reasons": reasons}}
	switch code {
	case facereg.NoFace:
		e.Message = "no face found in the image"
	case facereg.MultipleFaces:
		e.Message = "more than one face of comparable size in the image: only the person registering may be in the picture"
		e.Detail["faces"] = len(a.Faces)
	}
	if len(a.Faces) > 0 {
		var failed []vision.Check
		for _, c := range a.Faces[0].Checks {
			if !c.Passed {
				failed = append(failed, c)
			}
			if c.Code == code {
				e.Message = c.Message
				e.Measure = &facereg.Measure{Value: c.Value, Threshold: c.Threshold, Unit: c.Unit}
			}
		}
		e.Detail["checks"] = failed
	}
	return e
}

func report(f *vision.Face, t *facereg.Tenant, mode LivenessMode) FaceReport {
	r := FaceReport{Box: f.Box, DetectionScore: round4(f.Score), InterpupillaryDistance: round4(f.IPD), Pose: f.Pose, Quality: []vision.Check{}}
	for _, c := range f.Checks {
		if c.Code == facereg.LivenessFailed {
			r.Liveness = &LivenessReport{Score: round4(c.Value), Threshold: c.Threshold, Passed: c.Passed, Enforced: mode == LivenessRequire}
			continue
		}
		r.Quality = append(r.Quality, c)
	}
	return r
}

// Registration returns a registration by key (ENOTFOUND).
func (s *Service) Registration(ctx context.Context, t *facereg.Tenant, key string) (*facereg.Registration, error) {
	return s.store.Registration(ctx, t.ID, key)
}

// RegistrationByExternalID finds a registration by external id (ENOTFOUND).
func (s *Service) RegistrationByExternalID(ctx context.Context, t *facereg.Tenant, externalID string) (*facereg.Registration, error) {
	return s.store.RegistrationByExternalID(ctx, t.ID, externalID)
}

// Registrations lists a tenant's registrations by key after a cursor.
func (s *Service) Registrations(ctx context.Context, t *facereg.Tenant, after string, limit int) ([]*facereg.Registration, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.store.Registrations(ctx, t.ID, after, limit)
}

// DeleteRegistration erases a registration: template, stored face and index
// entry at once (ENOTFOUND).
func (s *Service) DeleteRegistration(ctx context.Context, t *facereg.Tenant, key string) (err error) {
	start := s.now()
	defer func() { s.audit(ctx, t.ID, "delete", start, err, key, "") }()
	unlock := s.lockTenant(t.ID)
	defer unlock()
	if err := s.store.DeleteRegistration(ctx, t.ID, key); err != nil {
		return err
	}
	s.index.Remove(t.ID, key)
	return nil
}

// DeleteByExternalID erases the registration of an external id, if any
// (adapters erase a subject's face when they erase the subject). It returns
// nil when there is none.
func (s *Service) DeleteByExternalID(ctx context.Context, t *facereg.Tenant, externalID string) error {
	reg, err := s.store.RegistrationByExternalID(ctx, t.ID, externalID)
	if facereg.ErrorCode(err) == facereg.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.DeleteRegistration(ctx, t, reg.Key); err != nil && facereg.ErrorCode(err) != facereg.ENOTFOUND {
		return err
	}
	return nil
}
