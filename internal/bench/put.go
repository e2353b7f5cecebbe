package bench

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Put retry policy.
const (
	throttleBackoff = 50 * time.Millisecond // after a throttled request
	maxPutAttempts  = 200                   // per batch, before giving up
)

// putResult is the outcome of one PutRecords request that got a response.
type putResult struct {
	failed    []recordRef // entries that came back with an ErrorCode
	errorCode string      // the last such ErrorCode
	resent    int         // records re-sent by client-internal retries
}

// putter sends PutRecords requests. It is called concurrently.
type putter interface {
	// putPrepared sends prepared batch idx of the workload.
	putPrepared(ctx context.Context, idx int) (putResult, error)
	// putRecords sends arbitrary records (the retry path).
	putRecords(ctx context.Context, recs []recordRef) (putResult, error)
}

// putStats is what the put phase measured.
type putStats struct {
	records   int64
	bytes     int64
	wall      time.Duration
	requests  int64
	retries   int64 // records sent again after a partial or throttled failure
	latencies []time.Duration
}

// runPut has producers goroutines send the workload's batches until every
// record is acknowledged.
func runPut(ctx context.Context, p putter, w *workload, producers int) (putStats, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next  atomic.Int64
		mu    sync.Mutex
		stats putStats
		wg    sync.WaitGroup
	)
	nb := int64(w.numBatches())
	start := time.Now()
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pr := producer{p: p}
			var err error
			for err == nil {
				k := next.Add(1) - 1
				if k >= nb {
					break
				}
				err = pr.sendBatch(ctx, w.batchIndex(int(k)), w.batches[w.batchIndex(int(k))])
			}
			if err != nil {
				cancel(err)
			}
			mu.Lock()
			stats.records += pr.records
			stats.bytes += pr.bytes
			stats.requests += int64(len(pr.latencies))
			stats.retries += pr.retries
			stats.latencies = append(stats.latencies, pr.latencies...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	stats.wall = time.Since(start)
	sort.Slice(stats.latencies, func(i, j int) bool { return stats.latencies[i] < stats.latencies[j] })
	if err := context.Cause(ctx); err != nil {
		return stats, err
	}
	return stats, nil
}

// producer is one put goroutine's state.
type producer struct {
	p         putter
	records   int64
	bytes     int64
	retries   int64
	latencies []time.Duration
}

// sendBatch puts recs (prepared batch idx), re-sending failed entries until
// all are acknowledged.
func (pr *producer) sendBatch(ctx context.Context, idx int, recs []recordRef) error {
	res, err := pr.call(ctx, len(recs), func() (putResult, error) { return pr.p.putPrepared(ctx, idx) })
	for attempt := 1; err == nil && len(res.failed) > 0; attempt++ {
		if attempt >= maxPutAttempts {
			return fmt.Errorf("%d records still failing after %d attempts (last ErrorCode %s)", len(res.failed), attempt, res.errorCode)
		}
		failed := res.failed
		pr.retries += int64(len(failed))
		if err := sleepCtx(ctx, retryBackoff(attempt)); err != nil {
			return err
		}
		res, err = pr.call(ctx, len(failed), func() (putResult, error) { return pr.p.putRecords(ctx, failed) })
	}
	if err != nil {
		return err
	}
	pr.records += int64(len(recs))
	for _, r := range recs {
		pr.bytes += int64(len(r.data))
	}
	return nil
}

// call runs one request, retrying it whole while the server throttles it.
func (pr *producer) call(ctx context.Context, n int, f func() (putResult, error)) (putResult, error) {
	for attempt := 1; ; attempt++ {
		t0 := time.Now()
		res, err := f()
		pr.latencies = append(pr.latencies, time.Since(t0))
		pr.retries += int64(res.resent)
		if err == nil || !isThrottle(err) || attempt >= maxPutAttempts {
			return res, err
		}
		pr.retries += int64(n)
		if err := sleepCtx(ctx, throttleBackoff); err != nil {
			return res, err
		}
	}
}

// retryBackoff is the pause before re-sending partially failed entries:
// 10 ms doubling up to 320 ms.
func retryBackoff(attempt int) time.Duration {
	return 10 * time.Millisecond << min(attempt-1, 5)
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
