package evaluate

import (
	"math"
	"testing"
)

func TestVerifyPerfectSeparation(t *testing.T) {
	var ps []Pair
	for i := 0; i < 60; i++ {
		ps = append(ps, Pair{Score: 0.6 + float64(i)/1000, Same: true}, Pair{Score: 0.1 - float64(i)/1000, Same: false})
	}
	r := Verify(ps, 0.4)
	if r.Folds != 10 || r.Accuracy != 1 || r.FMR != 0 || r.FNMR != 0 {
		t.Fatalf("report %+v", r)
	}
	if r.BestThreshold <= 0.1 || r.BestThreshold >= 0.6 {
		t.Fatalf("best threshold %v", r.BestThreshold)
	}
	for _, x := range r.TAR {
		if x.TAR != 1 || !x.Limited {
			t.Fatalf("tar %+v", x)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	ps := []Pair{{0.9, true}, {0.3, true}, {0.5, false}, {0.1, false}}
	r := Verify(ps, 0.4)
	if r.FNMR != 0.5 || r.FMR != 0.5 || r.Folds != 1 {
		t.Fatalf("report %+v", r)
	}
	if r.BestAccuracy != 0.75 {
		t.Fatalf("best accuracy %v", r.BestAccuracy)
	}
}

func TestLive(t *testing.T) {
	r := Live([]float64{0.9, 0.8, 0.2}, []float64{0.1, 0.7}, 0.5)
	if math.Abs(r.BPCER-1.0/3) > 1e-9 || r.APCER != 0.5 {
		t.Fatalf("%+v", r)
	}
	if r.Histogram.Real[9] != 1 || r.Histogram.Fake[1] != 1 || r.Real.Median != 0.8 {
		t.Fatalf("%+v", r)
	}
}
