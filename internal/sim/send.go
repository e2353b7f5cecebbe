package sim

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// batch is the events of one request: their JSON back to back in data.
type batch struct {
	stream     string // the Kinesis stream (kinesis sender); "" for the event API
	data       []byte
	evs        []batchEvent
	first      time.Time // when its first event was added
	minT, maxT int64     // the earliest and latest event time in it, unix ns
}

type batchEvent struct {
	ordinal  int64
	off, end int
	key      string // partition key: the tenant id
}

func (b *batch) add(line []byte, ev Info, now time.Time) {
	if len(b.evs) == 0 {
		b.first, b.minT, b.maxT = now, ev.Time, ev.Time
	}
	b.minT, b.maxT = min(b.minT, ev.Time), max(b.maxT, ev.Time)
	off := len(b.data)
	b.data = append(b.data, line...)
	b.evs = append(b.evs, batchEvent{ordinal: ev.Ordinal, off: off, end: len(b.data), key: ev.TenantID})
}

func (b *batch) reset() {
	b.data, b.evs = b.data[:0], b.evs[:0]
}

// sender delivers one batch, retrying what can be retried, and reports
// every event's outcome to st. It returns an error only when the batch
// cannot be delivered: a non-retryable request error or ctx ending.
type sender interface {
	send(ctx context.Context, b *batch, st *Stats) error
}

// Stats counts what the senders did. Safe for concurrent use.
type Stats struct {
	Delivered  atomic.Int64 // accepted or duplicate
	Duplicates atomic.Int64 // reported duplicate by the server
	Retried    atomic.Int64 // event sends repeated after a retryable failure
	Rejected   atomic.Int64 // rejected as not retryable: a simulator bug

	mu      sync.Mutex
	reasons []string // the first few rejection reasons
}

const maxReasons = 5

func (st *Stats) reject(reason string) {
	st.Rejected.Add(1)
	st.mu.Lock()
	if len(st.reasons) < maxReasons {
		st.reasons = append(st.reasons, reason)
	}
	st.mu.Unlock()
}

// Reasons returns the first few rejection reasons.
func (st *Stats) Reasons() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.reasons...)
}

// backoff sleeps before retry attempt n (0-based): exponential from 50 ms
// to 5 s with full jitter. It returns ctx's error if ctx ends first.
func backoff(ctx context.Context, n int) error {
	d := 50 * time.Millisecond << min(n, 7)
	d = min(d, 5*time.Second)
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tracker follows which ordinals are done (delivered, or rejected for
// good) and so the acknowledged prefix. Safe for concurrent use.
type tracker struct {
	mu   sync.Mutex
	base int64  // ordinal of done[head]
	done []bool // window from base
	head int
}

func newTracker(acked int64) *tracker { return &tracker{base: acked + 1} }

// markDone records ordinals as done.
func (t *tracker) markDone(ords ...int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range ords {
		i := t.head + int(o-t.base)
		if i < t.head {
			continue
		}
		for len(t.done) <= i {
			t.done = append(t.done, false)
		}
		t.done[i] = true
	}
	for t.head < len(t.done) && t.done[t.head] {
		t.head++
		t.base++
	}
	if t.head > 4096 && t.head > len(t.done)/2 {
		n := copy(t.done, t.done[t.head:])
		t.done = t.done[:n]
		t.head = 0
	}
}

// acked is the highest ordinal up to which every ordinal is done (-1 none).
func (t *tracker) acked() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.base - 1
}

// pool runs concurrency workers that send batches from a channel.
type pool struct {
	snd      sender
	st       *Stats
	tr       *tracker
	ch       chan *batch
	free     chan *batch
	inflight sync.WaitGroup
	workers  sync.WaitGroup
	errMu    sync.Mutex
	err      error

	// flying holds the batches dispatched and not yet done, for the
	// event-time bound of dispatch; cond signals one leaving.
	flyMu  sync.Mutex
	cond   *sync.Cond
	flying map[*batch]struct{}
}

// MaxSpread bounds how far apart in event time the batches in flight may
// be: a batch is dispatched only when every batch still in flight starts
// at most MaxSpread before its last event (or none is in flight). Batches
// complete in any order, and a straggler (a slow request, a retry) would
// otherwise let the others run days of backfill ahead of it; a server
// keeps open sessions and running jobs for their late ends only as far
// behind its watermark as its allowed lateness (tenantpulse: 7 days by
// default), so a straggler's logoff or job end could find its start
// forgotten.
const MaxSpread = 4 * 24 * time.Hour

func newPool(ctx context.Context, snd sender, st *Stats, tr *tracker, concurrency, batchSize int) *pool {
	p := &pool{snd: snd, st: st, tr: tr, ch: make(chan *batch, concurrency), free: make(chan *batch, 2*concurrency+2),
		flying: map[*batch]struct{}{}}
	p.cond = sync.NewCond(&p.flyMu)
	for range cap(p.free) {
		p.free <- &batch{data: make([]byte, 0, batchSize*300), evs: make([]batchEvent, 0, batchSize)}
	}
	for range concurrency {
		p.workers.Add(1)
		go p.work(ctx)
	}
	return p
}

func (p *pool) work(ctx context.Context) {
	defer p.workers.Done()
	ords := make([]int64, 0, 512)
	for b := range p.ch {
		err := p.snd.send(ctx, b, p.st)
		if err != nil {
			p.errMu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.errMu.Unlock()
		} else {
			ords = ords[:0]
			for _, e := range b.evs {
				ords = append(ords, e.ordinal)
			}
			p.tr.markDone(ords...)
		}
		p.flyMu.Lock()
		delete(p.flying, b)
		p.cond.Broadcast()
		p.flyMu.Unlock()
		b.reset()
		p.free <- b
		p.inflight.Done()
	}
}

// get returns an empty batch for stream.
func (p *pool) get(stream string) *batch {
	b := <-p.free
	b.stream = stream
	return b
}

// dispatch queues b for sending, once the batches in flight are within
// MaxSpread of its last event.
func (p *pool) dispatch(b *batch) {
	p.flyMu.Lock()
	for !p.fits(b) {
		p.cond.Wait()
	}
	p.flying[b] = struct{}{}
	p.flyMu.Unlock()
	p.inflight.Add(1)
	p.ch <- b
}

// fits reports whether b may fly with the batches in flight. flyMu is held.
func (p *pool) fits(b *batch) bool {
	for o := range p.flying {
		if b.maxT-o.minT > int64(MaxSpread) {
			return false
		}
	}
	return true
}

// drain waits until every dispatched batch is done.
func (p *pool) drain() { p.inflight.Wait() }

// close stops the workers after the queued batches.
func (p *pool) close() error {
	close(p.ch)
	p.workers.Wait()
	return p.failure()
}

// failure is the first batch failure, if any.
func (p *pool) failure() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}
