package index

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Storage granularity of a shard's codes.
const (
	// chunkBlocks is the number of blocks per chunk of codes (2048 templates,
	// 1 MiB at 512-d). Chunks grow by doubling up to this size, so growth
	// never copies more than one chunk and the spare capacity of a shard is
	// at most one partly filled chunk.
	chunkBlocks = 256

	// prefetchAhead is how many blocks ahead scan touches memory.
	prefetchAhead = 2

	// stealBlocks is the piece of a split scan a worker takes at a time:
	// 512 templates, about 0.1 ms of work.
	stealBlocks = 64
)

// shard holds the templates of one tenant. See the package comment for the
// layout. Slot s lives in block s/blockLen, lane s%blockLen; block b lives in
// chunk b/chunkBlocks.
type shard struct {
	dim int

	mu     sync.RWMutex
	dead   bool             // dropped from Index.tenants; never used again
	n      int              // number of templates (slots 0..n-1)
	chunks [][]byte         // ceil(n/8) blocks of 8*dim bytes; all chunks but the last are full
	steps  []float32        // per slot: quantisation step maxabs/127
	sums   []int32          // per slot: Σ codes (each code is q+128)
	keys   []string         // per slot: key
	slots  map[string]int32 // key → slot

	keyBytes int64 // Σ allocation size of keys, for Bytes
}

func newShard(dim int) *shard {
	return &shard{dim: dim, slots: make(map[string]int32)}
}

func (sh *shard) blockBytes() int { return blockLen * sh.dim }

// block returns block b.
func (sh *shard) block(b int) []byte {
	bb := sh.blockBytes()
	off := (b % chunkBlocks) * bb
	return sh.chunks[b/chunkBlocks][off : off+bb : off+bb]
}

// lane returns the codes of slot s: element d is at index d*blockLen.
func (sh *shard) lane(s int) []byte {
	return sh.block(s / blockLen)[s%blockLen:]
}

// addBlock appends a zeroed block.
func (sh *shard) addBlock() {
	bb := sh.blockBytes()
	last := len(sh.chunks) - 1
	if last < 0 || len(sh.chunks[last]) == chunkBlocks*bb {
		sh.chunks = append(sh.chunks, make([]byte, 0, bb))
		last++
	}
	c := sh.chunks[last]
	if len(c)+bb > cap(c) {
		nc := make([]byte, len(c), min(max(2*cap(c), len(c)+bb), chunkBlocks*bb))
		copy(nc, c)
		c = nc
	}
	sh.chunks[last] = append(c, make([]byte, bb)...)
}

// dropBlock removes the last block, releasing its chunk when it empties and
// reallocating a chunk that has become mostly spare capacity.
func (sh *shard) dropBlock() {
	bb := sh.blockBytes()
	last := len(sh.chunks) - 1
	c := sh.chunks[last][:len(sh.chunks[last])-bb]
	switch {
	case len(c) == 0:
		sh.chunks[last] = nil
		sh.chunks = sh.chunks[:last]
		return
	case cap(c) >= 4*len(c) && cap(c) >= 16*bb:
		c = slices.Clone(c)
	}
	sh.chunks[last] = c
}

// write quantises vec into slot s, whose block must exist.
func (sh *shard) write(s int, vec []float32, step float32, inv float64) {
	codes := sh.lane(s)
	codes = codes[:(len(vec)-1)*blockLen+1]
	var sum int32
	for d, x := range vec {
		u := quantOne(x, inv) + 128
		codes[d*blockLen] = byte(u)
		sum += u
	}
	sh.steps[s] = step
	sh.sums[s] = sum
}

// put stores vec under key and reports whether the key is new.
func (sh *shard) put(key string, vec []float32, step float32, inv float64) bool {
	if s, ok := sh.slots[key]; ok {
		sh.write(int(s), vec, step, inv)
		return false
	}
	s := sh.n
	if s%blockLen == 0 {
		sh.addBlock()
	}
	key = strings.Clone(key) // do not pin the caller's buffer
	sh.steps = append(sh.steps, 0)
	sh.sums = append(sh.sums, 0)
	sh.keys = append(sh.keys, key)
	sh.slots[key] = int32(s)
	sh.keyBytes += allocSize(len(key))
	sh.n++
	sh.write(s, vec, step, inv)
	return true
}

// del removes key, moving the last slot into its place, and reports whether
// key was present.
func (sh *shard) del(key string) bool {
	s, ok := sh.slots[key]
	if !ok {
		return false
	}
	last := sh.n - 1
	if int(s) != last {
		dst, src := sh.lane(int(s)), sh.lane(last)
		for d := 0; d < sh.dim; d++ {
			dst[d*blockLen] = src[d*blockLen]
		}
		sh.steps[s] = sh.steps[last]
		sh.sums[s] = sh.sums[last]
		moved := sh.keys[last]
		sh.keys[s] = moved
		sh.slots[moved] = s
	}
	delete(sh.slots, key)
	sh.keyBytes -= allocSize(len(key))
	sh.keys[last] = "" // release the string
	sh.steps = sh.steps[:last]
	sh.sums = sh.sums[:last]
	sh.keys = sh.keys[:last]
	sh.n = last
	if last%blockLen == 0 {
		sh.dropBlock()
	}
	if c := cap(sh.steps); c >= 1024 && last <= c/4 {
		sh.compact()
	}
	return true
}

