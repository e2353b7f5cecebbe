package streams

import (
	"hash/maphash"
	"sync/atomic"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// hashCache remembers the MD5 hash keys of recently seen partition keys.
// Partition keys repeat (they are tenant ids), and MD5 is a tenth of the
// CPU a PutRecords record costs. It is a direct-mapped table of immutable
// entries swapped atomically: lookups take no lock, a collision simply
// replaces the older entry.
type hashCache struct {
	seed  maphash.Seed
	slots [hashCacheSlots]atomic.Pointer[hashEntry]
}

const hashCacheSlots = 1 << 14

type hashEntry struct {
	key string
	hk  streamlog.HashKey
}

func newHashCache() *hashCache { return &hashCache{seed: maphash.MakeSeed()} }

// hash returns the Kinesis hash key of partition key pk.
func (c *hashCache) hash(pk []byte) streamlog.HashKey {
	slot := &c.slots[maphash.Bytes(c.seed, pk)&(hashCacheSlots-1)]
	if e := slot.Load(); e != nil && e.key == string(pk) {
		return e.hk
	}
	hk := streamlog.HashPartitionKey(pk)
	slot.Store(&hashEntry{key: string(pk), hk: hk})
	return hk
}
