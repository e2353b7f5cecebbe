// Package retry owns how tenantpulse retries work that keeps failing in
// the background (a checkpoint, an archive file, a segment on a full
// disk): Backoff spaces the attempts out exponentially up to a cap, so a
// failure that lasts costs a few attempts and a few log lines a minute
// rather than a busy loop, and Failures keeps the count of failures and
// since when the current run of them has lasted, for /healthz and
// /metrics to read from other goroutines.
//
// It knows nothing of what is retried.
package retry

import (
	"sync"
	"sync/atomic"
	"time"
)

// Backoff is the wait before each retry: Min after the first failure,
// doubling after each further one, never more than Max. The zero value
// waits 100 ms to 10 s. Not safe for concurrent use: one goroutine owns
// it.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration
}

// Next returns the wait before the next attempt after a failure, and
// doubles the one after.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 100 * time.Millisecond
	}
	if hi < lo {
		hi = max(lo, 10*time.Second)
	}
	d := min(max(b.next, lo), hi)
	b.next = min(2*d, hi)
	return d
}

// Reset starts over from Min, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Failures records an operation's failures: how many in all, and since
// when it has been failing without a success in between. Safe for
// concurrent use; the zero value is ready.
type Failures struct {
	total atomic.Uint64
	since atomic.Int64 // Unix ns of the first failure of the current run; 0: not failing

	mu   sync.Mutex
	last string
}

// Fail records a failure at now.
func (f *Failures) Fail(now time.Time, err error) {
	f.total.Add(1)
	f.since.CompareAndSwap(0, now.UnixNano())
	f.mu.Lock()
	f.last = err.Error()
	f.mu.Unlock()
}

// OK records a success: the operation is no longer failing.
func (f *Failures) OK() {
	if f.since.Load() != 0 {
		f.since.Store(0)
	}
}

// State is what Failures knows at one moment.
type State struct {
	Total uint64    // failures since the start
	Since time.Time // zero if the last attempt succeeded
	Last  string    // the last failure's error
}

// Failing reports whether the last attempt failed.
func (s State) Failing() bool { return !s.Since.IsZero() }

// State returns the failures' count and current run.
func (f *Failures) State() State {
	s := State{Total: f.total.Load()}
	if ns := f.since.Load(); ns != 0 {
		s.Since = time.Unix(0, ns)
		f.mu.Lock()
		s.Last = f.last
		f.mu.Unlock()
	}
	return s
}

// Merge combines the states of parts of one job (the shards of a
// service): the totals add up, and the job is failing since the earliest
// part that is failing now, with that part's error.
func Merge(states ...State) State {
	var out State
	for _, s := range states {
		out.Total += s.Total
		if s.Failing() && (!out.Failing() || s.Since.Before(out.Since)) {
			out.Since, out.Last = s.Since, s.Last
		}
	}
	return out
}
