package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/analytics"
	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/retry"
	"github.com/tenantpulse/tenantpulse/internal/stream"
)

// Options configure the processor.
type Options struct {
	Reader stream.Reader
	// Dir holds the checkpoints, one file per shard: <Dir>/<stream>/<shard>.ckpt.
	Dir string
	// Workers is the number of goroutines applying records; each owns some
	// shards. Default: one per core.
	Workers int
	// CheckpointInterval is how often a shard that moved is checkpointed.
	// Default 5 s. A clean Stop checkpoints every shard.
	CheckpointInterval time.Duration
	// BatchRecords is the most records read per batch. Default 5000.
	BatchRecords int
	// StreamCheck is how often the streams are described to notice one
	// deleted or created again, or created after the start. Default 2 s.
	// A cursor on a deleted stream makes the processor look at once.
	StreamCheck time.Duration
	// State configures each shard's state (lateness, dedupe).
	State  analytics.Options
	Logger *slog.Logger
}

// Service runs the processor and answers queries about its state.
type Service struct {
	opts Options
	log  *slog.Logger

	// mu guards runners: following a deleted or recreated stream changes
	// them while the workers are stopped; queries read them.
	mu      sync.RWMutex
	runners []*runner
	follow  *consumer.Follower

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time
}

// streamNames are the streams the processor reads.
var streamNames = []string{event.StreamCompanies, event.StreamJobs}

// runner is one (stream, shard): its state, behind a lock the queries
// share, and what the worker knows about reading it.
type runner struct {
	mu      sync.RWMutex
	st      *analytics.ShardState
	worker  int
	path    string
	cur     stream.Cursor
	behind  atomic.Int64
	ckAt    atomic.Int64 // wall time of the last checkpoint, Unix ms
	ckPos   atomic.Pointer[string]
	lastCk  time.Time
	applied bool // records applied since the last checkpoint

	// A failing checkpoint (a full disk) is retried after ckWait's
	// growing waits, not on every pass of the worker.
	ckWait  retry.Backoff
	ckRetry time.Time // no attempt before this
	ckFail  retry.Failures
}

// New loads every shard's checkpoint (or starts it empty) and returns the
// service, not yet running. A stream deleted or created again since the
// checkpoints were written is started over (its checkpoints removed); a
// stream that does not exist is read once it is created.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 5 * time.Second
	}
	if opts.BatchRecords <= 0 {
		opts.BatchRecords = 5000
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, log: opts.Logger}
	f, err := consumer.NewFollower(ctx, consumer.Options{Reader: opts.Reader, Dir: opts.Dir, Streams: streamNames,
		Check: opts.StreamCheck, Logger: opts.Logger}, runnerSet{s})
	if err != nil {
		return nil, err
	}
	s.follow = f
	return s, nil
}

// runnerSet is the processor's consumer.Holder: a runner per shard.
type runnerSet struct{ s *Service }

func (h runnerSet) Holds(name string) bool {
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	for _, r := range h.s.runners {
		if r.st.Stream == name {
			return true
		}
	}
	return false
}

// Drop forgets the stream's runners: its part of the tenants' state goes.
func (h runnerSet) Drop(ctx context.Context, name string) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	kept := h.s.runners[:0:0]
	for _, r := range h.s.runners {
		if r.st.Stream != name {
			kept = append(kept, r)
		} else if r.cur != nil {
			r.cur.Close()
		}
	}
	h.s.runners = kept
	h.s.assign()
}

func (h runnerSet) Open(ctx context.Context, name string, shards []string) error {
	var rs []*runner
	for _, id := range shards {
		r, err := h.s.load(name, id)
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.runners = append(h.s.runners, rs...)
	h.s.assign()
	return nil
}

// load restores a shard from its checkpoint, if it has one.
func (s *Service) load(streamName, shard string) (*runner, error) {
	dir := filepath.Join(s.opts.Dir, streamName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the checkpoint directory: %w", err)
	}
	fsutil.RemoveTemps(dir)
	r := &runner{path: filepath.Join(dir, shard+".ckpt")}
	b, err := os.ReadFile(r.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		st, err := analytics.NewShardState(streamName, shard, s.opts.State)
		if err != nil {
			return nil, err
		}
		r.st = st
	case err != nil:
		return nil, fmt.Errorf("cannot read checkpoint %s: %w", r.path, err)
	default:
		st, err := analytics.RestoreShardState(b, s.opts.State)
		if err != nil {
			return nil, fmt.Errorf("checkpoint %s: %w; move it away to rebuild the shard's state from the stream", r.path, err)
		}
		if st.Stream != streamName || st.Shard != shard {
			return nil, fmt.Errorf("checkpoint %s holds %s/%s", r.path, st.Stream, st.Shard)
		}
		r.st = st
		r.ckAt.Store(time.Now().UnixMilli())
		s.log.Info("checkpoint loaded", "stream", streamName, "shard", shard, "position", st.Position, "tenants", st.Tenants())
	}
	pos := r.st.Position
	r.ckPos.Store(&pos)
	r.lastCk = time.Now()
	return r, nil
}

// assign spreads the runners over the workers. s.mu is held for writing.
func (s *Service) assign() {
	for i, r := range s.runners {
		r.worker = i % s.opts.Workers
	}
}

// Start runs the workers until Stop.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.started = time.Now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.follow.Run(ctx, runnerSet{s}, s.startWorkers)
	}()
}

