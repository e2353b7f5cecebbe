package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Options configures Run; cmd/tenantpulse/simulate.go fills it from flags.
type Options struct {
	Seed     uint64
	Tenants  int
	Rate     float64       // live events/s on average
	History  time.Duration // backfilled before going live; 0: live only
	Now      time.Time     // "now" at the start; zero: the wall clock
	Duration time.Duration // stop after this long (0: no limit)
	Count    int64         // stop after sending this many events (0: no limit)

	Endpoint    string
	Via         string // "events" or "kinesis"
	Batch       int
	Concurrency int
	Fresh       bool // ignore stored progress

	Out       io.Writer // write NDJSON here instead of sending (no pacing, no resume)
	TruthPath string    // write the ground truth here ("" none)
	// OnBackfill, if set, is called with the truth once every backfilled
	// event is delivered (on a resumed run whose backfill was done, before
	// the first event sent).
	OnBackfill func(Truth)
	// OnResume, if set, is called when the run resumes from stored
	// progress, before any event is sent.
	OnResume func()

	Log      *slog.Logger
	Progress io.Writer // where progress goes ("" none)
	Terminal bool      // Progress is a terminal: redraw one line
}

// Summary is what a run did.
type Summary struct {
	Sent       int64 // events handed to the sender (or written) by this run
	Backfill   int64 // ... of them before the live start
	Skipped    int64 // found already stored on resume
	Resumed    bool
	Replayed   int64 // events regenerated silently on resume
	Scanned    bool  // on resume, the streams were read for events sent but not acknowledged (the last run did not stop cleanly)
	Delivered  int64
	Duplicates int64
	Retried    int64
	Rejected   int64
	Reasons    []string
	ByType     map[string]int64 // every event generated, replay included
	Elapsed    time.Duration
	K          float64
	Last       int64 // ordinal of the last event generated (-1 none)
}

// liveFlush bounds how long a live event waits in a partial batch.
const liveFlush = 200 * time.Millisecond

