package index

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

const bench100k = 100_000

var (
	fixtureOnce  sync.Once
	fixtureIndex *Index
	fixtureQuery []float32
)

// fixture100k is one tenant with 100,000 random 512-d templates, built once.
// The query is a noisy copy of one of them (cosine ≈ 0.7), so a search finds
// one genuine match above 0.3 and otherwise only near-zero random scores.
func fixture100k(b *testing.B) (*Index, []float32) {
	b.Helper()
	fixtureOnce.Do(func() {
		r := newRand(42)
		ix := New(testDim)
		for i := range bench100k {
			v := randUnit(r, testDim)
			if i == bench100k/2 {
				fixtureQuery = correlated(r, v, 1)
			}
			if err := ix.Add("tenant", fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), v); err != nil {
				panic(err)
			}
		}
		fixtureIndex = ix
	})
	return fixtureIndex, fixtureQuery
}

// BenchmarkSearch100k is one identification: 100,000 templates of one
// tenant, k=50, minScore 0.3, using all of GOMAXPROCS.
func BenchmarkSearch100k(b *testing.B) {
	ix, q := fixture100k(b)
	b.ReportAllocs()
	for b.Loop() {
		if got := ix.Search("tenant", q, 50, 0.3); len(got) != 1 {
			b.Fatalf("got %d matches, want 1", len(got))
		}
	}
}

// BenchmarkSearch100kOneCore is the same scan on a single goroutine.
func BenchmarkSearch100kOneCore(b *testing.B) {
	ix, q := fixture100k(b)
	sh := ix.shard("tenant", false)
	qu, sumQ, step := quantQuery(q)
	b.ReportAllocs()
	for b.Loop() {
		sh.mu.RLock()
		got := sh.search(qu, sumQ, step, 50, 0.3, 1)
		sh.mu.RUnlock()
		if len(got) != 1 {
			b.Fatalf("got %d matches, want 1", len(got))
		}
	}
}

// BenchmarkSearch100kAllAboveMin is the worst case for the top-k heap: every
// template clears minScore, so k=50 results are selected out of 100,000.
func BenchmarkSearch100kAllAboveMin(b *testing.B) {
	ix, q := fixture100k(b)
	b.ReportAllocs()
	for b.Loop() {
		if got := ix.Search("tenant", q, 50, -1); len(got) != 50 {
			b.Fatalf("got %d matches, want 50", len(got))
		}
	}
}

// BenchmarkAdd inserts new 512-d templates into one growing tenant.
func BenchmarkAdd(b *testing.B) {
	r := newRand(43)
	vecs := make([][]float32, 1024)
	for i := range vecs {
		vecs[i] = randUnit(r, testDim)
	}
	ix := New(testDim)
	buf := make([]byte, 0, 32)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = strconv.AppendInt(buf[:0], int64(i), 10)
		if err := ix.Add("tenant", string(buf), vecs[i%len(vecs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkReplace overwrites existing keys (re-enrolment).
func BenchmarkReplace(b *testing.B) {
	r := newRand(44)
	vecs := make([][]float32, 1024)
	keys := make([]string, len(vecs))
	ix := New(testDim)
	for i := range vecs {
		vecs[i] = randUnit(r, testDim)
		keys[i] = strconv.Itoa(i)
		if err := ix.Add("tenant", keys[i], vecs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := ix.Add("tenant", keys[i%len(keys)], vecs[(i+1)%len(vecs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBytesPerTemplate builds 100,000 templates with UUID-length keys in
// a fresh index and reports heap bytes per template from runtime.MemStats
// (bytes/template) and the Bytes estimate (est-bytes/template).
func BenchmarkBytesPerTemplate(b *testing.B) {
	var measured, estimate float64
	for b.Loop() {
		measured, estimate = measureMemory(bench100k)
	}
	b.ReportMetric(measured, "bytes/template")
	b.ReportMetric(estimate, "est-bytes/template")
}

func BenchmarkBlockDot(b *testing.B) {
	qu := make([]uint64, testDim)
	blk := make([]byte, testDim*blockLen*512)
	for i := range qu {
		qu[i] = uint64(i%255 + 1)
	}
	var out [blockLen]uint32
	for b.Loop() {
		for j := 0; j < 512; j++ {
			blockDot(qu, blk[j*testDim*blockLen:(j+1)*testDim*blockLen], &out)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(testDim*blockLen*512), "ns/mac")
}
