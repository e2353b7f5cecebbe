package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// GetRecords policy.
const (
	getLimit      = 10000 // GetRecords Limit
	maxEmptyPages = 100   // consecutive empty pages that end a shard even if MillisBehindLatest > 0
)

// page is one GetRecords response.
type page struct {
	records int
	bytes   int64
	next    string // NextShardIterator; "" when the shard is closed
	behind  int64  // MillisBehindLatest; 0 when absent
}

// shardReader reads shards. It is called concurrently.
type shardReader interface {
	// iterator returns a TRIM_HORIZON iterator for shard.
	iterator(ctx context.Context, shard string) (string, error)
	getRecords(ctx context.Context, iter string) (page, error)
}

// getStats is what the get phase measured.
type getStats struct {
	records   int64
	bytes     int64
	wall      time.Duration
	requests  int64
	throttled int64 // GetRecords requests retried after throttling
}

// runGet reads shards with consumers goroutines until target records were
// read across all shards or, with target 0 or when records are missing,
// until every shard is caught up (MillisBehindLatest 0 and two empty pages).
func runGet(ctx context.Context, r shardReader, shards []string, consumers int, target int64) (getStats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	queue := make(chan string, len(shards))
	for _, s := range shards {
		queue <- s
	}
	close(queue)
	var (
		c  = consumer{r: r, target: target}
		wg sync.WaitGroup
	)
	start := time.Now()
	for range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for shard := range queue {
				if err := c.readShard(ctx, shard); err != nil {
					cancel(fmt.Errorf("shard %s: %w", shard, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	st := getStats{
		records:   c.records.Load(),
		bytes:     c.bytes.Load(),
		wall:      time.Since(start),
		requests:  c.requests.Load(),
		throttled: c.throttled.Load(),
	}
	return st, context.Cause(ctx)
}

// consumer holds the get phase's shared counters.
type consumer struct {
	r         shardReader
	target    int64
	records   atomic.Int64
	bytes     atomic.Int64
	requests  atomic.Int64
	throttled atomic.Int64
}

func (c *consumer) done() bool {
	return c.target > 0 && c.records.Load() >= c.target
}

func (c *consumer) readShard(ctx context.Context, shard string) error {
	if c.done() {
		return nil
	}
	var (
		it  string
		err error
	)
	for {
		it, err = c.r.iterator(ctx, shard)
		if err == nil {
			break
		}
		if !isThrottle(err) {
			return err
		}
		if err := sleepCtx(ctx, throttleBackoff); err != nil {
			return err
		}
	}
	empty := 0
	for !c.done() {
		pg, err := c.r.getRecords(ctx, it)
		c.requests.Add(1)
		if err != nil {
			if !isThrottle(err) {
				return err
			}
			c.throttled.Add(1)
			if err := sleepCtx(ctx, throttleBackoff); err != nil {
				return err
			}
			continue
		}
		c.records.Add(int64(pg.records))
		c.bytes.Add(pg.bytes)
		if pg.next == "" {
			return nil // shard closed and fully read
		}
		it = pg.next
		if pg.records > 0 {
			empty = 0
			continue
		}
		empty++
		if (pg.behind <= 0 && empty >= 2) || empty >= maxEmptyPages {
			return nil
		}
	}
	return nil
}
