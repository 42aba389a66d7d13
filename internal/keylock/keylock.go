// Package keylock serialises work per key with a fixed set of mutexes, so
// memory stays bounded however many keys there are: keys hash to one of 64
// stripes, and unrelated keys sharing a stripe only wait for each other.
package keylock

import (
	"hash/fnv"
	"sync"
)

// Striped is a set of mutexes selected by key. The zero value is ready.
type Striped struct {
	mu [64]sync.Mutex
}

// Lock locks key's stripe and returns its unlock.
func (s *Striped) Lock(key string) (unlock func()) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	m := &s.mu[h.Sum32()%uint32(len(s.mu))]
	m.Lock()
	return m.Unlock
}
