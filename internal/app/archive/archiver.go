package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tenantpulse/tenantpulse/internal/archive/parquetfile"
	"github.com/tenantpulse/tenantpulse/internal/consumer"
	"github.com/tenantpulse/tenantpulse/internal/event"
	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/objstore"
	"github.com/tenantpulse/tenantpulse/internal/retry"
	"github.com/tenantpulse/tenantpulse/internal/stream"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// Options configure the archiver.
type Options struct {
	Reader stream.Reader
	Store  objstore.Store
	Layout objstore.Layout
	// Dir holds the checkpoints: <Dir>/<stream>/<shard>.ckpt.
	Dir string
	// FileBytes and FileAge close a file: at this much buffered record
	// data, or this long after its first record was buffered. Defaults
	// 5 MiB and 300 s, as Firehose's buffering hints.
	FileBytes int64
	FileAge   time.Duration
	// MaxBufferedBytes bounds the memory one shard's buffers hold across
	// all its open partitions (records, their rows and sequence numbers);
	// past it the oldest are closed. Default 64 MiB.
	MaxBufferedBytes int64
	// StreamCheck is how often the streams are described to notice one
	// deleted or created again, or created after the start. Default 2 s.
	// A cursor on a deleted stream makes the archiver look at once.
	StreamCheck time.Duration
	Logger      *slog.Logger
	Now         func() time.Time
	// FS is the file system of the checkpoints; nil is the operating
	// system's (tests lose power with a vfstest.FS).
	FS vfs.FS

	// crashAt, in tests, makes a shard stop dead at a step of storing a
	// file, as if the process were killed there.
	crashAt func(step string) bool
}

// errCrash is the simulated crash of Options.crashAt.
var errCrash = errors.New("simulated crash")

func (o *Options) withDefaults() {
	if o.FileBytes <= 0 {
		o.FileBytes = 5 << 20
	}
	if o.FileAge <= 0 {
		o.FileAge = 300 * time.Second
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 64 << 20
	}
	if o.StreamCheck <= 0 {
		o.StreamCheck = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.FS = vfs.Or(o.FS)
}

// Service archives the streams.
type Service struct {
	opts Options
	log  *slog.Logger

	// mu guards shards: following a deleted or recreated stream changes
	// them while the shard goroutines are stopped.
	mu     sync.RWMutex
	shards []*shardArchiver
	follow *consumer.Follower

	cancel context.CancelFunc
	wg     sync.WaitGroup
	stats  Stats
	snap   *Snapshotter
}

// streamNames are the streams archived.
var streamNames = []string{event.StreamCompanies, event.StreamJobs}

// Stats count what the archiver did.
type Stats struct {
	Records     atomic.Int64 // records read
	Skipped     atomic.Int64 // records already stored, skipped on replay
	Events      atomic.Int64 // events stored
	Errors      atomic.Int64 // records stored in the errors bucket
	Files       atomic.Int64 // files stored
	FileBytes   atomic.Int64 // bytes of the files stored
	RecordBytes atomic.Int64 // bytes of the records in them
}

// New loads every shard's checkpoint, settles a file that was being stored
// when the last run stopped, and returns the service, not yet running. A
// stream deleted or created again since the checkpoints were written is
// archived again from its start (its checkpoints removed; what is in the
// buckets stays); a stream that does not exist is archived once it is
// created.
func New(ctx context.Context, opts Options) (*Service, error) {
	opts.withDefaults()
	if err := opts.Layout.Validate(); err != nil {
		return nil, err
	}
	s := &Service{opts: opts, log: opts.Logger}
	f, err := consumer.NewFollower(ctx, consumer.Options{Reader: opts.Reader, Dir: opts.Dir, Streams: streamNames,
		Check: opts.StreamCheck, Logger: opts.Logger, Now: opts.Now}, shardSet{s})
	if err != nil {
		return nil, err
	}
	s.follow = f
	return s, nil
}

// shardSet is the archiver's consumer.Holder: a shardArchiver per shard.
type shardSet struct{ s *Service }

func (h shardSet) Holds(name string) bool {
	h.s.mu.RLock()
	defer h.s.mu.RUnlock()
	for _, a := range h.s.shards {
		if a.stream == name {
			return true
		}
	}
	return false
}

// Drop stores what the stream's shards buffered (it was read, so it is
// archived), then forgets them.
func (h shardSet) Drop(ctx context.Context, name string) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	kept := h.s.shards[:0:0]
	for _, a := range h.s.shards {
		if a.stream != name {
			kept = append(kept, a)
			continue
		}
		if !a.crashed.Load() {
			if err := a.flushAll(ctx); err != nil {
				h.s.log.Warn("cannot store what was buffered of the deleted stream", "stream", name, "shard", a.shard, "error", err)
			}
		}
		if a.cur != nil {
			a.cur.Close()
		}
	}
	h.s.shards = kept
}

