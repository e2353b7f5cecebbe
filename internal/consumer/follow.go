package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/stream"
)

// Holder is the consumer's side of following its streams: what it holds
// of each stream (cursors, positions, state), which Follower drops and
// opens. Follower calls it with the consumer's workers stopped.
type Holder interface {
	// Holds reports whether the consumer holds any shard of stream.
	Holds(stream string) bool
	// Drop lets go of everything held of stream: cursors, state, buffers
	// (storing what must be stored first). Its checkpoints are removed
	// afterwards.
	Drop(ctx context.Context, stream string)
	// Open starts holding the stream's shards, each from its checkpoint
	// if it has one.
	Open(ctx context.Context, stream string, shards []string) error
}

// Options configure a Follower.
type Options struct {
	Reader stream.Reader
	// Dir holds one directory per stream, <Dir>/<stream>/, with the mark
	// and the consumer's checkpoints (*.ckpt).
	Dir     string
	Streams []string
	// Check is how often the streams are described while the workers run.
	// Default 2 s.
	Check  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Follower keeps a consumer in step with the streams it reads: each
// stream's mark, the reports of workers that found their stream gone, and
// the loop that stops the workers to drop a deleted or recreated stream
// and open the new one.
type Follower struct {
	opts Options

	mu    sync.RWMutex // guards marks' contents
	marks map[string]*Mark

	kickMu sync.Mutex
	kicked map[string]bool // stream -> a position was refused (else: gone)
	retry  map[string]bool // streams that exist but could not be opened
	kick   chan struct{}
}

// NewFollower reads (or starts) each stream's mark and brings h in line
// with the streams as they are: a stream deleted or created again since
// the marks were written is dropped, every stream that exists is opened.
func NewFollower(ctx context.Context, opts Options, h Holder) (*Follower, error) {
	if opts.Check <= 0 {
		opts.Check = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &Follower{opts: opts, marks: map[string]*Mark{}, kicked: map[string]bool{}, retry: map[string]bool{}, kick: make(chan struct{}, 1)}
	for _, name := range opts.Streams {
		dir := filepath.Join(opts.Dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the checkpoint directory: %w", err)
		}
		m, err := ReadMark(dir)
		if err != nil {
			return nil, err
		}
		if m == nil {
			// New, or written before marks: the checkpoints, if any, are
			// taken to be the current stream's (a position the stream
			// refuses still starts it over: see Gone).
			m = &Mark{Stream: name}
			if d, err := opts.Reader.Describe(ctx, name); err == nil {
				m.Created = d.Created
			}
			if err := m.Write(dir); err != nil {
				return nil, err
			}
		}
		f.marks[name] = m
		if err := f.follow(ctx, h, name, false); err != nil {
			return nil, err
		}
		if m.Created == 0 {
			f.opts.Logger.Warn("the stream does not exist; it will be read once it is created", "stream", name)
		}
	}
	return f, nil
}

// Gone reports whether err, from opening or reading a cursor of stream,
// means the stream was deleted or created again, and if so tells Run,
// which then stops the workers and follows the stream. The worker should
// close its cursor and wait (Run cancels its context soon).
func (f *Follower) Gone(name string, err error) bool {
	foreign := errors.Is(err, stream.ErrBadSequence)
	if !foreign && !errors.Is(err, stream.ErrStreamNotFound) && !errors.Is(err, stream.ErrShardNotFound) {
		return false
	}
	f.kickMu.Lock()
	f.kicked[name] = f.kicked[name] || foreign
	f.kickMu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return true
}

// Run runs the workers with start (which returns a function that waits
// for them to end once their context is cancelled) until ctx is done, and
// between two runs follows the streams that changed.
func (f *Follower) Run(ctx context.Context, h Holder, start func(ctx context.Context) (wait func())) {
	tick := time.NewTicker(f.opts.Check)
	defer tick.Stop()
	for {
		wctx, stop := context.WithCancel(ctx)
		wait := start(wctx)
		for {
			select {
			case <-ctx.Done():
			case <-f.kick:
			case <-tick.C:
			}
			if ctx.Err() != nil || f.changed(ctx) {
				break
			}
		}
		stop()
		wait()
		if ctx.Err() != nil {
			return
		}
		f.kickMu.Lock()
		kicked := f.kicked
		f.kicked = map[string]bool{}
		f.kickMu.Unlock()
		for _, name := range f.opts.Streams {
			if err := f.follow(ctx, h, name, kicked[name]); err != nil {
				f.opts.Logger.Error("cannot follow the stream; trying again", "stream", name, "error", err)
			}
		}
	}
}

// changed reports whether a worker found a stream gone, or a stream is
// not the incarnation its mark names.
func (f *Follower) changed(ctx context.Context) bool {
	f.kickMu.Lock()
	n := len(f.kicked) + len(f.retry)
	f.kickMu.Unlock()
	if n > 0 {
		return true
	}
	for _, name := range f.opts.Streams {
		d, err := f.opts.Reader.Describe(ctx, name)
		f.mu.RLock()
		created := f.marks[name].Created
		f.mu.RUnlock()
		switch {
		case err == nil && d.Created != created, errors.Is(err, stream.ErrStreamNotFound) && created != 0:
			return true
		case err != nil && !errors.Is(err, stream.ErrStreamNotFound) && ctx.Err() == nil:
			f.opts.Logger.Warn("cannot describe the stream", "stream", name, "error", err)
		}
	}
	return false
}

// follow brings what h holds of stream name in line with the stream as it
// is now: a stream deleted, or created again (a new Created), is dropped
// with its checkpoints (a reset, counted in its mark and logged); a stream
// that exists and is not held is opened. foreign says a worker found the
// checkpointed position not in the stream, which drops it too.
func (f *Follower) follow(ctx context.Context, h Holder, name string, foreign bool) error {
	d, err := f.opts.Reader.Describe(ctx, name)
	var desc *stream.Description
	switch {
	case err == nil:
		desc = &d
	case !errors.Is(err, stream.ErrStreamNotFound):
		return fmt.Errorf("cannot describe stream %s: %w", name, err)
	}
	dir := filepath.Join(f.opts.Dir, name)
	f.mu.RLock()
	m := *f.marks[name]
	f.mu.RUnlock()
	before := m
	now := f.opts.Now()
	reset, reason := m.Follow(desc, now)
	if !reset && foreign && desc != nil {
		m.Reset(ReasonForeign, now)
		reset, reason = true, ReasonForeign
	}
	if reset {
		h.Drop(ctx, name)
		if err := DropPositions(dir); err != nil {
			return err
		}
		f.opts.Logger.Warn("dropped what was read of the stream and its checkpoints; the stream is read again from its start once it exists",
			"stream", name, "reason", reason, "resets", m.Resets)
	}
	if m != before {
		if err := m.Write(dir); err != nil {
			return err
		}
		f.mu.Lock()
		*f.marks[name] = m
		f.mu.Unlock()
	}
	if desc == nil {
		if reset {
			f.opts.Logger.Warn("the stream does not exist; it will be read once it is created", "stream", name)
		}
		return nil
	}
	if h.Holds(name) {
		return nil
	}
	err = h.Open(ctx, name, desc.Shards)
	f.kickMu.Lock()
	if err != nil {
		f.retry[name] = true
	} else {
		delete(f.retry, name)
	}
	f.kickMu.Unlock()
	if err != nil {
		return err
	}
	if reset || before.Created == 0 {
		f.opts.Logger.Info("reading the stream from its start", "stream", name,
			"created", fmtMillis(desc.Created), "shards", len(desc.Shards))
	}
	return nil
}

// Statuses returns every stream's Status, in Options.Streams order.
func (f *Follower) Statuses() []Status {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Status, 0, len(f.opts.Streams))
	for _, name := range f.opts.Streams {
		out = append(out, f.marks[name].Status())
	}
	return out
}
