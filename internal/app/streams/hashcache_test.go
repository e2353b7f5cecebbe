package streams

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// The cache always answers what MD5 does, however keys collide or race.
func TestHashCacheMatchesMD5(t *testing.T) {
	c := newHashCache()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 3; round++ {
				for i := 0; i < 3*hashCacheSlots; i++ {
					pk := []byte(fmt.Sprintf("tenant-%d", (i*7+g)%(2*hashCacheSlots)))
					if got, want := c.hash(pk), streamlog.HashPartitionKey(pk); got != want {
						t.Errorf("hash(%s) = %x, want %x", pk, got, want)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
