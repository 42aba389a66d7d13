package service

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/facereg/facereg"
	"github.com/facereg/facereg/internal/index"
	"github.com/facereg/facereg/internal/seal"
	"github.com/facereg/facereg/internal/sqlite"
	"github.com/facereg/facereg/internal/vision"
)

func unit(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	var s float64
	for i := range v {
		v[i] = float32(r.NormFloat64())
		s += float64(v[i]) * float64(v[i])
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(s))
	}
	return v
}

// BenchmarkIdentify100k is the server-side part of an identification over
// 100,000 templates of one tenant: the 1:N index search and the lookup of
// the candidates' external ids in the encrypted SQLite store, with 50
// candidates above the threshold (the maximum a request may ask for). The
// face analysis of the probe image is benchmarked separately
// (internal/vision BenchmarkPipeline).
func BenchmarkIdentify100k(b *testing.B) {
	ctx := context.Background()
	key := make([]byte, seal.KeySize)
	sl, _ := seal.New(key)
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sl)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ix := index.New(512)
	s := New(db, nil, ix, nil, nil, Config{})
	t, _, err := s.CreateTenant(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewSource(1))
	probe := unit(r, 512)
	for i := 0; i < 100_000; i++ {
		v := unit(r, 512)
		k := fmt.Sprintf("rand-%06d", i)
		if i < 50 {
			// 50 registrations close to the probe, stored for real
			for j := range v {
				v[j] = probe[j] + 0.08*v[j]
			}
			var n float64
			for _, x := range v {
				n += float64(x) * float64(x)
			}
			for j := range v {
				v[j] /= float32(math.Sqrt(n))
			}
			now := time.Now()
			reg := &facereg.Registration{Key: k, TenantID: t.ID, ExternalID: "person-" + k, Template: facereg.Template{Model: "m", Vector: v}, CreatedAt: now, UpdatedAt: now}
			if err := db.CreateRegistration(ctx, reg); err != nil {
				b.Fatal(err)
			}
		}
		if err := ix.Add(t.ID, k, v); err != nil {
			b.Fatal(err)
		}
	}
	face := &vision.Face{Embedding: probe}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.identifyVector(ctx, t, face, LivenessSkip, 50, 0.4)
		if err != nil || len(res.Candidates) != 50 || res.Searched != 100_000 {
			b.Fatalf("%v %d", err, len(res.Candidates))
		}
	}
}