// Run generates events and sends them (or writes them to o.Out) until
// o.Count or o.Duration is reached or ctx ends. It always finishes the
// batches in flight, stores progress and writes the truth before returning.
func Run(ctx context.Context, o Options) (Summary, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Batch = max(1, o.Batch)
	o.Concurrency = max(1, o.Concurrency)
	began := time.Now()
	clock := func() time.Time { return time.Now() }
	if !o.Now.IsZero() {
		clock = func() time.Time { return o.Now.Add(time.Since(began)) }
	}
	now := clock().Truncate(time.Second)
	prog := Progress{Tenants: o.Tenants, Start: now.Add(-o.History).UnixMilli(), Live: now.UnixMilli(), Rate: o.Rate, Acked: -1}

	var kc *kinesis.Client
	var found map[int64]struct{}
	sum := Summary{Last: -1}
	if o.Out == nil {
		kc = newKinesisClient(o.Endpoint, o.Concurrency)
		stored, ok, err := readProgress(ctx, kc, o.Seed)
		switch {
		case err != nil && !o.Fresh:
			return sum, fmt.Errorf("cannot read the stored progress: %w", err)
		case ok && o.Fresh:
			o.Log.Warn("--fresh: ignoring the stored progress; the server may drop this run's events as duplicates of the last run's ids: use another seed or a new data directory", "tag", TagKey(o.Seed), "stored", stored.String())
		case ok:
			if stored.Tenants != o.Tenants || stored.Rate != o.Rate {
				o.Log.Warn("resuming with the stored settings, not the flags", "tenants", stored.Tenants, "rate", stored.Rate, "flagTenants", o.Tenants, "flagRate", o.Rate)
			}
			prog, sum.Resumed = stored, true
		}
		if !sum.Resumed {
			prog.At = time.Now().UnixMilli()
			if err := writeProgress(ctx, kc, o.Seed, prog); err != nil {
				return sum, fmt.Errorf("cannot store the run's settings: %w", err)
			}
		}
	}
	live := time.UnixMilli(prog.Live).UTC()
	g := New(Config{Seed: o.Seed, Tenants: prog.Tenants, Start: time.UnixMilli(prog.Start).UTC(), Live: live, Rate: prog.Rate})

	buf := make([]byte, 0, 1024)
	if sum.Resumed {
		for g.Generated() <= prog.Acked {
			var ok bool
			if buf, _, ok = g.Next(buf[:0]); !ok {
				return sum, errors.New("BUG: the generator ran dry while replaying")
			}
		}
		sum.Replayed = g.Generated()
		if prog.Clean {
			// The last run stopped with everything it sent acknowledged:
			// nothing after acked is stored. Clear the mark before this run
			// sends anything, so that a crash of it is not taken as clean.
			prog.Clean = false
			prog.At = time.Now().UnixMilli()
			if err := writeProgress(ctx, kc, o.Seed, prog); err != nil {
				return sum, fmt.Errorf("cannot store the run's progress: %w", err)
			}
		} else {
			since := time.UnixMilli(prog.At).Add(-time.Minute)
			var err error
			if found, err = readStreams(ctx, kc, o.Seed, prog.Acked, since); err != nil {
				return sum, fmt.Errorf("cannot read the streams to resume: %w", err)
			}
			sum.Scanned = true
		}
		o.Log.Info("resuming", "tag", prog.String(), "replayed", sum.Replayed, "scanned", sum.Scanned, "alreadyStored", len(found))
		if o.OnResume != nil {
			o.OnResume()
		}
	}
	var maxFound int64 = -1
	for ord := range found {
		maxFound = max(maxFound, ord)
	}

	st := &Stats{}
	tr := newTracker(prog.Acked)
	r := &runner{o: o, g: g, st: st, tr: tr, kc: kc, prog: prog, sum: &sum, began: began, live: live.UnixNano(), start: time.UnixMilli(prog.Start).UnixNano()}
	var err error
	if o.Out != nil {
		err = r.write(ctx, clock)
	} else {
		err = r.send(ctx, clock, found, maxFound)
	}
	sum.Elapsed = time.Since(began)
	sum.Sent, sum.Backfill = r.sent.Load(), r.backfill.Load()
	sum.Delivered, sum.Duplicates = st.Delivered.Load(), st.Duplicates.Load()
	sum.Retried, sum.Rejected, sum.Reasons = st.Retried.Load(), st.Rejected.Load(), st.Reasons()
	sum.ByType, sum.K, sum.Last = g.Counts(), g.K(), g.Generated()-1
	if o.TruthPath != "" {
		if terr := WriteTruth(o.TruthPath, g.Truth()); terr != nil && err == nil {
			err = terr
		}
	}
	return sum, err
}

type runner struct {
	o     Options
	g     *Generator
	st    *Stats
	tr    *tracker
	kc    *kinesis.Client
	prog  Progress
	sum   *Summary
	began time.Time
	live  int64 // unix ns
	start int64 // unix ns

	sent     atomic.Int64 // read by the reporter
	backfill atomic.Int64
	simTime  atomic.Int64 // time of the last event sent
}

// done reports whether the run should stop before the next event.
func (r *runner) done(ctx context.Context) bool {
	return ctx.Err() != nil ||
		(r.o.Count > 0 && r.sent.Load() >= r.o.Count) ||
		(r.o.Duration > 0 && time.Since(r.began) >= r.o.Duration)
}

// write writes NDJSON to o.Out as fast as it is generated.
func (r *runner) write(ctx context.Context, clock func() time.Time) error {
	w := bufio.NewWriterSize(r.o.Out, 1<<16)
	rep := newReporter(r, clock)
	defer rep.stop()
	buf := make([]byte, 0, 1024)
	backfillDone := false
	for !r.done(ctx) {
		p, ok := r.g.Peek()
		if !ok {
			break
		}
		if !backfillDone && p.Time >= r.live {
			backfillDone = true
			r.backfillEnded()
		}
		buf, _, _ = r.g.Next(buf[:0])
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("cannot write events: %w", err)
		}
		r.count(p)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("cannot write events: %w", err)
	}
	return nil
}

func (r *runner) count(p Info) {
	r.sent.Add(1)
	if p.Time < r.live {
		r.backfill.Add(1)
	}
	r.simTime.Store(p.Time)
}

