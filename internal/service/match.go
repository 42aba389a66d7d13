package service

import (
	"context"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/vision"
)

// noQuality enforces only face presence (and liveness when required) on
// verify and identify: quality is measured and reported, and a poor photo
// simply scores low.
var noQuality = []string{}

// VerifyRequest asks whether an image shows the person of a registration,
// given by Key or ExternalID.
type VerifyRequest struct {
	Key, ExternalID string
	Image           []byte
	Liveness        LivenessMode
}

// VerifyResult is a 1:1 comparison.
type VerifyResult struct {
	Match           bool            `json:"match"`
	Similarity      float64         `json:"similarity"`
	Threshold       float64         `json:"threshold"`
	RegistrationKey string          `json:"registration_key"`
	ExternalID      string          `json:"external_id"`
	TransactionID   string          `json:"transaction_id"`
	Liveness        *LivenessReport `json:"liveness,omitempty"`
	Face            FaceReport      `json:"face"`
}

// Verify compares the image with one registration. Returns ENOTFOUND,
// EINVALID, image and face codes, LIVENESS_FAILED, EMODELMISMATCH (the
// registration was made by another model), ELOCKED. A non-match is not an
// error; repeated non-matches and liveness failures for one external id
// lock it out (ELOCKED).
func (s *Service) Verify(ctx context.Context, t *facereg.Tenant, req VerifyRequest) (res *VerifyResult, err error) {
	start := s.now()
	var reg *facereg.Registration
	defer func() {
		var key, ext string
		if reg != nil {
			key, ext = reg.Key, reg.ExternalID
		}
		if err == nil && !res.Match {
			err2 := facereg.Errorf(facereg.NoMatch, "the face does not match the registration")
			s.audit(ctx, t.ID, "verify", start, err2, key, ext)
			return
		}
		s.audit(ctx, t.ID, "verify", start, err, key, ext)
	}()
	switch {
	case req.Key != "":
		reg, err = s.store.Registration(ctx, t.ID, req.Key)
	case req.ExternalID != "":
		reg, err = s.store.RegistrationByExternalID(ctx, t.ID, req.ExternalID)
	default:
		return nil, facereg.Errorf(facereg.EINVALID, "give registration_key or external_id")
	}
	if err != nil {
		return nil, err
	}
	if err := s.limits.checkLocked(t.ID, reg.ExternalID); err != nil {
		return nil, err
	}
	mode := req.Liveness.resolve(t)
	_, face, err := s.analyzeSubject(ctx, t, req.Image, mode, noQuality, reg.ExternalID)
	if err != nil {
		return nil, err
	}
	tpl := facereg.Template{Model: s.engine.ModelID(), Vector: face.Embedding}
	sim, err := vision.Similarity(tpl, reg.Template)
	if err != nil {
		return nil, err
	}
	rep := report(face, t, mode)
	res = &VerifyResult{
		Match: sim >= t.Settings.MatchThreshold, Similarity: round4(sim), Threshold: t.Settings.MatchThreshold,
		RegistrationKey: reg.Key, ExternalID: reg.ExternalID, TransactionID: TransactionID(ctx), Liveness: rep.Liveness, Face: rep,
	}
	if res.Match {
		s.limits.clearFailures(t.ID, reg.ExternalID)
	} else {
		s.limits.recordFailure(t.ID, reg.ExternalID)
	}
	return res, nil
}

// IdentifyRequest asks who is in an image.
type IdentifyRequest struct {
	Image     []byte
	Limit     int     // 1..50, default 10
	Threshold float64 // 0: the tenant's match threshold
	Liveness  LivenessMode
}

// Candidate is one identification hit.
type Candidate struct {
	RegistrationKey string  `json:"registration_key"`
	ExternalID      string  `json:"external_id"`
	Similarity      float64 `json:"similarity"`
}

// IdentifyResult lists the candidates above the threshold, best first.
type IdentifyResult struct {
	Candidates    []Candidate     `json:"candidates"`
	Threshold     float64         `json:"threshold"`
	TransactionID string          `json:"transaction_id"`
	Liveness      *LivenessReport `json:"liveness,omitempty"`
	Face          FaceReport      `json:"face"`
	Searched      int             `json:"searched"`
}

// Identify searches the tenant's registrations (1:N). Returns EINVALID,
// image and face codes, LIVENESS_FAILED.
func (s *Service) Identify(ctx context.Context, t *facereg.Tenant, req IdentifyRequest) (res *IdentifyResult, err error) {
	start := s.now()
	defer func() { s.audit(ctx, t.ID, "identify", start, err, "", "") }()
	if req.Limit == 0 {
		req.Limit = 10
	}
	if req.Limit < 1 || req.Limit > 50 {
		return nil, facereg.Errorf(facereg.EINVALID, "limit must be 1 to 50")
	}
	thr := req.Threshold
	if thr == 0 {
		thr = t.Settings.MatchThreshold
	}
	if thr < -1 || thr > 1 {
		return nil, facereg.Errorf(facereg.EINVALID, "threshold must be in [-1,1]")
	}
	mode := req.Liveness.resolve(t)
	_, face, err := s.analyzeSubject(ctx, t, req.Image, mode, noQuality, "")
	if err != nil {
		return nil, err
	}
	return s.identifyVector(ctx, t, face, mode, req.Limit, thr)
}

func (s *Service) identifyVector(ctx context.Context, t *facereg.Tenant, face *vision.Face, mode LivenessMode, limit int, thr float64) (*IdentifyResult, error) {
	ms := s.index.Search(t.ID, face.Embedding, limit, float32(thr))
	rep := report(face, t, mode)
	res := &IdentifyResult{Candidates: []Candidate{}, Threshold: thr, TransactionID: TransactionID(ctx), Liveness: rep.Liveness, Face: rep, Searched: s.index.TenantLen(t.ID)}
	for _, m := range ms {
		r, err := s.store.Registration(ctx, t.ID, m.Key)
		if facereg.ErrorCode(err) == facereg.ENOTFOUND {
			continue // deleted meanwhile
		} else if err != nil {
			return nil, err
		}
		res.Candidates = append(res.Candidates, Candidate{RegistrationKey: m.Key, ExternalID: r.ExternalID, Similarity: round4(float64(m.Score))})
	}
	return res, nil
}

// Analyze runs the engine without storing anything.
func (s *Service) Analyze(ctx context.Context, t *facereg.Tenant, img []byte, mode LivenessMode) (a *vision.Analysis, err error) {
	start := s.now()
	defer func() { s.audit(ctx, t.ID, "analyze", start, err, "", "") }()
	mode = mode.resolve(t)
	release, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.engine.AnalyzeBytes(ctx, img, vision.Options{
		Liveness: mode != LivenessSkip, Enforce: t.Settings.Quality, LivenessThreshold: t.Settings.LivenessThreshold, AllFaces: true,
	})
}