func (h shardSet) Open(ctx context.Context, name string, shards []string) error {
	var as []*shardArchiver
	for _, id := range shards {
		a, err := h.s.openShard(ctx, name, id)
		if err != nil {
			return err
		}
		as = append(as, a)
	}
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.shards = append(h.s.shards, as...)
	return nil
}

// Failures reports the failed attempts to archive (all shards together:
// reading, storing files, checkpoints) and, while some shard's latest
// attempt failed, since when and why.
func (s *Service) Failures() retry.State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	states := make([]retry.State, len(s.shards))
	for i, a := range s.shards {
		states[i] = a.fail.State()
	}
	return retry.Merge(states...)
}

// Stats returns the archiver's counters.
func (s *Service) Stats() *Stats { return &s.stats }

func (s *Service) openShard(ctx context.Context, streamName, shard string) (*shardArchiver, error) {
	dir := filepath.Join(s.opts.Dir, streamName)
	if err := fsutil.MkdirAllFS(s.opts.FS, dir); err != nil {
		return nil, fmt.Errorf("cannot create the archive checkpoint directory: %w", err)
	}
	fsutil.RemoveTempsFS(s.opts.FS, dir)
	a := &shardArchiver{s: s, stream: streamName, shard: shard, path: filepath.Join(dir, shard+".ckpt"),
		bufs: map[string]*buffer{}, locs: map[string]*tenantLoc{}, buckets: map[string]bool{}}
	ck, err := readCheckpoint(s.opts.FS, a.path)
	if err != nil {
		return nil, fmt.Errorf("%w; move it away to archive the shard again from the stream", err)
	}
	if ck == nil {
		ck = &checkpoint{Stream: streamName, Shard: shard}
	}
	if ck.Stored == nil {
		ck.Stored = map[string]string{}
	}
	a.ck = ck
	a.read = ck.Position
	pos := ck.Position
	a.readPos.Store(&pos)
	if err := a.settle(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

// settle counts the files that were being stored when the checkpoint was
// written as stored if they are there (a file is stored whole or not at
// all), and clears them from the checkpoint.
func (a *shardArchiver) settle(ctx context.Context) error {
	if len(a.ck.Pending) == 0 {
		return nil
	}
	for _, p := range a.ck.Pending {
		objs, err := a.s.opts.Store.List(ctx, p.Bucket, p.Key)
		if err != nil {
			return fmt.Errorf("cannot check whether %s/%s was stored: %w", p.Bucket, p.Key, err)
		}
		if len(objs) > 0 && objs[0].Key == p.Key {
			if old, ok := a.ck.Stored[p.Partition]; !ok || seqLess(old, p.Last) {
				a.ck.Stored[p.Partition] = p.Last
			}
		}
	}
	a.ck.Pending = nil
	return writeCheckpoint(a.s.opts.FS, a.path, a.ck)
}

// recover puts the shard back as a restart would after a failed store:
// settle the files in flight, forget the buffers, read again after the
// checkpoint's position (what is stored is skipped).
func (a *shardArchiver) recover(ctx context.Context) error {
	if err := a.settle(ctx); err != nil {
		return err
	}
	clear(a.bufs)
	clear(a.locs)
	a.errLoc.days = nil
	a.mem = 0
	a.read = a.ck.Position
	if a.cur != nil {
		a.cur.Close()
		a.cur = nil
	}
	return nil
}

// Start runs one goroutine per shard until Stop.
func (s *Service) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.follow.Run(ctx, shardSet{s}, s.startShards)
	}()
}

