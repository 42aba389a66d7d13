package service

import (
	"math"
	"testing"
)

func TestCalibration(t *testing.T) {
	s := New(nil, nil, nil, nil, nil, Config{})
	thr := s.thresholds().Match
	if got := s.Score(thr); math.Abs(got-0.9) > 1e-9 {
		t.Fatalf("Score(default threshold) = %v, want 0.9", got)
	}
	prev := -1.0
	for sim := -1.0; sim <= 1.0; sim += 0.01 {
		sc := s.Score(sim)
		if sc < prev || sc < 0 || sc > 1 {
			t.Fatalf("not monotonic in [0,1] at %v: %v after %v", sim, sc, prev)
		}
		prev = sc
		if back := s.SimilarityForScore(sc); sc > 1e-6 && sc < 1-1e-6 && math.Abs(back-sim) > 1e-6 {
			t.Fatalf("inverse at %v: %v", sim, back)
		}
	}
}
