package index

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

const testDim = 512

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randUnit returns a random unit vector (isotropic Gaussian, normalised).
func randUnit(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return normalise(v)
}

func normalise(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := 1 / math.Sqrt(s)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}

// correlated returns normalise(v + noise·g/√dim) for Gaussian g: its cosine
// with v is about 1/√(1+noise²).
func correlated(r *rand.Rand, v []float32, noise float64) []float32 {
	w := make([]float32, len(v))
	sd := noise / math.Sqrt(float64(len(v)))
	for i, x := range v {
		w[i] = x + float32(r.NormFloat64()*sd)
	}
	return normalise(w)
}

func exactDot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// refScore is the index's score computed the slow, obvious way: quantise both
// vectors, integer dot product, times both steps.
func refScore(a, b []float32) float32 {
	sa, ia, _ := quantStep(a)
	sb, ib, _ := quantStep(b)
	var dot int64
	for i := range a {
		dot += int64(quantOne(a[i], ia)) * int64(quantOne(b[i], ib))
	}
	return float32(float64(dot) * float64(sa) * float64(sb))
}

// refSearch is a brute-force search over the given templates using refScore.
func refSearch(db map[string][]float32, q []float32, k int, minScore float32) []Match {
	var all []Match
	for key, v := range db {
		if s := refScore(q, v); s >= minScore {
			all = append(all, Match{key, s})
		}
	}
	sortMatches(all)
	if len(all) > k {
		all = all[:k]
	}
	return all
}

func sortMatches(m []Match) {
	slices.SortFunc(m, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

func equalMatches(a, b []Match) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return slices.Equal(a, b)
}

func mustAdd(t testing.TB, ix *Index, tenant, key string, v []float32) {
	t.Helper()
	if err := ix.Add(tenant, key, v); err != nil {
		t.Fatalf("Add(%q, %q): %v", tenant, key, err)
	}
}

func TestBlockDot(t *testing.T) {
	r := newRand(1)
	for _, dim := range []int{1, 2, 3, 7, 16, 127, 512, 513} {
		qu := make([]uint64, dim)
		blk := make([]byte, dim*blockLen)
		for trial := range 20 {
			for d := range qu {
				switch trial {
				case 0: // largest products everywhere
					qu[d] = 255
				case 1:
					qu[d] = 1
				default:
					qu[d] = uint64(1 + r.IntN(255))
				}
			}
			for i := range blk {
				switch trial {
				case 0:
					blk[i] = 255
				case 1:
					blk[i] = 1
				default:
					blk[i] = byte(1 + r.IntN(255))
				}
			}
			var got [blockLen]uint32
			blockDot(qu, blk, &got)
			for l := range blockLen {
				var want uint64
				for d := range qu {
					want += qu[d] * uint64(blk[d*blockLen+l])
				}
				if uint64(got[l]) != want {
					t.Fatalf("dim %d trial %d lane %d: got %d, want %d", dim, trial, l, got[l], want)
				}
			}
		}
	}
}

func TestBlockDotMaxDim(t *testing.T) {
	qu := make([]uint64, maxDim)
	blk := make([]byte, maxDim*blockLen)
	for i := range qu {
		qu[i] = 255
	}
	for i := range blk {
		blk[i] = 255
	}
	var got [blockLen]uint32
	blockDot(qu, blk, &got)
	for l, g := range got {
		if want := uint64(maxDim) * 255 * 255; uint64(g) != want {
			t.Fatalf("lane %d: got %d, want %d", l, g, want)
		}
	}
}

func TestNewPanicsOnBadDim(t *testing.T) {
	for _, dim := range []int{0, -1, maxDim + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d) did not panic", dim)
				}
			}()
			New(dim)
		}()
	}
}

