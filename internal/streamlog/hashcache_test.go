package streamlog

import (
	"fmt"
	"sync"
	"testing"
)

// The cache always answers what MD5 does, however keys collide or race.
func TestHashCacheMatchesMD5(t *testing.T) {
	c := NewHashCache()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for i := 0; i < 3*hashCacheSlots; i++ {
					pk := []byte(fmt.Sprintf("tenant-%d", (i*7+g)%(2*hashCacheSlots)))
					if got, want := c.Hash(pk), HashPartitionKey(pk); got != want {
						t.Errorf("hash(%s) = %x, want %x", pk, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
