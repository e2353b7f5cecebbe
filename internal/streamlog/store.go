package streamlog

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// FsyncMode says when appended records are made durable.
type FsyncMode string

const (
	// FsyncAlways fsyncs every group commit before acknowledging it.
	FsyncAlways FsyncMode = "always"
	// FsyncInterval acknowledges once written to the OS and fsyncs every
	// FsyncInterval; a machine crash (not a process crash) can lose up to
	// one interval of acknowledged records, and readers only ever see
	// synced records.
	FsyncInterval FsyncMode = "interval"
)

// Options configures a Store. Zero values take the defaults shown.
type Options struct {
	Dir           string
	Fsync         FsyncMode     // FsyncAlways
	FsyncInterval time.Duration // 100ms, with FsyncInterval
	SegmentBytes  int64         // 64 MiB: a segment is sealed past this size
	SegmentMaxAge time.Duration // 1h: or when its first record is this old
	// PreallocBytes of zeros are kept ahead of the active segment's end so
	// that syncs need no metadata update; default SegmentBytes/16 within
	// [64 KiB, 4 MiB]; negative turns it off.
	PreallocBytes   int64
	MaxPendingBytes int           // 64 MiB per shard waiting to be written, then ErrThrottled
	MinFreeBytes    uint64        // 64 MiB: below this much free disk, writes get ErrThrottled
	RetentionCheck  time.Duration // 1m: how often expired segments are deleted
	Logger          *slog.Logger
	Now             func() time.Time
	// FS is the file system the store does its I/O through; nil is the
	// operating system's (tests use a vfstest.FS to lose power).
	FS vfs.FS
}

func (o *Options) withDefaults() {
	if o.Fsync == "" {
		o.Fsync = FsyncAlways
	}
	if o.FsyncInterval <= 0 {
		o.FsyncInterval = 100 * time.Millisecond
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.PreallocBytes == 0 {
		o.PreallocBytes = min(max(o.SegmentBytes/16, 64<<10), 4<<20)
	}
	if o.SegmentMaxAge <= 0 {
		o.SegmentMaxAge = time.Hour
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 64 << 20
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 64 << 20
	}
	if o.RetentionCheck <= 0 {
		o.RetentionCheck = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.FS = vfs.Or(o.FS)
}

// Sentinel errors of the stream catalogue.
var (
	// ErrStreamExists reports a CreateStream for a name already in use.
	ErrStreamExists = errors.New("stream already exists")
	// ErrStreamNotFound reports an operation on a stream that does not exist.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamDeleted reports a read or write through a Stream or Shard
	// whose stream has been deleted. A stream created again under the same
	// name is a new Stream, with a later Created time: look it up again.
	ErrStreamDeleted = errors.New("stream deleted")
)

// Store is the embedded stream store: a directory of streams.
type Store struct {
	opts    *Options
	dir     string
	diskLow atomic.Bool
	disk    diskCounters

	mu      sync.Mutex
	streams map[string]*Stream
	closed  bool
	// nextCreated holds, per name of a stream deleted since Open, the
	// least creation time (and so first generation) a stream created again
	// under that name may have: every sequence number of the old stream is
	// below the new stream's, and the two have different Created times.
	nextCreated map[string]int64

	stop chan struct{}
	wg   sync.WaitGroup
}

const (
	streamsDir = "streams"
	trashDir   = "trash"
	tmpDir     = "tmp"
)

// Open opens (or creates) the store in opts.Dir, recovering every stream.
func Open(opts Options) (*Store, error) {
	opts.withDefaults()
	if opts.Fsync != FsyncAlways && opts.Fsync != FsyncInterval {
		return nil, fmt.Errorf("fsync mode %q is not one of %q, %q", opts.Fsync, FsyncAlways, FsyncInterval)
	}
	s := &Store{opts: &opts, dir: opts.Dir, streams: map[string]*Stream{}, stop: make(chan struct{})}
	for _, d := range []string{streamsDir, trashDir, tmpDir} {
		if err := fsutil.MkdirAllFS(opts.FS, filepath.Join(s.dir, d)); err != nil {
			return nil, fmt.Errorf("cannot create data directory: %w", err)
		}
	}
	opts.FS.RemoveAll(filepath.Join(s.dir, trashDir))
	opts.FS.RemoveAll(filepath.Join(s.dir, tmpDir))
	opts.FS.MkdirAll(filepath.Join(s.dir, trashDir), 0o755)
	opts.FS.MkdirAll(filepath.Join(s.dir, tmpDir), 0o755)

	entries, err := opts.FS.ReadDir(filepath.Join(s.dir, streamsDir))
	if err != nil {
		return nil, fmt.Errorf("cannot list streams: %w", err)
	}
	type opened struct {
		st  *Stream
		err error
	}
	results := make([]opened, len(entries))
	var wg sync.WaitGroup
	for i, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "s-") {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(s.dir, streamsDir, e.Name())
			m, err := readMeta(opts.FS, dir)
			if err != nil {
				results[i].err = fmt.Errorf("stream directory %s: %w; restore it from a backup, or move the whole directory out of %s to start without that stream (its records are lost)",
					dir, err, filepath.Join(s.dir, streamsDir))
				return
			}
			results[i].st, results[i].err = openStream(s, dir, m)
		}()
	}
	wg.Wait()
	var firstErr error
	for _, r := range results {
		if r.err != nil && firstErr == nil {
			firstErr = r.err
		}
		if r.st != nil {
			s.streams[r.st.name] = r.st
		}
	}
	if firstErr != nil {
		s.Close()
		return nil, firstErr
	}
	s.checkDisk()
	s.warnSmallVolume()
	s.expire()
	s.wg.Add(1)
	go s.background()
	return s, nil
}