func TestWrongDimension(t *testing.T) {
	ix := New(testDim)
	for _, n := range []int{0, 1, testDim - 1, testDim + 1} {
		err := ix.Add("t", "k", make([]float32, n))
		if !errors.Is(err, ErrDimension) {
			t.Errorf("Add with %d dims: err = %v, want ErrDimension", n, err)
		}
	}
	if ix.Len() != 0 || ix.TenantLen("t") != 0 {
		t.Fatalf("failed Add stored something: Len %d", ix.Len())
	}
	mustAdd(t, ix, "t", "k", randUnit(newRand(2), testDim))
	if got := ix.Search("t", make([]float32, testDim-1), 10, -1); got != nil {
		t.Errorf("Search with wrong dimension = %v, want nil", got)
	}
}

func TestInvalidVector(t *testing.T) {
	ix := New(4)
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		err := ix.Add("t", "k", []float32{0.5, bad, 0.5, 0.5})
		if !errors.Is(err, ErrInvalidVector) {
			t.Errorf("Add with %v: err = %v, want ErrInvalidVector", bad, err)
		}
		if got := ix.Search("t", []float32{0.5, bad, 0.5, 0.5}, 1, -1); got != nil {
			t.Errorf("Search with %v = %v, want nil", bad, got)
		}
	}
	// A zero vector is accepted and scores 0 against everything.
	mustAdd(t, ix, "t", "zero", []float32{0, 0, 0, 0})
	mustAdd(t, ix, "t", "unit", []float32{1, 0, 0, 0})
	got := ix.Search("t", []float32{1, 0, 0, 0}, 5, -1)
	want := []Match{{"unit", 1}, {"zero", 0}}
	if !equalMatches(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSearchMatchesReference checks Search, with every way of splitting the
// scan, against a brute-force search over the same quantised scores: the
// results must be identical, scores bit for bit.
func TestSearchMatchesReference(t *testing.T) {
	r := newRand(3)
	ix := New(testDim)
	db := map[string][]float32{}
	const n = 1003 // not a multiple of blockLen
	base := randUnit(r, testDim)
	for i := range n {
		var v []float32
		if i%10 == 0 { // a few related templates so that scores spread out
			v = correlated(r, base, 0.5+float64(i%7)*0.3)
		} else {
			v = randUnit(r, testDim)
		}
		key := fmt.Sprintf("key-%04d", i)
		db[key] = v
		mustAdd(t, ix, "t", key, v)
	}
	queries := [][]float32{base, correlated(r, base, 0.3), randUnit(r, testDim), db["key-0500"]}
	for qi, q := range queries {
		full := refSearch(db, q, n, -2) // every template, best first
		for _, k := range []int{1, 5, 50, n, n + 10} {
			for _, minScore := range []float32{-2, 0, 0.05, 0.3, 0.9} {
				want := slices.DeleteFunc(slices.Clone(full), func(m Match) bool { return m.Score < minScore })
				want = want[:min(k, len(want))]
				got := ix.Search("t", q, k, minScore)
				if !equalMatches(got, want) {
					t.Fatalf("query %d k %d min %v:\n got %v\nwant %v", qi, k, minScore, head(got), head(want))
				}
				// The same through the internal entry point, split many ways.
				sh := ix.shard("t", false)
				qu, sumQ, step := quantQuery(q)
				for workers := 1; workers <= 7; workers++ {
					got := sh.search(qu, sumQ, step, k, minScore, workers)
					if !equalMatches(got, want) {
						t.Fatalf("query %d k %d min %v workers %d:\n got %v\nwant %v", qi, k, minScore, workers, head(got), head(want))
					}
				}
			}
		}
	}
}

func quantQuery(v []float32) ([]uint64, int64, float32) {
	step, inv, _ := quantStep(v)
	qu := make([]uint64, len(v))
	var sum int64
	for d, x := range v {
		q := quantOne(x, inv)
		sum += int64(q)
		qu[d] = uint64(q + 128)
	}
	return qu, sum, step
}

func head(m []Match) []Match { return m[:min(len(m), 5)] }

// TestSearchVsExactFloat compares Search with an exact float64 brute-force
// search: every returned score is within 0.01 of the exact cosine, and every
// template whose exact score clears the k-th best by more than 0.02 is found.
func TestSearchVsExactFloat(t *testing.T) {
	r := newRand(4)
	ix := New(testDim)
	db := map[string][]float32{}
	base := randUnit(r, testDim)
	for i := range 2000 {
		v := randUnit(r, testDim)
		if i%20 == 0 {
			v = correlated(r, base, 0.2+float64(i%13)*0.15)
		}
		key := fmt.Sprintf("k%d", i)
		db[key] = v
		mustAdd(t, ix, "t", key, v)
	}
	for _, q := range [][]float32{base, correlated(r, base, 0.4), randUnit(r, testDim)} {
		const k = 20
		got := ix.Search("t", q, k, -2)
		if len(got) != k {
			t.Fatalf("got %d matches, want %d", len(got), k)
		}
		exact := make([]Match, 0, len(db))
		for key, v := range db {
			exact = append(exact, Match{key, float32(exactDot(q, v))})
		}
		sortMatches(exact)
		found := map[string]bool{}
		for _, m := range got {
			found[m.Key] = true
			if e := exactDot(q, db[m.Key]); math.Abs(float64(m.Score)-e) > 0.01 {
				t.Errorf("%s: score %v, exact %v", m.Key, m.Score, e)
			}
		}
		kth := exact[k-1].Score
		for _, m := range exact[:k] {
			if m.Score > kth+0.02 && !found[m.Key] {
				t.Errorf("%s (exact %v, k-th %v) missing", m.Key, m.Score, kth)
			}
		}
	}
}

// TestQuantisationError measures the largest difference between the index's
// score and the exact float cosine, on random pairs and on correlated pairs
// from near-duplicates to unrelated. Each round stores 256 templates related
// to one query and scores all of them through Search.
func TestQuantisationError(t *testing.T) {
	r := newRand(5)
	check := func(name string, pairs int, related func(q []float32) []float32) {
		ix := New(testDim)
		db := map[string][]float32{}
		var worst, sum float64
		count := 0
		for i := 0; i < pairs; i += 256 {
			clear(db)
			q := randUnit(r, testDim)
			for j := 0; j < 256 && i+j < pairs; j++ {
				key := fmt.Sprint(j)
				db[key] = related(q)
				mustAdd(t, ix, "t", key, db[key])
			}
			for _, m := range ix.Search("t", q, len(db), -2) {
				e := math.Abs(float64(m.Score) - exactDot(q, db[m.Key]))
				worst = max(worst, e)
				sum += e
				count++
			}
			for key := range db {
				ix.Remove("t", key)
			}
		}
		if count != pairs {
			t.Fatalf("%s: scored %d pairs, want %d", name, count, pairs)
		}
		t.Logf("%-24s pairs %6d  max |err| %.5f  mean |err| %.6f", name, count, worst, sum/float64(count))
		if worst > 0.01 {
			t.Errorf("%s: max error %.5f > 0.01", name, worst)
		}
	}
	check("random unit pairs", 20000, func([]float32) []float32 { return randUnit(r, testDim) })
	for _, noise := range []float64{0.05, 0.2, 0.5, 1, 2} {
		check(fmt.Sprintf("correlated, noise %.2f", noise), 5000, func(q []float32) []float32 {
			return correlated(r, q, noise)
		})
	}
	check("identical", 2000, func(q []float32) []float32 { return slices.Clone(q) })
}

func TestAddReplaceRemove(t *testing.T) {
	r := newRand(6)
	ix := New(testDim)
	db := map[string][]float32{}
	for i := range 100 {
		key := fmt.Sprintf("k%03d", i)
		db[key] = randUnit(r, testDim)
		mustAdd(t, ix, "t", key, db[key])
	}
	if ix.Len() != 100 || ix.TenantLen("t") != 100 {
		t.Fatalf("Len %d TenantLen %d, want 100", ix.Len(), ix.TenantLen("t"))
	}

	// Replace: same key, new vector; the count does not change and the old
	// vector no longer matches.
	old := db["k042"]
	db["k042"] = randUnit(r, testDim)
	mustAdd(t, ix, "t", "k042", db["k042"])
	if ix.Len() != 100 {
		t.Fatalf("Len after replace = %d, want 100", ix.Len())
	}
	if got := ix.Search("t", old, 1, 0.5); len(got) != 0 {
		t.Errorf("old vector still matches: %v", got)
	}
	if got := ix.Search("t", db["k042"], 1, 0.5); len(got) != 1 || got[0].Key != "k042" {
		t.Errorf("new vector: got %v, want k042", got)
	}

	// Remove from the middle, the end and the start; missing keys fail.
	for _, key := range []string{"k050", "k099", "k000", "k007"} {
		if !ix.Remove("t", key) {
			t.Fatalf("Remove(%s) = false", key)
		}
		if ix.Remove("t", key) {
			t.Fatalf("second Remove(%s) = true", key)
		}
		delete(db, key)
	}
	if ix.Remove("t", "nope") || ix.Remove("other", "k001") {
		t.Fatal("Remove of a missing key or tenant = true")
	}
	if ix.Len() != len(db) || ix.TenantLen("t") != len(db) {
		t.Fatalf("Len %d TenantLen %d, want %d", ix.Len(), ix.TenantLen("t"), len(db))
	}
	// Every remaining template is found as its own best match, with the
	// right score, after the slot moves.
	for key, v := range db {
		got := ix.Search("t", v, 1, -2)
		if len(got) != 1 || got[0].Key != key || got[0].Score != refScore(v, v) {
			t.Fatalf("self search %s: got %v", key, got)
		}
	}
	q := randUnit(r, testDim)
	if got, want := ix.Search("t", q, 1000, -2), refSearch(db, q, 1000, -2); !equalMatches(got, want) {
		t.Fatalf("after removals: got %d matches, want %d", len(got), len(want))
	}

	// Removing everything drops the tenant; it can be used again.
	for key := range db {
		ix.Remove("t", key)
	}
	if ix.Len() != 0 || ix.TenantLen("t") != 0 || len(ix.tenants) != 0 {
		t.Fatalf("after removing all: Len %d, tenants %d", ix.Len(), len(ix.tenants))
	}
	if got := ix.Search("t", q, 10, -2); got != nil {
		t.Fatalf("search of empty tenant = %v", got)
	}
	mustAdd(t, ix, "t", "again", q)
	if got := ix.Search("t", q, 10, -2); len(got) != 1 || got[0].Key != "again" {
		t.Fatalf("after re-adding: %v", got)
	}
}

func TestCompactAfterRemovals(t *testing.T) {
	r := newRand(7)
	ix := New(64)
	db := map[string][]float32{}
	for i := range 5000 {
		key := fmt.Sprintf("k%d", i)
		db[key] = randUnit(r, 64)
		mustAdd(t, ix, "t", key, db[key])
	}
	before := ix.Bytes()
	for i := range 4500 {
		key := fmt.Sprintf("k%d", i)
		ix.Remove("t", key)
		delete(db, key)
	}
	after := ix.Bytes()
	if after > before/3 {
		t.Errorf("Bytes after removing 90%%: %d, before %d", after, before)
	}
	q := randUnit(r, 64)
	if got, want := ix.Search("t", q, 600, -2), refSearch(db, q, 600, -2); !equalMatches(got, want) {
		t.Fatalf("after compaction: got %d matches, want %d", len(got), len(want))
	}
	for key := range db {
		mustAdd(t, ix, "t", key, db[key]) // replaces; slots map must be intact
	}
	if ix.TenantLen("t") != 500 {
		t.Fatalf("TenantLen %d, want 500", ix.TenantLen("t"))
	}
}

func TestTenantIsolation(t *testing.T) {
	r := newRand(8)
	ix := New(testDim)
	shared := randUnit(r, testDim)
	// Both tenants hold the same vectors; tenant b also reuses a's key names.
	for i := range 50 {
		v := randUnit(r, testDim)
		if i == 0 {
			v = shared
		}
		mustAdd(t, ix, "a", fmt.Sprintf("a-%d", i), v)
		mustAdd(t, ix, "b", fmt.Sprintf("b-%d", i), v)
	}
	mustAdd(t, ix, "a", "same", shared)
	mustAdd(t, ix, "b", "same", randUnit(r, testDim))
	for _, tc := range []struct{ tenant, prefix string }{{"a", "a-"}, {"b", "b-"}} {
		for _, m := range ix.Search(tc.tenant, shared, 1000, -2) {
			if m.Key != "same" && !strings.HasPrefix(m.Key, tc.prefix) {
				t.Fatalf("tenant %s returned %s", tc.tenant, m.Key)
			}
		}
	}
	// "same" is a near-perfect match in a only.
	if got := ix.Search("a", shared, 2, 0.9); len(got) != 2 {
		t.Fatalf("tenant a: %v", got)
	}
	if got := ix.Search("b", shared, 2, 0.9); len(got) != 1 || got[0].Key != "b-0" {
		t.Fatalf("tenant b: %v", got)
	}
	if got := ix.Search("c", shared, 10, -2); got != nil {
		t.Fatalf("unknown tenant: %v", got)
	}
	if !ix.Remove("a", "same") || ix.TenantLen("b") != 51 || ix.TenantLen("a") != 50 {
		t.Fatal("removing a key of tenant a touched tenant b")
	}
	if ix.Len() != 101 {
		t.Fatalf("Len %d, want 101", ix.Len())
	}
}

func TestKAndMinScore(t *testing.T) {
	r := newRand(9)
	ix := New(testDim)
	q := randUnit(r, testDim)
	// Three identical templates (a tie) and a spread of others.
	for _, key := range []string{"tie-c", "tie-a", "tie-b"} {
		mustAdd(t, ix, "t", key, correlatedFixed(q))
	}
	for i := range 30 {
		mustAdd(t, ix, "t", fmt.Sprintf("n%02d", i), correlated(r, q, float64(i)*0.1))
	}
	if got := ix.Search("t", q, 0, -2); got != nil {
		t.Errorf("k=0: %v", got)
	}
	if got := ix.Search("t", q, -1, -2); got != nil {
		t.Errorf("k=-1: %v", got)
	}
	if got := ix.Search("t", q, 1000, -2); len(got) != 33 {
		t.Errorf("k>n: %d matches, want 33", len(got))
	}
	all := ix.Search("t", q, 33, -2)
	if !slices.IsSortedFunc(all, func(a, b Match) int { return cmp.Compare(b.Score, a.Score) }) {
		t.Errorf("not sorted by score: %v", all)
	}
	for k := 1; k <= 33; k++ {
		if got := ix.Search("t", q, k, -2); !equalMatches(got, all[:k]) {
			t.Fatalf("k=%d is not a prefix of the full result", k)
		}
	}
	// Ties are broken by key.
	var ties []string
	for _, m := range all {
		if strings.HasPrefix(m.Key, "tie-") {
			ties = append(ties, m.Key)
		}
	}
	if !slices.Equal(ties, []string{"tie-a", "tie-b", "tie-c"}) {
		t.Errorf("ties in order %v", ties)
	}
	first := slices.IndexFunc(all, func(m Match) bool { return strings.HasPrefix(m.Key, "tie-") })
	if got := ix.Search("t", q, first+2, -2); got[first].Key != "tie-a" || got[first+1].Key != "tie-b" || got[first].Score != got[first+1].Score {
		t.Errorf("k cutting inside a tie: %v", got[first:])
	}
	// minScore is inclusive and filters before k.
	for _, m := range all {
		got := ix.Search("t", q, 1000, m.Score)
		for _, g := range got {
			if g.Score < m.Score {
				t.Fatalf("minScore %v returned %v", m.Score, g)
			}
		}
		n := 0
		for _, a := range all {
			if a.Score >= m.Score {
				n++
			}
		}
		if len(got) != n {
			t.Fatalf("minScore %v: %d matches, want %d", m.Score, len(got), n)
		}
	}
	if got := ix.Search("t", q, 10, 1.5); got != nil {
		t.Errorf("minScore 1.5: %v", got)
	}
	if got := ix.Search("t", q, 10, float32(math.NaN())); got != nil {
		t.Errorf("minScore NaN: %v", got)
	}
}

// correlatedFixed returns a fixed, deterministic perturbation of q.
func correlatedFixed(q []float32) []float32 {
	w := slices.Clone(q)
	for i := 0; i < len(w); i += 7 {
		w[i] = -w[i]
	}
	return normalise(w)
}

// TestConcurrent runs writers and readers on several tenants at once; run it
// with -race. One tenant is large enough that searches split the scan.
func TestConcurrent(t *testing.T) {
	ix := New(testDim)
	r := newRand(10)
	vecs := make([][]float32, 64)
	for i := range vecs {
		vecs[i] = randUnit(r, testDim)
	}
	big := parallelMin + 1000
	for i := range big {
		mustAdd(t, ix, "big", fmt.Sprintf("b%d", i), vecs[i%len(vecs)])
	}
	if w := workersFor(big); runtime.GOMAXPROCS(0) > 1 && w < 2 {
		t.Fatalf("workersFor(%d) = %d, want a split scan", big, w)
	}

	const writers, rounds = 4, 300
	var wg sync.WaitGroup
	final := make([]map[string]bool, writers)
	for w := range writers {
		final[w] = map[string]bool{}
		wg.Go(func() {
			r := newRand(uint64(100 + w))
			mine := final[w]
			for i := range rounds {
				if i%3 == 1 {
					// Every writer holds at most one template of tenant
					// "churn" at a time, so it empties (and its shard is
					// dropped) again and again while others add to it. An
					// Add that landed in a dropped shard would be lost and
					// the Remove would fail.
					key := fmt.Sprintf("w%d", w)
					mustAdd(t, ix, "churn", key, vecs[r.IntN(len(vecs))])
					if !ix.Remove("churn", key) {
						t.Errorf("Remove(churn/%s) right after Add = false", key)
					}
					continue
				}
				tenant := []string{"small", "big"}[i%3/2]
				key := fmt.Sprintf("w%d-%d", w, r.IntN(20))
				id := tenant + "/" + key
				if r.IntN(3) == 0 {
					got := ix.Remove(tenant, key)
					if got != mine[id] {
						t.Errorf("Remove(%s) = %v, want %v", id, got, mine[id])
					}
					delete(mine, id)
				} else {
					mustAdd(t, ix, tenant, key, vecs[r.IntN(len(vecs))])
					mine[id] = true
				}
			}
		})
	}
	for s := range 4 {
		wg.Go(func() {
			r := newRand(uint64(200 + s))
			for i := range 60 {
				tenant := []string{"small", "churn", "big"}[i%3]
				q := vecs[r.IntN(len(vecs))]
				got := ix.Search(tenant, q, 10, 0.5)
				for j, m := range got {
					if m.Score < 0.5 || (j > 0 && m.Score > got[j-1].Score) {
						t.Errorf("bad result %v", got)
					}
					if tenant != "big" && strings.HasPrefix(m.Key, "b") {
						t.Errorf("tenant %s returned %s", tenant, m.Key)
					}
				}
				_ = ix.Len()
				_ = ix.TenantLen(tenant)
				_ = ix.Bytes()
			}
		})
	}
	wg.Wait()

	want := big
	per := map[string]int{}
	for _, m := range final {
		for id := range m {
			want++
			per[strings.SplitN(id, "/", 2)[0]]++
		}
	}
	if ix.Len() != want {
		t.Fatalf("Len %d, want %d", ix.Len(), want)
	}
	for _, tenant := range []string{"small", "churn"} {
		if ix.TenantLen(tenant) != per[tenant] {
			t.Errorf("TenantLen(%s) = %d, want %d", tenant, ix.TenantLen(tenant), per[tenant])
		}
	}
	if ix.TenantLen("big") != big+per["big"] {
		t.Errorf("TenantLen(big) = %d, want %d", ix.TenantLen("big"), big+per["big"])
	}
}

// TestMemoryPerTemplate measures heap bytes per template with
// runtime.MemStats and checks them against the 1 KiB goal and against Bytes.
func TestMemoryPerTemplate(t *testing.T) {
	n := 30000
	if testing.Short() {
		n = 5000
	}
	perTemplate, estimate := measureMemory(n)
	t.Logf("%d templates: %.0f bytes/template measured, %.0f estimated by Bytes", n, perTemplate, estimate)
	if perTemplate > 1024 {
		t.Errorf("%.0f bytes per template, want <= 1024", perTemplate)
	}
	if math.Abs(estimate-perTemplate) > 0.15*perTemplate {
		t.Errorf("Bytes estimate %.0f is more than 15%% off the measured %.0f", estimate, perTemplate)
	}
}

// measureMemory fills a fresh index with n 512-d templates with UUID-length
// keys and returns the measured heap growth and the Bytes estimate, per
// template.
func measureMemory(n int) (measured, estimate float64) {
	r := newRand(11)
	vec := make([]float32, testDim)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // the second cycle also empties sync.Pool victim caches
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	ix := New(testDim)
	for i := range n {
		for d := range vec {
			vec[d] = float32(r.NormFloat64())
		}
		normalise(vec)
		// 36 characters, like a UUID.
		key := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, r.Uint64()&(1<<48-1))
		if err := ix.Add("tenant", key, vec); err != nil {
			panic(err)
		}
	}
	after := heap()
	runtime.KeepAlive(ix)
	return float64(after-before) / float64(n), float64(ix.Bytes()) / float64(n)
}