// backfillEnded writes the truth as of the end of the backfill (all its
// events delivered).
func (r *runner) backfillEnded() {
	if (r.o.TruthPath == "" && r.o.OnBackfill == nil) || r.g.Generated() == 0 {
		return
	}
	tr := r.g.Truth()
	if r.o.TruthPath != "" {
		if err := WriteTruth(r.o.TruthPath, tr); err != nil {
			r.o.Log.Error("cannot write the truth at the end of the backfill", "err", err)
		}
	}
	if r.o.OnBackfill != nil {
		r.o.OnBackfill(tr)
	}
}

// send delivers events through a pool of senders, pacing live events by
// clock and skipping the ordinals in found.
func (r *runner) send(ctx context.Context, clock func() time.Time, found map[int64]struct{}, maxFound int64) error {
	var snd sender
	switch r.o.Via {
	case "kinesis":
		snd = &kinesisSender{kc: r.kc}
	case "events", "":
		snd = newEventsSender(r.o.Endpoint, r.o.Concurrency)
	default:
		return fmt.Errorf("unknown --via %q: use events or kinesis", r.o.Via)
	}
	// Batches in flight finish even after ctx ends, within a grace period.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(30*time.Second, cancelSend) })
	defer stopGrace()

	pl := newPool(sendCtx, snd, r.st, r.tr, r.o.Concurrency, r.o.Batch)
	tagDone := make(chan struct{})
	tagStop := make(chan struct{})
	go r.storeProgressLoop(sendCtx, tagStop, tagDone)
	rep := newReporter(r, clock)

	open := map[string]*batch{}
	flush := func(olderThan time.Duration) {
		for k, b := range open {
			if len(b.evs) > 0 && time.Since(b.first) >= olderThan {
				pl.dispatch(b)
				delete(open, k)
			}
		}
	}
	buf := make([]byte, 0, 1024)
	backfillDone := false
	var err error
	for !r.done(ctx) {
		if err = pl.failure(); err != nil {
			break
		}
		p, ok := r.g.Peek()
		if !ok {
			break
		}
		if !backfillDone && p.Time >= r.live {
			backfillDone = true
			flush(0)
			pl.drain()
			if err = pl.failure(); err != nil {
				break
			}
			r.backfillEnded()
			r.o.Log.Info("backfill done, going live", "events", r.g.Generated(), "k", r.g.K())
		}
		if wait := time.Duration(p.Time - clock().UnixNano()); wait > 0 {
			flush(liveFlush)
			wait = min(wait, liveFlush)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		buf, _, _ = r.g.Next(buf[:0])
		if p.Ordinal <= maxFound {
			if _, ok := found[p.Ordinal]; ok {
				r.tr.markDone(p.Ordinal)
				r.sum.Skipped++
				continue
			}
		}
		key := ""
		if r.o.Via == "kinesis" {
			key = p.Stream
		}
		b := open[key]
		if b == nil {
			b = pl.get(key)
			open[key] = b
		}
		b.add(buf, p, time.Now())
		r.count(p)
		if len(b.evs) >= r.o.Batch {
			pl.dispatch(b) // b belongs to the pool from here on
			delete(open, key)
		} else if p.Time >= r.live && time.Since(b.first) >= liveFlush {
			flush(liveFlush)
		}
	}
	flush(0)
	if cerr := pl.close(); err == nil {
		err = cerr
	}
	rep.stop()
	close(tagStop)
	<-tagDone
	// The last progress, with a context of its own: ctx may have ended.
	// Clean when every event generated (so every one sent) is
	// acknowledged.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r.prog.Clean = err == nil && r.g.Generated()-1 == r.tr.acked()
	if perr := r.storeProgress(tctx); perr != nil && err == nil {
		err = perr
	}
	if n := r.g.Generated() - 1 - r.tr.acked(); n > 0 {
		r.o.Log.Warn("some events were not acknowledged; the next run sends them again", "events", n)
	}
	return err
}

// storeProgressLoop stores the acknowledged ordinal about once a second.
func (r *runner) storeProgressLoop(ctx context.Context, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if r.tr.acked() != r.prog.Acked {
				if err := r.storeProgress(ctx); err != nil {
					r.o.Log.Warn("cannot store progress", "err", err)
				}
			}
		}
	}
}

func (r *runner) storeProgress(ctx context.Context) error {
	r.prog.Acked = r.tr.acked()
	r.prog.At = time.Now().UnixMilli()
	return writeProgress(ctx, r.kc, r.o.Seed, r.prog)
}
