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

	// mu guards runners and marks: following a deleted or recreated
	// stream swaps them while the workers are stopped; queries read them.
	mu      sync.RWMutex
	runners []*runner
	marks   map[string]*consumer.Mark // by stream: the incarnation read, the resets

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time

	// kicked: streams a worker found gone (false) or whose checkpointed
	// position the stream refused (true); kick wakes the supervisor.
	kickMu sync.Mutex
	kicked map[string]bool
	kick   chan struct{}
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
	if opts.StreamCheck <= 0 {
		opts.StreamCheck = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{opts: opts, log: opts.Logger, marks: map[string]*consumer.Mark{},
		kicked: map[string]bool{}, kick: make(chan struct{}, 1)}
	for _, name := range streamNames {
		dir := filepath.Join(s.opts.Dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the checkpoint directory: %w", err)
		}
		m, err := consumer.ReadMark(dir)
		if err != nil {
			return nil, err
		}
		if m == nil {
			// New, or written before marks: the checkpoints, if any, are
			// taken to be the current stream's (a position that is not
			// in it still starts the stream over: see follow).
			m = &consumer.Mark{Stream: name}
			if d, err := opts.Reader.Describe(ctx, name); err == nil {
				m.Created = d.Created
			}
			if err := m.Write(dir); err != nil {
				return nil, err
			}
		}
		s.marks[name] = m
		if _, err := s.follow(ctx, name, false); err != nil {
			return nil, err
		}
		if m.Created == 0 {
			s.log.Warn("the stream does not exist; analytics will read it once it is created", "stream", name)
		}
	}
	s.assign()
	return s, nil
}

// follow brings the runners of stream name in line with the stream as it
// is now: a stream deleted, or created again (a new Created), drops its
// runners and checkpoints (a reset, counted in its mark and logged); a
// stream that exists and has no runners gets them, read from their
// checkpoints if any. foreign says a worker found the checkpointed
// position not in the stream, which starts it over too. The workers must
// be stopped, and s.mu held for writing (or the service not yet shared).
func (s *Service) follow(ctx context.Context, name string, foreign bool) (bool, error) {
	d, err := s.opts.Reader.Describe(ctx, name)
	var desc *stream.Description
	switch {
	case err == nil:
		desc = &d
	case !errors.Is(err, stream.ErrStreamNotFound):
		return false, fmt.Errorf("cannot describe stream %s: %w", name, err)
	}
	dir := filepath.Join(s.opts.Dir, name)
	m := s.marks[name]
	before := *m
	now := time.Now()
	reset, reason := m.Follow(desc, now)
	if !reset && foreign && desc != nil {
		m.Reset(consumer.ReasonForeign, now)
		reset, reason = true, consumer.ReasonForeign
	}
	had := 0
	if reset {
		kept := s.runners[:0:0]
		for _, r := range s.runners {
			if r.st.Stream != name {
				kept = append(kept, r)
				continue
			}
			had++
			if r.cur != nil {
				r.cur.Close()
			}
		}
		s.runners = kept
		if err := consumer.DropPositions(dir); err != nil {
			return false, err
		}
		s.log.Warn("the stream's analytics state and checkpoints were dropped; its metrics start over from what the stream holds",
			"stream", name, "reason", reason, "shards", had, "resets", m.Resets)
	}
	if *m != before {
		if err := m.Write(dir); err != nil {
			return false, err
		}
	}
	if desc == nil {
		if reset {
			s.log.Warn("the stream does not exist; analytics will read it once it is created", "stream", name)
		}
		return reset, nil
	}
	for _, r := range s.runners {
		if r.st.Stream == name {
			return reset, nil
		}
	}
	for _, id := range desc.Shards {
		r, err := s.load(name, id)
		if err != nil {
			return false, err
		}
		s.runners = append(s.runners, r)
	}
	if reset || before.Created == 0 {
		s.log.Info("reading the stream from its start", "stream", name, "created", fmtTime(time.UnixMilli(desc.Created)), "shards", len(desc.Shards))
	}
	return true, nil
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

// assign spreads the runners over the workers.
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
		s.supervise(ctx)
	}()
}

// supervise runs the workers, and stops them to follow a stream that was
// deleted, created again or created late, then runs them again.
func (s *Service) supervise(ctx context.Context) {
	tick := time.NewTicker(s.opts.StreamCheck)
	defer tick.Stop()
	for {
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		s.mu.RLock()
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
				s.work(wctx, mine)
			}()
		}
		s.mu.RUnlock()
		for {
			select {
			case <-ctx.Done():
			case <-s.kick:
			case <-tick.C:
			}
			if ctx.Err() != nil || s.streamsChanged(ctx) {
				break
			}
		}
		stop()
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		s.kickMu.Lock()
		kicked := s.kicked
		s.kicked = map[string]bool{}
		s.kickMu.Unlock()
		s.mu.Lock()
		for _, name := range streamNames {
			if _, err := s.follow(ctx, name, kicked[name]); err != nil {
				s.log.Error("cannot follow the stream; trying again", "stream", name, "error", err)
			}
		}
		s.assign()
		s.mu.Unlock()
	}
}

// streamsChanged reports whether a worker found a stream gone, or a
// stream is not the incarnation its mark names.
func (s *Service) streamsChanged(ctx context.Context) bool {
	s.kickMu.Lock()
	n := len(s.kicked)
	s.kickMu.Unlock()
	if n > 0 {
		return true
	}
	for _, name := range streamNames {
		d, err := s.opts.Reader.Describe(ctx, name)
		s.mu.RLock()
		created := s.marks[name].Created
		s.mu.RUnlock()
		switch {
		case err == nil && d.Created != created, errors.Is(err, stream.ErrStreamNotFound) && created != 0:
			return true
		case err != nil && !errors.Is(err, stream.ErrStreamNotFound) && ctx.Err() == nil:
			s.log.Warn("cannot describe the stream", "stream", name, "error", err)
		}
	}
	return false
}

// gone tells the supervisor that r's stream is gone or refused r's
// position.
func (s *Service) gone(r *runner, foreign bool) {
	s.kickMu.Lock()
	s.kicked[r.st.Stream] = s.kicked[r.st.Stream] || foreign
	s.kickMu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
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
				if foreign := errors.Is(err, stream.ErrBadSequence); foreign || errors.Is(err, stream.ErrStreamNotFound) || errors.Is(err, stream.ErrShardNotFound) {
					// The stream was deleted or created again: the
					// supervisor stops the workers and follows it.
					if r.cur != nil {
						r.cur.Close()
						r.cur = nil
					}
					s.gone(r, foreign)
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
			if r.applied && time.Since(r.lastCk) >= s.opts.CheckpointInterval {
				if err := s.checkpoint(r); err != nil {
					s.log.Error("cannot checkpoint", "path", r.path, "error", err)
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
		return fmt.Errorf("cannot write checkpoint %s: %w", r.path, err)
	}
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
	p := Status{Processor: analytics.Processor{Workers: s.opts.Workers, AllowedLateness: s.allowedLateness().String()}}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, name := range streamNames {
		p.Streams = append(p.Streams, s.marks[name].Status())
	}
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

// DeadLetters implements Source.
func (s *Service) DeadLetters(limit int) ([]analytics.DeadLetter, int64) {
	var all []analytics.DeadLetter
	var total int64
	s.mu.RLock()
	for _, r := range s.runners {
		r.mu.RLock()
		all = r.st.DeadLetters(all)
		total += r.st.Counts.TooLate + r.st.Counts.Invalid
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
