package index

// cand is a search candidate: a slot of a shard and its score.
type cand struct {
	score float32
	slot  int32
}

// topK keeps the k best candidates seen so far in a binary min-heap whose
// root is the worst kept candidate. "Better" is a total order: higher score
// first, then smaller key, so the selected set does not depend on scan order
// or on how the scan was split between goroutines.
type topK struct {
	k    int
	h    []cand
	keys []string // the shard's keys, for tie-breaking
	sink byte     // written by scan so its prefetching loads are not dead code
}

func newTopK(k int, keys []string) *topK {
	return &topK{k: k, h: make([]cand, 0, k), keys: keys}
}

// better reports whether a ranks before b.
func better(a, b cand, keys []string) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return keys[a.slot] < keys[b.slot]
}

// push offers c; it is kept if the heap is not full or c beats the worst.
func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		t.up(len(t.h) - 1)
		return
	}
	if !better(c, t.h[0], t.keys) {
		return
	}
	t.h[0] = c
	t.down(0)
}

// full reports whether the heap holds k candidates, and if so the worst score.
func (t *topK) full() (bool, float32) {
	if len(t.h) < t.k {
		return false, 0
	}
	return true, t.h[0].score
}

func (t *topK) up(i int) {
	h := t.h
	for i > 0 {
		p := (i - 1) / 2
		if !better(h[p], h[i], t.keys) { // parent is not better: heap order holds
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *topK) down(i int) {
	h := t.h
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		w := l // the worse child
		if r := l + 1; r < n && better(h[l], h[r], t.keys) {
			w = r
		}
		if !better(h[i], h[w], t.keys) {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
