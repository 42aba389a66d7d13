package service

import "math"

// The vendor APIs speak of a 0..1 match confidence (Verifik's search
// minimum score 0.9, BAF's 90% face match threshold). Score maps the
// engine's cosine similarity onto that scale with one monotonic logistic
// curve, anchored so that the model pack's default match threshold maps to
// 0.9 — the vendors' default then means the same strictness as facereg's
// own default everywhere. calibrationSlope sets how quickly the score
// saturates: with the default pack (threshold 0.40) the LFW impostor mean
// (~0.0) maps to 0.003 and the genuine mean (~0.68) to 0.9996.
// docs/compat.md has the table.
const calibrationSlope = 20.0

// anchorScore is the score of the default match threshold.
const anchorScore = 0.9

func (s *Service) anchor() float64 { return s.thresholds().Match }

// Score maps a cosine similarity to the 0..1 confidence scale.
func (s *Service) Score(sim float64) float64 {
	x0 := s.anchor() - math.Log(anchorScore/(1-anchorScore))/calibrationSlope
	return 1 / (1 + math.Exp(-calibrationSlope*(sim-x0)))
}

// SimilarityForScore is Score's inverse: the cosine similarity whose score
// is p (clamped to (0,1)).
func (s *Service) SimilarityForScore(p float64) float64 {
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	x0 := s.anchor() - math.Log(anchorScore/(1-anchorScore))/calibrationSlope
	return x0 + math.Log(p/(1-p))/calibrationSlope
}