// startShards starts a goroutine per shard and returns a function that
// waits for them to end.
func (s *Service) startShards(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.shards {
		if a.crashed.Load() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.run(ctx)
		}()
	}
	return wg.Wait
}

// Stop stops reading, then stores every open file and checkpoints, so a
// clean stop leaves nothing buffered.
func (s *Service) Stop() error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.snap != nil {
		s.snap.shutdown()
	}
	s.wg.Wait()
	s.mu.RLock()
	defer s.mu.RUnlock()
	errs := make([]error, len(s.shards))
	var wg sync.WaitGroup
	for i, a := range s.shards {
		if a.crashed.Load() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.flushAll(context.Background())
		}()
	}
	wg.Wait()
	for _, a := range s.shards {
		if a.cur != nil {
			a.cur.Close()
		}
	}
	for _, err := range errs {
		if errors.Is(err, errCrash) {
			// A simulated crash while stopping: the process is gone.
			for _, b := range s.shards {
				b.crashed.Store(true)
			}
			return nil
		}
	}
	return errors.Join(errs...)
}

// shardArchiver archives one shard. Only its goroutine touches it (and
// Stop, after the goroutine ended).
type shardArchiver struct {
	s       *Service
	stream  string
	shard   string
	path    string
	ck      *checkpoint
	cur     stream.Cursor
	read    string             // sequence number of the last record read
	bufs    map[string]*buffer // by partition
	locs    map[string]*tenantLoc
	errLoc  tenantLoc
	mem     int64 // memory held by bufs
	buckets map[string]bool
	dec     event.Decoder
	ev      event.Event
	enc     []*encoder // one per encoding goroutine, reused
	lastCk  time.Time
	crashed atomic.Bool
	readPos atomic.Pointer[string] // read, for other goroutines

	fail     retry.Failures // steps that failed; read by Failures
	wrote    bool           // the last step stored files or a checkpoint
	flushNow bool           // after a failure: store what is buffered at the next step
}

// buffer is one partition's records waiting to become a file.
type buffer struct {
	partition string // tenant|stream|date, or errors|stream|date
	bucket    string
	key       string // the file's key without the sequence range
	errors    bool
	after     string // the sequence number read before this buffer's first record
	opened    time.Time
	bytes     int64                   // of the records buffered
	mem       int64                   // memory held
	data      []byte                  // errors: the records, one after another
	recs      []bufRec                // errors: where each record is
	batch     *parquetfile.EventBatch // events: the rows
	first     string                  // sequence numbers of the first and last record
	last      string                  // (errors only; an events buffer's is in its batch)
	loc       *tenantLoc              // whose days map holds it
	day       int64
}

type bufRec struct {
	off, n  int
	seq     string
	arrival int64
	errMsg  string
}

