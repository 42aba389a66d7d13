// Package evaluate computes biometric accuracy figures: verification accuracy
// with k-fold threshold selection, TAR at fixed FAR, FMR/FNMR, and the
// presentation-attack error rates APCER/BPCER (ISO/IEC 30107-3).
package evaluate

import (
	"math"
	"sort"
)

// Pair is one scored verification pair.
type Pair struct {
	Score float64
	Same  bool
}

// TARAtFAR is the true accept rate at the lowest threshold whose false accept
// rate does not exceed FAR. Limited is true when there are too few impostor
// pairs to measure that FAR (fewer than 1/FAR): the figure is then the TAR
// at zero observed false accepts.
type TARAtFAR struct {
	FAR       float64 `json:"far"`
	TAR       float64 `json:"tar"`
	Threshold float64 `json:"threshold"`
	Limited   bool    `json:"limited_by_sample_size"`
}

// Verification is the report of a verification run.
type Verification struct {
	Pairs         int        `json:"pairs"`
	Genuine       int        `json:"genuine"`
	Impostor      int        `json:"impostor"`
	Folds         int        `json:"folds"`
	Accuracy      float64    `json:"accuracy"`
	AccuracyStd   float64    `json:"accuracy_std"`
	BestThreshold float64    `json:"best_threshold"`
	BestAccuracy  float64    `json:"best_threshold_accuracy"`
	TAR           []TARAtFAR `json:"tar_at_far"`
	Threshold     float64    `json:"threshold"`
	FMR           float64    `json:"fmr"`
	FNMR          float64    `json:"fnmr"`
	GenuineMean   float64    `json:"genuine_mean"`
	ImpostorMean  float64    `json:"impostor_mean"`
	GenuineMin    float64    `json:"genuine_min"`
	ImpostorMax   float64    `json:"impostor_max"`
}

// Verify evaluates scored pairs at the configured threshold. With at least
// 100 pairs, accuracy is 10-fold: the threshold is chosen on nine folds and
// measured on the tenth (pairs are dealt to folds round-robin by position).
func Verify(ps []Pair, threshold float64) Verification {
	r := Verification{Pairs: len(ps), Threshold: threshold, Folds: 1, GenuineMin: math.Inf(1), ImpostorMax: math.Inf(-1)}
	var fm, fnm int
	for _, p := range ps {
		if p.Same {
			r.Genuine++
			r.GenuineMean += p.Score
			r.GenuineMin = math.Min(r.GenuineMin, p.Score)
			if p.Score < threshold {
				fnm++
			}
		} else {
			r.Impostor++
			r.ImpostorMean += p.Score
			r.ImpostorMax = math.Max(r.ImpostorMax, p.Score)
			if p.Score >= threshold {
				fm++
			}
		}
	}
	if r.Genuine > 0 {
		r.GenuineMean /= float64(r.Genuine)
		r.FNMR = float64(fnm) / float64(r.Genuine)
	}
	if r.Impostor > 0 {
		r.ImpostorMean /= float64(r.Impostor)
		r.FMR = float64(fm) / float64(r.Impostor)
	}
	r.BestThreshold, r.BestAccuracy = bestThreshold(ps)
	if len(ps) >= 100 {
		const k = 10
		r.Folds = k
		accs := make([]float64, 0, k)
		for f := 0; f < k; f++ {
			var train, test []Pair
			for i, p := range ps {
				if i%k == f {
					test = append(test, p)
				} else {
					train = append(train, p)
				}
			}
			t, _ := bestThreshold(train)
			accs = append(accs, accuracy(test, t))
		}
		r.Accuracy, r.AccuracyStd = meanStd(accs)
	} else {
		r.Accuracy = r.BestAccuracy
	}
	for _, far := range []float64{1e-2, 1e-3} {
		r.TAR = append(r.TAR, tarAtFAR(ps, far))
	}
	return r
}

func accuracy(ps []Pair, t float64) float64 {
	if len(ps) == 0 {
		return 0
	}
	ok := 0
	for _, p := range ps {
		if (p.Score >= t) == p.Same {
			ok++
		}
	}
	return float64(ok) / float64(len(ps))
}