// TestRandomOpsAgainstModel runs a long random sequence of adds, replaces
// and removes that moves the template count back and forth across chunk
// boundaries, checking searches (split every way) against a plain map model.
func TestRandomOpsAgainstModel(t *testing.T) {
	const dim = 24 // small, so that many chunks are cheap
	r := newRand(12)
	ix := New(dim)
	model := map[string][]float32{}
	var sizes []int
	ops := 40000
	if testing.Short() {
		ops = 8000
	}
	check := func(step int) {
		if ix.TenantLen("t") != len(model) || ix.Len() != len(model) {
			t.Fatalf("step %d: TenantLen %d Len %d, want %d", step, ix.TenantLen("t"), ix.Len(), len(model))
		}
		sizes = append(sizes, len(model))
		sh := ix.shard("t", false)
		if sh == nil {
			return
		}
		if want := (sh.n + blockLen*chunkBlocks - 1) / (blockLen * chunkBlocks); len(sh.chunks) != want {
			t.Fatalf("step %d: %d chunks for %d templates, want %d", step, len(sh.chunks), sh.n, want)
		}
		q := randUnit(r, dim)
		k := 1 + r.IntN(100)
		minScore := float32(r.Float64()*0.6 - 0.1)
		want := refSearch(model, q, k, minScore)
		qu, sumQ, qstep := quantQuery(q)
		for workers := 1; workers <= 4; workers++ {
			if got := sh.search(qu, sumQ, qstep, k, minScore, workers); !equalMatches(got, want) {
				t.Fatalf("step %d (n %d) workers %d: got %d matches, want %d\n got %v\nwant %v",
					step, len(model), workers, len(got), len(want), head(got), head(want))
			}
		}
	}
	target := 3000
	for i := range ops {
		if i%5000 == 0 {
			target = []int{100, 5000, 2048, 4200, 0, 2100}[i/5000%6]
		}
		key := fmt.Sprintf("k%d", r.IntN(8000))
		_, exists := model[key]
		switch {
		case len(model) > target && len(model) > 0:
			// Remove a random existing key (map order is random enough).
			for k := range model {
				key = k
				break
			}
			if !ix.Remove("t", key) {
				t.Fatalf("Remove(%s) = false", key)
			}
			delete(model, key)
		case exists && r.IntN(4) == 0:
			if ix.Remove("t", key) != true {
				t.Fatalf("Remove(%s) = false", key)
			}
			delete(model, key)
		default:
			v := randUnit(r, dim)
			mustAdd(t, ix, "t", key, v)
			model[key] = v
		}
		if i%997 == 0 {
			check(i)
		}
	}
	check(ops)
	t.Logf("sizes at checks: %v", sizes)
}