func (a *shardArchiver) run(ctx context.Context) {
	// A failure (a full disk, an unreachable S3) is retried after growing
	// waits, one log line each; the retry stores what it buffers at once,
	// so a success (which clears the failure) is seen without waiting for
	// a file's age.
	var wait retry.Backoff
	for ctx.Err() == nil {
		err := a.step(ctx)
		if err == nil {
			// Stored something, or has nothing to store: not failing.
			if a.wrote || (len(a.bufs) == 0 && a.read == a.ck.Position) {
				a.wrote, a.flushNow = false, false
				a.fail.OK()
				wait.Reset()
			}
			continue
		}
		if errors.Is(err, errCrash) {
			a.crashed.Store(true)
			return
		}
		if ctx.Err() != nil {
			return
		}
		if a.s.follow.Gone(a.stream, err) {
			// The stream was deleted or created again: the follower
			// stops the shards and follows it.
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			continue
		}
		a.fail.Fail(time.Now(), err)
		d := wait.Next()
		attrs := []any{"stream", a.stream, "shard", a.shard, "retry_in", d,
			"failing_since", a.fail.State().Since.UTC().Format(time.RFC3339), "error", err}
		if rerr := a.recover(ctx); rerr != nil {
			attrs = append(attrs, "recover_error", rerr)
		}
		a.s.log.Warn("archiving failed; retrying", attrs...)
		a.flushNow = true
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

func (a *shardArchiver) step(ctx context.Context) error {
	if a.cur == nil {
		c, err := a.s.opts.Reader.Open(ctx, a.stream, a.shard, a.read)
		if err != nil {
			return err
		}
		a.cur = c
	}
	b, err := a.cur.Next(ctx, 5000, 50*time.Millisecond)
	if err != nil {
		return err
	}
	now := a.s.opts.Now()
	for i := range b.Records {
		a.add(&b.Records[i], now)
	}
	a.s.stats.Records.Add(int64(len(b.Records)))
	if len(b.Records) > 0 {
		a.read = strings.Clone(b.Records[len(b.Records)-1].Seq)
		pos := a.read
		a.readPos.Store(&pos)
	}
	due := a.due(now)
	if a.flushNow {
		due = a.sortedBufs()
	}
	if err := a.flush(ctx, due); err != nil {
		return err
	}
	if len(a.bufs) == 0 && a.read != a.ck.Position && (a.flushNow || now.Sub(a.lastCk) >= time.Second) {
		// Nothing buffered: everything read is stored.
		a.ck.Position = a.read
		a.prune()
		if err := writeCheckpoint(a.s.opts.FS, a.path, a.ck); err != nil {
			return err
		}
		a.lastCk = now
		a.wrote = true
	}
	return nil
}

// add buffers one record in its partition, unless it is already stored.
func (a *shardArchiver) add(r *stream.Record, now time.Time) {
	var errMsg string
	isErr := false
	if _, err := a.dec.Decode(r.Data, &a.ev); err != nil {
		isErr, errMsg = true, err.Error()
	} else if a.ev.Type.Stream() != a.stream {
		isErr, errMsg = true, fmt.Sprintf("a %s event belongs in stream %s, not %s", a.ev.Type, a.ev.Type.Stream(), a.stream)
	}
	// Find the open buffer of the record's partition without building the
	// partition's name (which needs the date and the tenant's bucket):
	// by tenant, then UTC day.
	var loc *tenantLoc
	var day int64
	if isErr {
		loc, day = &a.errLoc, floorDay(r.Arrival*1e6)
	} else {
		day = floorDay(a.ev.Time)
		if loc = a.locs[string(a.ev.TenantID)]; loc == nil {
			tenant := string(a.ev.TenantID)
			b, prefix := a.s.opts.Layout.Tenant(tenant)
			loc = &tenantLoc{tenant: tenant, bucket: b, prefix: prefix}
			a.locs[tenant] = loc
		}
	}
	buf := loc.days[day]
	if buf == nil {
		date := time.Unix(day*86400, 0).UTC().Format(time.DateOnly)
		var part, bucket, key string
		if isErr {
			part = "errors|" + a.stream + "|" + date
			b, prefix := a.s.opts.Layout.Errors()
			bucket, key = b, prefix+"errors/stream="+a.stream+"/dt="+date+"/"
		} else {
			part = loc.tenant + "|" + a.stream + "|" + date
			bucket, key = loc.bucket, loc.prefix+"events/stream="+a.stream+"/dt="+date+"/"
		}
		if a.skip(part, r.Seq) {
			return
		}
		buf = &buffer{partition: part, bucket: bucket, key: key, errors: isErr, after: a.read, opened: now, loc: loc, day: day}
		if !isErr {
			buf.batch = parquetfile.NewEventBatch(a.stream, a.shard)
		}
		a.bufs[part] = buf
		if loc.days == nil {
			loc.days = map[int64]*buffer{}
		}
		loc.days[day] = buf
	} else if a.skip(buf.partition, r.Seq) {
		return
	}
	if buf.first == "" {
		buf.first = strings.Clone(r.Seq)
	}
	if isErr {
		off := len(buf.data)
		buf.data = append(buf.data, r.Data...)
		seq := strings.Clone(r.Seq)
		buf.recs = append(buf.recs, bufRec{off: off, n: len(r.Data), seq: seq, arrival: r.Arrival, errMsg: errMsg})
		buf.last = seq
	} else {
		// The row is kept now, from the event decoded above, so the file
		// is encoded without decoding the records again.
		buf.batch.Add(&a.ev, r.Seq, r.Arrival)
	}
	buf.bytes += int64(len(r.Data))
	old := buf.mem
	if buf.batch != nil {
		buf.mem = buf.batch.Bytes()
	} else {
		buf.mem += int64(len(r.Data)+len(r.Seq)+len(errMsg)) + int64(unsafe.Sizeof(bufRec{}))
	}
	a.mem += buf.mem - old
}

func (b *buffer) size() int64 { return b.bytes }

// skip reports whether the record seq of partition is stored already (and
// counts it).
func (a *shardArchiver) skip(partition, seq string) bool {
	if len(a.ck.Stored) == 0 {
		return false
	}
	if stored, ok := a.ck.Stored[partition]; ok && !seqLess(stored, seq) {
		a.s.stats.Skipped.Add(1)
		return true
	}
	return false
}

// tenantLoc is where a tenant's files go, and its open buffers by day.
type tenantLoc struct {
	tenant, bucket, prefix string
	days                   map[int64]*buffer
}

// floorDay is the UTC day number of a Unix time in ns.
func floorDay(ns int64) int64 {
	d := ns / (86400 * 1e9)
	if ns < 0 && ns%(86400*1e9) != 0 {
		d--
	}
	return d
}

func (b *buffer) count() int {
	if b.batch != nil {
		return b.batch.Len()
	}
	return len(b.recs)
}

// lastSeq returns the sequence number of the last record buffered.
func (b *buffer) lastSeq() string {
	if b.batch != nil {
		return b.batch.Seq(b.batch.Len() - 1)
	}
	return b.last
}

func (a *shardArchiver) sortedBufs() []*buffer {
	out := make([]*buffer, 0, len(a.bufs))
	for _, b := range a.bufs {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].opened.Before(out[j].opened) || (out[i].opened.Equal(out[j].opened) && out[i].partition < out[j].partition)
	})
	return out
}

