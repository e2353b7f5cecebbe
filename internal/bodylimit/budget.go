package bodylimit

import (
	"errors"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrBusy is returned by a Body whose bytes do not fit in the budget: the
// request is past the server's in-flight memory budget and should be
// answered with a retriable error (throttling), at once.
var ErrBusy = errors.New("the server is reading as many request bodies as its memory budget allows (--max-inflight-bytes); retry with backoff")

// ErrTimeout is returned (wrapped) by a Body whose bytes did not arrive
// within the body timeout.
var ErrTimeout = errors.New("the request body did not arrive within the server's body timeout (--body-timeout); send it faster or in smaller requests")

// Options configure a Budget.
type Options struct {
	// Max is the budget in bytes; 0 or less: no budget (Acquire always
	// succeeds, the bytes are still counted).
	Max int64
	// ReturnAbove: when the bytes in flight drop to zero after reaching
	// this many, the freed heap goes back to the OS. 0: Max/4; negative: never.
	ReturnAbove int64
	// ReturnEvery bounds how often that happens. Default 10 s.
	ReturnEvery time.Duration
}

// Budget is the memory that request bodies being read may take together.
// It is safe for concurrent use.
type Budget struct {
	opts     Options
	used     atomic.Int64
	peak     atomic.Int64 // the most used since the last return to the OS
	refused  atomic.Int64
	returned atomic.Int64 // times the heap went back to the OS
	pending  atomic.Bool  // a return to the OS is scheduled
	mu       sync.Mutex   // guards lastFree
	lastFree time.Time
}

// NewBudget returns a budget of opts.Max bytes.
func NewBudget(opts Options) *Budget {
	if opts.ReturnAbove == 0 {
		opts.ReturnAbove = opts.Max / 4
	}
	if opts.ReturnEvery <= 0 {
		opts.ReturnEvery = 10 * time.Second
	}
	return &Budget{opts: opts}
}

// Max is the budget in bytes (0 or less: none).
func (b *Budget) Max() int64 { return b.opts.Max }

// InUse is the number of bytes reserved now.
func (b *Budget) InUse() int64 { return b.used.Load() }

// Refused is the number of reservations that did not fit so far.
func (b *Budget) Refused() int64 { return b.refused.Load() }

// Returned is the number of times the heap was given back to the OS.
func (b *Budget) Returned() int64 { return b.returned.Load() }

// Acquire reserves n bytes and reports whether they fit; a reservation
// that does not fit takes nothing.
func (b *Budget) Acquire(n int64) bool {
	for {
		u := b.used.Load()
		if b.opts.Max > 0 && u+n > b.opts.Max {
			b.refused.Add(1)
			return false
		}
		if b.used.CompareAndSwap(u, u+n) {
			if p := b.peak.Load(); u+n > p {
				b.peak.CompareAndSwap(p, u+n) // a lost race only understates the peak a little
			}
			return true
		}
	}
}

// Release gives back n bytes reserved with Acquire.
func (b *Budget) Release(n int64) {
	u := b.used.Add(-n)
	if u < 0 {
		panic("BUG: bodylimit: more bytes released than acquired")
	}
	if u == 0 && b.opts.ReturnAbove > 0 && b.peak.Load() >= b.opts.ReturnAbove {
		b.returnMemory()
	}
}

// returnMemory gives the heap the bodies used back to the OS, in the
// background and at most once per ReturnEvery: a drain sooner than that
// schedules it for when ReturnEvery has passed.
func (b *Budget) returnMemory() {
	if !b.pending.CompareAndSwap(false, true) {
		return
	}
	b.mu.Lock()
	wait := time.Until(b.lastFree.Add(b.opts.ReturnEvery))
	b.mu.Unlock()
	time.AfterFunc(max(wait, 0), func() {
		defer b.pending.Store(false)
		if b.used.Load() != 0 {
			return // busy again: the next drain returns it
		}
		b.mu.Lock()
		b.lastFree = time.Now()
		b.mu.Unlock()
		b.peak.Store(0)
		b.returned.Add(1)
		debug.FreeOSMemory()
	})
}

// Collectors returns the budget's use as Prometheus metrics.
func (b *Budget) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tenantpulse_http_inflight_body_bytes",
			Help: "Request body bytes read by requests in progress, counted against --max-inflight-bytes."},
			func() float64 { return float64(b.used.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tenantpulse_http_inflight_body_bytes_max",
			Help: "The in-flight request body budget (--max-inflight-bytes)."},
			func() float64 { return float64(b.opts.Max) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_throttled_bodies_total",
			Help: "Requests answered with a throttling error because their body did not fit in --max-inflight-bytes."},
			func() float64 { return float64(b.refused.Load()) }),
	}
}
