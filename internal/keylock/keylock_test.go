package keylock

import (
	"sync"
	"testing"
)

func TestStripedSerialisesOneKey(t *testing.T) {
	var s Striped
	var wg sync.WaitGroup
	n := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := s.Lock("k")
			n++ // a data race (caught by -race) if the lock did not serialise
			unlock()
		}()
	}
	wg.Wait()
	if n != 50 {
		t.Fatalf("n = %d", n)
	}
}