// due returns the buffers to store now: those at their size or age, and,
// when the shard buffers more than MaxBufferedBytes, the oldest until it
// is under half of that.
func (a *shardArchiver) due(now time.Time) []*buffer {
	var out []*buffer
	for _, b := range a.bufs {
		if b.size() >= a.s.opts.FileBytes || now.Sub(b.opened) >= a.s.opts.FileAge {
			out = append(out, b)
		}
	}
	if a.mem <= a.s.opts.MaxBufferedBytes {
		return out
	}
	// Over budget: the oldest too, until under half of it. Only then are
	// the buffers sorted.
	left := a.mem
	for _, b := range out {
		left -= b.mem
	}
	for _, b := range a.sortedBufs() {
		if left <= a.s.opts.MaxBufferedBytes/2 {
			break
		}
		if b.size() < a.s.opts.FileBytes && now.Sub(b.opened) < a.s.opts.FileAge {
			out = append(out, b)
			left -= b.mem
		}
	}
	return out
}

// flush stores bufs, one file each, with two checkpoints around them: the
// first names the files as pending, the second counts them stored and
// moves the position. A crash in between is settled at the next start.
func (a *shardArchiver) flush(ctx context.Context, bufs []*buffer) error {
	if len(bufs) == 0 {
		return nil
	}
	type file struct {
		buf  *buffer
		key  string
		last string
		size int64
	}
	files := make([]file, len(bufs))
	a.ck.Pending = a.ck.Pending[:0]
	for i, buf := range bufs {
		first, last := buf.first, buf.lastSeq()
		files[i] = file{buf: buf, key: buf.key + a.shard + "-" + first + "-" + last + ".parquet", last: last}
		if !a.buckets[buf.bucket] {
			if err := a.s.opts.Store.CreateBucket(ctx, buf.bucket); err != nil {
				return fmt.Errorf("cannot create bucket %s: %w", buf.bucket, err)
			}
			a.buckets[buf.bucket] = true
		}
		a.ck.Pending = append(a.ck.Pending, pendingFile{Bucket: buf.bucket, Key: files[i].key, Partition: buf.partition, Last: last})
	}
	if err := writeCheckpoint(a.s.opts.FS, a.path, a.ck); err != nil {
		return err
	}
	if a.crash("pending") {
		return errCrash
	}
	// Encode on every core, then store the files together (the local
	// store makes them durable at once).
	for len(a.enc) < runtime.GOMAXPROCS(0) {
		a.enc = append(a.enc, &encoder{})
	}
	errs := make([]error, len(files))
	objs := make([]objstore.PutObject, len(files))
	next := make(chan int, len(files))
	for i := range files {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for _, x := range a.enc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f := &files[i]
				body, err := a.encode(f.buf, x)
				if err != nil {
					errs[i] = fmt.Errorf("cannot encode %s: %w", f.buf.partition, err)
					continue
				}
				f.size = int64(len(body))
				objs[i] = objstore.PutObject{Bucket: f.buf.bucket, Key: f.key, Body: body}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := objstore.PutMany(ctx, a.s.opts.Store, objs, 8); err != nil {
		return fmt.Errorf("cannot store the files of %s/%s: %w", a.stream, a.shard, err)
	}
	if a.crash("stored") {
		return errCrash
	}
	st := &a.s.stats
	for _, f := range files {
		a.ck.Stored[f.buf.partition] = f.last
		delete(a.bufs, f.buf.partition)
		delete(f.buf.loc.days, f.buf.day)
		a.mem -= f.buf.mem
		st.Files.Add(1)
		st.FileBytes.Add(f.size)
		st.RecordBytes.Add(f.buf.size())
		if f.buf.errors {
			st.Errors.Add(int64(f.buf.count()))
		} else {
			st.Events.Add(int64(f.buf.count()))
			f.buf.batch.Reset("", "") // its memory back to the pools
		}
	}
	a.ck.Pending = nil
	a.ck.Position = a.read
	for _, b := range a.bufs {
		if seqLess(b.after, a.ck.Position) {
			a.ck.Position = b.after
		}
	}
	a.prune()
	if err := writeCheckpoint(a.s.opts.FS, a.path, a.ck); err != nil {
		return err
	}
	if a.crash("checkpointed") {
		return errCrash
	}
	a.lastCk = a.s.opts.Now()
	a.wrote = true
	return nil
}

func (a *shardArchiver) crash(step string) bool {
	return a.s.opts.crashAt != nil && a.s.opts.crashAt(step)
}

// prune forgets stored marks at or below the position: replay starts
// after it anyway.
func (a *shardArchiver) prune() {
	for p, seq := range a.ck.Stored {
		if !seqLess(a.ck.Position, seq) {
			delete(a.ck.Stored, p)
		}
	}
}

func (a *shardArchiver) flushAll(ctx context.Context) error {
	if err := a.flush(ctx, a.sortedBufs()); err != nil {
		return err
	}
	if a.read != a.ck.Position {
		a.ck.Position = a.read
		a.prune()
		return writeCheckpoint(a.s.opts.FS, a.path, a.ck)
	}
	return nil
}
