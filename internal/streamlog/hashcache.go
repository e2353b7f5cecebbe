package streamlog

import (
	"hash/maphash"
	"sync/atomic"
)

// HashCache remembers the MD5 hash keys of recently seen partition keys.
// Partition keys repeat (they are tenant ids), and MD5 is a tenth of the
// CPU a PutRecords record costs. It is a direct-mapped table of immutable
// entries swapped atomically: lookups take no lock, a collision simply
// replaces the older entry.
type HashCache struct {
	seed  maphash.Seed
	slots [hashCacheSlots]atomic.Pointer[hashEntry]
}

const hashCacheSlots = 1 << 14

type hashEntry struct {
	key string
	hk  HashKey
}

// NewHashCache returns an empty cache.
func NewHashCache() *HashCache { return &HashCache{seed: maphash.MakeSeed()} }

// Hash returns the Kinesis hash key of partition key pk.
func (c *HashCache) Hash(pk []byte) HashKey {
	slot := &c.slots[maphash.Bytes(c.seed, pk)&(hashCacheSlots-1)]
	if e := slot.Load(); e != nil && e.key == string(pk) {
		return e.hk
	}
	hk := HashPartitionKey(pk)
	slot.Store(&hashEntry{key: string(pk), hk: hk})
	return hk
}
