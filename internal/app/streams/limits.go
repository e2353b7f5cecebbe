package streams

import (
	"sync"
	"time"
)

// Kinesis's per-shard quotas, enforced with --shard-limits aws.
const (
	putRecordsPerSec = 1000
	putBytesPerSec   = 1 << 20
	getCallsPerSec   = 5
	getBytesPerSec   = 2 << 20
)

// bucket is a token bucket refilled continuously at rate per second up to
// burst. A take may drive it negative (a debt paid back before the next
// take succeeds), as Kinesis does for a GetRecords that returns more than
// the per-second quota.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time, rate, burst float64) {
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
		return
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
}

type shardQuota struct {
	mu                         sync.Mutex
	putRecs, putBytes, getCall bucket
	getBytes                   bucket
}

// shardLimits tracks the quotas of every shard by stream and shard id.
type shardLimits struct {
	now    func() time.Time
	mu     sync.Mutex
	shards map[shardKey]*shardQuota
}

type shardKey struct{ stream, shard string }

func newShardLimits(now func() time.Time) *shardLimits {
	return &shardLimits{now: now, shards: map[shardKey]*shardQuota{}}
}

func (l *shardLimits) quota(stream, shard string) *shardQuota {
	key := shardKey{stream, shard}
	l.mu.Lock()
	defer l.mu.Unlock()
	q, ok := l.shards[key]
	if !ok {
		q = &shardQuota{}
		l.shards[key] = q
	}
	return q
}

// allowPut takes one record of n bytes from the shard's write quota.
func (l *shardLimits) allowPut(stream, shard string, n int) bool {
	q := l.quota(stream, shard)
	now := l.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.putRecs.refill(now, putRecordsPerSec, putRecordsPerSec)
	q.putBytes.refill(now, putBytesPerSec, putBytesPerSec)
	// A record larger than the whole per-second byte quota (a 1 MiB record
	// with its key) passes on a full bucket and leaves a debt.
	if q.putRecs.tokens < 1 || q.putBytes.tokens < float64(min(n, putBytesPerSec)) {
		return false
	}
	q.putRecs.tokens--
	q.putBytes.tokens -= float64(n)
	return true
}

// allowGet takes one GetRecords call from the shard's read quota; it fails
// while the bytes of earlier reads are still owed.
func (l *shardLimits) allowGet(stream, shard string) bool {
	q := l.quota(stream, shard)
	now := l.now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.getCall.refill(now, getCallsPerSec, getCallsPerSec)
	q.getBytes.refill(now, getBytesPerSec, getBytesPerSec)
	if q.getCall.tokens < 1 || q.getBytes.tokens < 0 {
		return false
	}
	q.getCall.tokens--
	return true
}

// chargeGet records n bytes read.
func (l *shardLimits) chargeGet(stream, shard string, n int) {
	q := l.quota(stream, shard)
	q.mu.Lock()
	q.getBytes.tokens -= float64(n)
	q.mu.Unlock()
}