// compact reallocates the per-slot slices after many removals, and rebuilds
// the map, since Go maps never shrink.
func (sh *shard) compact() {
	sh.steps = slices.Clone(sh.steps)
	sh.sums = slices.Clone(sh.sums)
	sh.keys = slices.Clone(sh.keys)
	sh.slots = make(map[string]int32, len(sh.keys))
	for s, key := range sh.keys {
		sh.slots[key] = int32(s)
	}
}

// bytes estimates the memory held by the shard. The caller holds sh.mu.
func (sh *shard) bytes() int64 {
	total := tenantOverhead + 24*int64(cap(sh.chunks))
	for _, c := range sh.chunks {
		total += int64(cap(c))
	}
	return total + 4*int64(cap(sh.steps)) + 4*int64(cap(sh.sums)) +
		16*int64(cap(sh.keys)) + sh.keyBytes + int64(len(sh.slots))*mapEntryBytes
}

// Memory estimate constants for Bytes, checked against runtime.MemStats in
// TestMemoryPerTemplate.
const (
	// mapEntryBytes is the average cost of one map[string]int32 entry: a
	// 24-byte slot plus a control byte, at the swiss table's average load.
	mapEntryBytes = 36
	// tenantOverhead is the fixed cost of a shard, its empty map and its
	// entry in the tenant map.
	tenantOverhead = 320
)

// allocSize approximates the heap size class of an n-byte allocation.
func allocSize(n int) int64 {
	switch {
	case n == 0:
		return 0
	case n <= 16:
		return int64(n+7) &^ 7
	case n <= 128:
		return int64(n+15) &^ 15
	default:
		return int64(n+63) &^ 63
	}
}

// search scans the shard with the quantised query (qu[d] = q_d+128, Σq_d =
// sumQ, step qstep) using the given number of goroutines. The caller holds
// sh.mu for reading.
func (sh *shard) search(qu []uint64, sumQ int64, qstep float32, k int, minScore float32, workers int) []Match {
	n := sh.n
	if n == 0 {
		return nil
	}
	k = min(k, n)
	nb := (n + blockLen - 1) / blockLen
	workers = max(1, min(workers, (nb+stealBlocks-1)/stealBlocks))
	tops := make([]*topK, workers)
	if workers == 1 {
		tops[0] = newTopK(k, sh.keys)
		sh.scan(qu, sumQ, qstep, 0, nb, minScore, tops[0])
	} else {
		// Workers take stealBlocks blocks at a time rather than a fixed
		// share, so a goroutine that is descheduled (the other core busy
		// with a model run, say) delays the search by one piece, not by
		// half the scan.
		var next atomic.Int64
		work := func(top *topK) {
			for {
				lo := int(next.Add(stealBlocks)) - stealBlocks
				if lo >= nb {
					return
				}
				sh.scan(qu, sumQ, qstep, lo, min(lo+stealBlocks, nb), minScore, top)
			}
		}
		var wg sync.WaitGroup
		for w := range workers {
			tops[w] = newTopK(k, sh.keys)
			if w > 0 {
				wg.Go(func() { work(tops[w]) })
			}
		}
		work(tops[0]) // on this goroutine
		wg.Wait()
	}

	all := tops[0].h
	for _, t := range tops[1:] {
		all = append(all, t.h...)
	}
	slices.SortFunc(all, func(a, b cand) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return strings.Compare(sh.keys[a.slot], sh.keys[b.slot])
	})
	all = all[:min(k, len(all))]
	if len(all) == 0 {
		return nil
	}
	out := make([]Match, len(all))
	for i, c := range all {
		out[i] = Match{Key: sh.keys[c.slot], Score: c.score}
	}
	return out
}

// scan scores blocks [lo, hi) and offers those with score >= minScore to top.
func (sh *shard) scan(qu []uint64, sumQ int64, qstep float32, lo, hi int, minScore float32, top *topK) {
	bb := sh.blockBytes()
	n := sh.n
	nb := (n + blockLen - 1) / blockLen
	// Σ_d a_d·b_d = raw − 128·Σu − 128·Σa, see the package comment.
	qcorr := 128 * sumQ
	qs := float64(qstep)
	var raw [blockLen]uint32
	var touched byte
	for b := lo; b < hi; b++ {
		// A block is one 4 KiB page at 512-d, and the hardware prefetcher
		// does not cross pages: reading one byte of a block ahead starts its
		// TLB walk and first cache-line fill early. Without this, scanning
		// 100k templates from RAM is about 3× slower than from cache.
		if a := b + prefetchAhead; a < nb { // may be another worker's block

			touched += sh.chunks[a/chunkBlocks][(a%chunkBlocks)*bb]
		}
		blockDot(qu, sh.block(b), &raw)
		first := b * blockLen
		lanes := min(blockLen, n-first)
		for l := range lanes {
			s := first + l
			dot := int64(raw[l]) - 128*int64(sh.sums[s]) - qcorr
			score := float32(float64(dot) * qs * float64(sh.steps[s]))
			if !(score >= minScore) { // also rejects everything for a NaN minScore
				continue
			}
			if full, worst := top.full(); full && score < worst {
				continue
			}
			top.push(cand{score: score, slot: int32(s)})
		}
	}
	top.sink = touched // keep the touching loads alive
}