// startWorkers starts the workers on the runners and returns a function
// that waits for them to end.
func (s *Service) startWorkers(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	s.mu.RLock()
	defer s.mu.RUnlock()
	for w := range s.opts.Workers {
		var mine []*runner
		for _, r := range s.runners {
			if r.worker == w {
				mine = append(mine, r)
			}
		}
		if len(mine) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx, mine)
		}()
	}
	return wg.Wait
}

// Stop stops the workers after their current batch and checkpoints every
// shard.
func (s *Service) Stop() error {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var first error
	for _, r := range s.runners {
		if r.cur != nil {
			r.cur.Close()
		}
		if err := s.checkpoint(r); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// idleWait is how long a worker whose shards are all caught up waits for
// new records before polling them again.
const idleWait = 5 * time.Millisecond

func (s *Service) work(ctx context.Context, mine []*runner) {
	for ctx.Err() == nil {
		busy := false
		for _, r := range mine {
			n, err := s.step(ctx, r)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				if s.follow.Gone(r.st.Stream, err) {
					// The stream was deleted or created again: the
					// follower stops the workers and follows it.
					if r.cur != nil {
						r.cur.Close()
						r.cur = nil
					}
					sleep(ctx, time.Second)
					continue
				}
				s.log.Warn("cannot read the stream; retrying", "stream", r.st.Stream, "shard", r.st.Shard, "error", err)
				if r.cur != nil {
					r.cur.Close()
					r.cur = nil
				}
				sleep(ctx, time.Second)
				continue
			}
			busy = busy || n > 0
			if now := time.Now(); r.applied && now.Sub(r.lastCk) >= s.opts.CheckpointInterval && !now.Before(r.ckRetry) {
				if err := s.checkpoint(r); err != nil {
					wait := r.ckWait.Next()
					r.ckRetry = now.Add(wait)
					s.log.Error("cannot checkpoint; records are still applied, and the checkpoint is retried", "path", r.path,
						"retry_in", wait, "failing_since", r.ckFail.State().Since.UTC().Format(time.RFC3339), "error", err)
				}
			}
		}
		if !busy {
			sleep(ctx, idleWait)
		}
	}
}

// step reads and applies one batch of r's shard.
func (s *Service) step(ctx context.Context, r *runner) (int, error) {
	if r.cur == nil {
		c, err := s.opts.Reader.Open(ctx, r.st.Stream, r.st.Shard, r.st.Position)
		if err != nil {
			return 0, err
		}
		r.cur = c
	}
	b, err := r.cur.Next(ctx, s.opts.BatchRecords, 0)
	if err != nil {
		return 0, err
	}
	r.behind.Store(b.MillisBehind)
	if b.Trimmed {
		s.log.Warn("records were deleted by retention before the processor read them", "stream", r.st.Stream, "shard", r.st.Shard, "after", r.st.Position)
	}
	if len(b.Records) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	for i := range b.Records {
		rec := &b.Records[i]
		r.st.Apply(rec.Data, rec.Arrival, rec.Seq)
	}
	r.st.Position = strings.Clone(b.Records[len(b.Records)-1].Seq)
	r.mu.Unlock()
	r.applied = true
	return len(b.Records), nil
}

// checkpoint saves r's state with its position: encoded under the read
// lock, written with fsutil.WriteAtomic (temp file, fsync, rename, fsync
// of the directory).
func (s *Service) checkpoint(r *runner) error {
	r.mu.RLock()
	b := r.st.Checkpoint()
	pos := r.st.Position
	r.mu.RUnlock()
	if err := fsutil.WriteAtomic(r.path, b); err != nil {
		err = fmt.Errorf("cannot write checkpoint %s: %w", r.path, err)
		r.ckFail.Fail(time.Now(), err)
		return err
	}
	r.ckFail.OK()
	r.ckWait.Reset()
	r.ckRetry = time.Time{}
	r.ckPos.Store(&pos)
	r.ckAt.Store(time.Now().UnixMilli())
	r.lastCk = time.Now()
	r.applied = false
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// CheckpointFailures reports the checkpoints that failed (all shards
// together) and, while the latest attempt of some shard failed, since
// when and why.
func (s *Service) CheckpointFailures() retry.State {
	states := make([]retry.State, len(s.runners))
	for i, r := range s.runners {
		states[i] = r.ckFail.State()
	}
	return retry.Merge(states...)
}

// Tenants implements Source.
func (s *Service) Tenants(asOf time.Time) []analytics.Tenant {
	m := make(map[string]*analytics.Tenant)
	s.mu.RLock()
	for _, r := range s.runners {
		r.mu.RLock()
		r.st.FillTenants(m, asOf)
		r.mu.RUnlock()
	}
	s.mu.RUnlock()
	out := make([]analytics.Tenant, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	return out
}

// Tenant implements Source.
func (s *Service) Tenant(id string, asOf, from, to time.Time) (analytics.TenantDetail, bool) {
	if to.Sub(from) > analytics.RingDays*24*time.Hour {
		from = to.Add(-analytics.RingDays * 24 * time.Hour)
	}
	d := analytics.TenantDetail{AsOf: fmtTime(asOf), From: fmtTime(from), To: fmtTime(to),
		Days: analytics.DaySeries(from, to), Hours: analytics.HourSeries(from, to)}
	found := false
	s.mu.RLock()
	for _, r := range s.runners {
		r.mu.RLock()
		found = r.st.FillTenant(id, &d.Tenant, d.Days, d.Hours, asOf) || found
		r.mu.RUnlock()
	}
	s.mu.RUnlock()
	return d, found
}

// Summary implements Source.
func (s *Service) Summary(asOf, from, to time.Time) analytics.Summary {
	if to.Sub(from) > analytics.RingDays*24*time.Hour {
		from = to.Add(-analytics.RingDays * 24 * time.Hour)
	}
	sum := analytics.Summary{AsOf: fmtTime(asOf), Industries: map[string]int64{}, Days: analytics.DaySeries(from, to)}
	for _, t := range s.Tenants(asOf) {
		if t.Deleted != "" {
			sum.TenantsDeleted++
		} else if t.Created != "" {
			sum.Tenants++
			sum.Industries[t.Industry]++
		}
		sum.Users += t.Users
		sum.ActiveUsers30d += t.ActiveUsers30d
		sum.OpenSessions += t.OpenSessions
		sum.RunningJobs += t.RunningJobs
		sum.JobsSubmitted += t.JobsSubmitted
		sum.JobsTerminated += t.JobsTerminated
		sum.JobsCancelled += t.JobsCancelled
		sum.Jobs30d += t.Jobs30d
		sum.Jobs90d += t.Jobs90d
	}
	s.mu.RLock()
	for _, r := range s.runners {
		r.mu.RLock()
		r.st.FillDays(sum.Days)
		r.mu.RUnlock()
	}
	s.mu.RUnlock()
	return sum
}

// Processor implements Source.
func (s *Service) Processor() Status {
	p := Status{Processor: analytics.Processor{Workers: s.opts.Workers, AllowedLateness: s.allowedLateness().String(),
		MaxFuture: s.maxFuture().String()}}
	p.Streams = s.follow.Statuses()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, r := range s.runners {
		var st analytics.ShardStatus
		r.mu.RLock()
		r.st.Status(&st)
		r.mu.RUnlock()
		st.Worker = r.worker
		st.MillisBehindLatest = r.behind.Load()
		if at := r.ckAt.Load(); at != 0 {
			st.LastCheckpoint = fmtTime(time.UnixMilli(at))
		}
		st.CheckpointPosition = *r.ckPos.Load()
		p.Shards = append(p.Shards, st)
	}
	return p
}

func (s *Service) allowedLateness() time.Duration {
	if s.opts.State.AllowedLateness > 0 {
		return s.opts.State.AllowedLateness
	}
	return analytics.DefaultAllowedLateness
}

func (s *Service) maxFuture() time.Duration {
	if s.opts.State.MaxFuture > 0 {
		return s.opts.State.MaxFuture
	}
	return event.DefaultMaxFuture
}

// DeadLetters implements Source.
func (s *Service) DeadLetters(limit int) ([]analytics.DeadLetter, int64) {
	var all []analytics.DeadLetter
	var total int64
	s.mu.RLock()
	for _, r := range s.runners {
		r.mu.RLock()
		all = r.st.DeadLetters(all)
		total += r.st.Counts.DeadLetters()
		r.mu.RUnlock()
	}
	s.mu.RUnlock()
	sort.SliceStable(all, func(i, j int) bool { return all[i].Arrival > all[j].Arrival })
	if len(all) > limit {
		all = all[:limit]
	}
	return all, total
}

func fmtTime(t time.Time) string {
	return string(event.AppendTime(nil, t.UnixNano()))
}