// bestThreshold tries every midpoint between consecutive scores.
func bestThreshold(ps []Pair) (float64, float64) {
	s := make([]float64, len(ps))
	for i, p := range ps {
		s[i] = p.Score
	}
	sort.Float64s(s)
	bestT, bestA := 0.0, -1.0
	cands := []float64{}
	for i := 0; i+1 < len(s); i++ {
		cands = append(cands, (s[i]+s[i+1])/2)
	}
	if len(s) > 0 {
		cands = append(cands, s[0]-1e-6, s[len(s)-1]+1e-6)
	}
	for _, t := range cands {
		if a := accuracy(ps, t); a > bestA {
			bestT, bestA = t, a
		}
	}
	return bestT, bestA
}

func tarAtFAR(ps []Pair, far float64) TARAtFAR {
	var imp, gen []float64
	for _, p := range ps {
		if p.Same {
			gen = append(gen, p.Score)
		} else {
			imp = append(imp, p.Score)
		}
	}
	r := TARAtFAR{FAR: far}
	if len(imp) == 0 || len(gen) == 0 {
		return r
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(imp)))
	allowed := int(math.Floor(far * float64(len(imp))))
	r.Limited = float64(len(imp)) < 1/far
	// threshold just above the (allowed+1)-th highest impostor score
	if allowed >= len(imp) {
		r.Threshold = math.Inf(-1)
	} else {
		r.Threshold = math.Nextafter(imp[allowed], math.Inf(1))
	}
	n := 0
	for _, g := range gen {
		if g >= r.Threshold {
			n++
		}
	}
	r.TAR = float64(n) / float64(len(gen))
	return r
}

func meanStd(xs []float64) (float64, float64) {
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return m, math.Sqrt(v / float64(len(xs)))
}

// Liveness is the report of a presentation-attack evaluation.
type Liveness struct {
	Threshold float64   `json:"threshold"`
	Bona      int       `json:"bona_fide"`
	Attacks   int       `json:"attacks"`
	APCER     float64   `json:"apcer"` // attacks accepted as live
	BPCER     float64   `json:"bpcer"` // live people refused
	Real      Summary   `json:"real_scores"`
	Fake      Summary   `json:"fake_scores"`
	Histogram Histogram `json:"histogram"`
}

// Summary describes a score distribution.
type Summary struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Mean   float64 `json:"mean"`
	Max    float64 `json:"max"`
}

// Histogram counts scores in 10 bins of width 0.1 over 0..1.
type Histogram struct {
	Bins []float64 `json:"bins"` // lower edges
	Real []int     `json:"real"`
	Fake []int     `json:"fake"`
}

// Live evaluates liveness scores (higher = more live) at a threshold.
func Live(real, fake []float64, threshold float64) Liveness {
	r := Liveness{Threshold: threshold, Bona: len(real), Attacks: len(fake), Real: summarize(real), Fake: summarize(fake)}
	for _, s := range fake {
		if s >= threshold {
			r.APCER++
		}
	}
	for _, s := range real {
		if s < threshold {
			r.BPCER++
		}
	}
	if len(fake) > 0 {
		r.APCER /= float64(len(fake))
	}
	if len(real) > 0 {
		r.BPCER /= float64(len(real))
	}
	r.Histogram = Histogram{Real: make([]int, 10), Fake: make([]int, 10)}
	for i := 0; i < 10; i++ {
		r.Histogram.Bins = append(r.Histogram.Bins, float64(i)/10)
	}
	bin := func(s float64) int { return int(math.Min(9, math.Max(0, math.Floor(s*10)))) }
	for _, s := range real {
		r.Histogram.Real[bin(s)]++
	}
	for _, s := range fake {
		r.Histogram.Fake[bin(s)]++
	}
	return r
}

func summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var m float64
	for _, x := range s {
		m += x
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{Min: s[0], Median: med, Mean: m / float64(len(s)), Max: s[len(s)-1]}
}