// Close stops background work and closes every stream after writing what
// was queued.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	streams := s.streams
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	for _, st := range streams {
		st.close()
	}
	return nil
}

// Stream returns the named stream.
func (s *Store) Stream(name string) (*Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.streams[name]
	if !ok || s.closed {
		return nil, fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	return st, nil
}

// Streams returns every stream, sorted by name.
func (s *Store) Streams() []*Stream {
	s.mu.Lock()
	out := make([]*Stream, 0, len(s.streams))
	for _, st := range s.streams {
		out = append(out, st)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// CreateStream creates a stream and its shards durably.
func (s *Store) CreateStream(cfg StreamConfig) (*Stream, error) {
	if !ValidStreamName(cfg.Name) {
		return nil, fmt.Errorf("stream name %q: use 1 to 128 of a-z, A-Z, 0-9, _ . -", cfg.Name)
	}
	if cfg.ShardCount < 1 {
		return nil, fmt.Errorf("shard count %d must be at least 1", cfg.ShardCount)
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeProvisioned
	}
	if cfg.RetentionHours == 0 {
		cfg.RetentionHours = 24
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.streams[cfg.Name]; ok {
		return nil, fmt.Errorf("%w: %s", ErrStreamExists, cfg.Name)
	}
	m := &streamMeta{Name: cfg.Name, CreatedMs: max(s.opts.Now().UnixMilli(), s.nextCreated[cfg.Name]), Mode: cfg.Mode,
		RetentionHours: cfg.RetentionHours, Tags: cfg.Tags}
	for i, r := range splitRanges(cfg.ShardCount) {
		m.Shards = append(m.Shards, shardMeta{ID: ShardID(i), Start: r[0].String(), End: r[1].String()})
	}
	tmp, err := s.opts.FS.MkdirTemp(filepath.Join(s.dir, tmpDir), "stream-")
	if err != nil {
		return nil, fmt.Errorf("cannot create stream directory: %w", err)
	}
	if err := writeMeta(s.opts.FS, tmp, m); err != nil {
		s.opts.FS.RemoveAll(tmp)
		return nil, err
	}
	dir := filepath.Join(s.dir, streamsDir, "s-"+cfg.Name)
	if err := s.opts.FS.Rename(tmp, dir); err != nil {
		s.opts.FS.RemoveAll(tmp)
		return nil, fmt.Errorf("cannot create stream directory: %w", err)
	}
	if err := fsutil.SyncDirFS(s.opts.FS, filepath.Join(s.dir, streamsDir)); err != nil {
		return nil, err
	}
	st, err := openStream(s, dir, m)
	if err != nil {
		return nil, err
	}
	s.streams[cfg.Name] = st
	delete(s.nextCreated, cfg.Name)
	return st, nil
}

// DeleteStream removes a stream and all its records. Writes already
// queued on it are written (and then deleted with it); later reads and
// writes through its Stream and Shards fail with ErrStreamDeleted.
func (s *Store) DeleteStream(name string) error {
	s.mu.Lock()
	st, ok := s.streams[name]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrStreamNotFound, name)
	}
	st.deleted.Store(true)
	delete(s.streams, name)
	next := st.meta.CreatedMs + 1
	for _, sh := range st.shards {
		next = max(next, int64(sh.gen)+1) // set when the shard opened
	}
	if s.nextCreated == nil {
		s.nextCreated = map[string]int64{}
	}
	s.nextCreated[name] = next
	trash := filepath.Join(s.dir, trashDir, fmt.Sprintf("%s-%d", filepath.Base(st.dir), time.Now().UnixNano()))
	err := s.opts.FS.Rename(st.dir, trash)
	if err == nil {
		err = fsutil.SyncDirFS(s.opts.FS, filepath.Join(s.dir, streamsDir))
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("cannot delete stream %q: %w", name, err)
	}
	st.close()
	go s.opts.FS.RemoveAll(trash)
	return nil
}

func (s *Store) background() {
	defer s.wg.Done()
	disk := time.NewTicker(time.Second)
	defer disk.Stop()
	ret := time.NewTicker(s.opts.RetentionCheck)
	defer ret.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-disk.C:
			s.checkDisk()
		case <-ret.C:
			s.expire()
		}
	}
}

// checkDisk refuses writes while free space is under MinFreeBytes.
func (s *Store) checkDisk() {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &fs); err != nil {
		return
	}
	free := fs.Bavail * uint64(fs.Bsize)
	s.disk.free.Store(free)
	s.disk.size.Store(fs.Blocks * uint64(fs.Bsize))
	low := free < s.opts.MinFreeBytes
	if low != s.diskLow.Load() {
		s.diskLow.Store(low)
		if low {
			s.opts.Logger.Warn("free disk space is low; refusing writes", "free_bytes", free, "min_free_bytes", s.opts.MinFreeBytes)
		} else {
			s.opts.Logger.Info("free disk space recovered; accepting writes", "free_bytes", free)
		}
	}
}

// expire deletes every segment whose records are all past retention.
func (s *Store) expire() {
	for _, st := range s.Streams() {
		for _, sh := range st.shards {
			sh.expire(sh.cutoff())
		}
	}
}

// expire deletes sealed segments whose newest record arrived before cutoff,
// sealing the active segment first if all of it has expired.
func (sh *Shard) expire(cutoff int64) {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	sh.mu.Lock()
	closed := sh.closed
	next := sh.nextOffset
	sh.mu.Unlock()
	if closed {
		return
	}
	if a := sh.active; a != nil && a.end > a.base && a.lastTs < cutoff && a.end == next {
		if err := sh.roll(a.end); err != nil {
			sh.log.Error("cannot seal expired segment", "error", err)
		}
	}
	sh.rmu.Lock()
	var gone []*segment
	for len(sh.segs) > 1 && sh.segs[0].sealed && sh.segs[0].lastTs < cutoff {
		gone = append(gone, sh.segs[0])
		sh.segs = sh.segs[1:]
	}
	sh.rmu.Unlock()
	for _, g := range gone {
		g.removed.Store(true)
		g.f.Close()
		sh.opts.FS.Remove(idxPath(g.path))
		sh.opts.FS.Remove(g.path)
		sh.log.Info("deleted expired segment", "path", g.path, "records", g.end-g.base)
	}
	if len(gone) > 0 {
		fsutil.SyncDirFS(sh.opts.FS, sh.dir)
	}
}
