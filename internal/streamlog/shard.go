package streamlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// ErrThrottled reports that a write was refused because the shard cannot
// take more right now: writes are not keeping up, or the disk is (nearly)
// full. Nothing of the refused write was stored; the caller may retry.
var ErrThrottled = errors.New("write throttled")

// ErrOverlap reports, at open, a shard whose segment files overlap: two
// processes wrote it, or files were copied in. The error names the files
// and what to do; the store does not open until one is moved away.
var ErrOverlap = errors.New("segments overlap")

// ErrClosed reports an operation on a closed store, stream or shard.
var ErrClosed = errors.New("closed")

// Entry is one record to append.
type Entry struct {
	PartitionKey []byte
	Data         []byte
}

// Shard is one append-only log. Appends are group-committed by a single
// committer goroutine; reads are lock-free apart from a short snapshot.
type Shard struct {
	id    string
	index int
	start HashKey
	end   HashKey
	dir   string
	st    *Stream
	opts  *Options
	log   *slog.Logger

	// wmu serializes the file writes: the committer and the syncer.
	wmu    sync.Mutex
	active *segment // the segment being written; under wmu and rmu

	// mu guards assignment of offsets and the pending batch.
	mu         sync.Mutex
	cond       *sync.Cond
	nextOffset uint64
	lastTs     int64
	pending    *Commit
	committing *Commit // the batch the committer is writing, for failure roll-back
	gen        uint64
	closed     bool
	failed     error

	// rmu guards segs, visible and the active segment's changing fields.
	rmu     sync.RWMutex
	segs    []*segment
	visible visiblePos

	done     chan struct{} // closed when the committer stops
	syncStop chan struct{} // FsyncInterval: closing it stops the syncer
	syncDone chan struct{} // closed when the syncer stops

	written visiblePos // last written position (interval mode); under wmu

	// stats counts acknowledged writes. openEnd is the next offset when the
	// shard opened; prevLast the newest record's sequence number then.
	stats       writeStats
	openEnd     uint64
	prevLast    Seq
	hasPrevLast bool
}

// visiblePos says which records readers may see: every offset below off,
// which in segment seg ends at byte pos.
type visiblePos struct {
	off uint64
	seg *segment
	pos int64
}

// Commit is one group of appended records on its way to disk.
type Commit struct {
	buf    []byte
	first  uint64
	end    uint64
	lastTs int64
	prevTs int64
	bytes  uint64 // partition keys and data of the records
	done   chan struct{}
	err    error
}

// Wait blocks until the records are acknowledged (on disk, or written when
// the store syncs on an interval) or have failed; on failure none of them
// is stored.
func (c *Commit) Wait() error {
	<-c.done
	return c.err
}

// ID returns the shard id, such as shardId-000000000000.
func (sh *Shard) ID() string { return sh.id }

// Index returns the shard's position in its stream.
func (sh *Shard) Index() int { return sh.index }

// HashKeyRange returns the first and last hash keys the shard holds.
func (sh *Shard) HashKeyRange() (start, end HashKey) { return sh.start, sh.end }

// Stream returns the stream the shard belongs to.
func (sh *Shard) Stream() *Stream { return sh.st }

// StartingSeq is the lowest sequence number the shard can ever issue.
func (sh *Shard) StartingSeq() Seq {
	return Seq{Gen: uint64(sh.st.meta.CreatedMs), Shard: uint32(sh.index), Offset: 0}
}

// Enqueue assigns sequence numbers to entries (written into seqs, which
// must be as long) and queues them for the next group commit. All entries
// get the same arrival time, returned in Unix milliseconds. Call Wait on
// the returned Commit before acknowledging.
func (sh *Shard) Enqueue(entries []Entry, seqs []Seq) (*Commit, int64, error) {
	now := sh.opts.Now().UnixMilli()
	if sh.st.store.diskLow.Load() {
		sh.st.store.disk.refusedLow.Add(uint64(len(entries)))
		return nil, 0, fmt.Errorf("%w: free disk space under %d bytes", ErrThrottled, sh.opts.MinFreeBytes)
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.closed {
		if sh.st.deleted.Load() {
			return nil, 0, fmt.Errorf("%w: %s", ErrStreamDeleted, sh.st.name)
		}
		return nil, 0, ErrClosed
	}
	if sh.failed != nil {
		return nil, 0, fmt.Errorf("%w: shard %s cannot write: %v", ErrThrottled, sh.id, sh.failed)
	}
	c := sh.pending
	if c != nil && len(c.buf) > sh.opts.MaxPendingBytes {
		return nil, 0, fmt.Errorf("%w: %d bytes are waiting to be written to shard %s", ErrThrottled, len(c.buf), sh.id)
	}
	if c == nil {
		c = &Commit{first: sh.nextOffset, end: sh.nextOffset, prevTs: sh.lastTs, done: make(chan struct{}), buf: getBuf()}
		sh.pending = c
		sh.cond.Signal()
	}
	ts := max(now, sh.lastTs)
	for i, e := range entries {
		c.buf = appendRecord(c.buf, sh.nextOffset, ts, e.PartitionKey, e.Data)
		c.bytes += uint64(len(e.PartitionKey) + len(e.Data))
		seqs[i] = Seq{Gen: sh.gen, Shard: uint32(sh.index), Offset: sh.nextOffset}
		sh.nextOffset++
	}
	c.end = sh.nextOffset
	c.lastTs = ts
	sh.lastTs = ts
	return c, ts, nil
}

// Append enqueues entries and waits for them to be committed.
func (sh *Shard) Append(entries []Entry, seqs []Seq) (int64, error) {
	c, ts, err := sh.Enqueue(entries, seqs)
	if err != nil {
		return 0, err
	}
	return ts, c.Wait()
}

var bufPool sync.Pool

func getBuf() []byte {
	if b, ok := bufPool.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 256<<10)
}

func putBuf(b []byte) {
	if cap(b) > 16<<20 {
		return
	}
	bufPool.Put(&b)
}

// committer writes pending batches, one at a time, in order.
func (sh *Shard) committer() {
	defer close(sh.done)
	for {
		sh.mu.Lock()
		for sh.pending == nil && !sh.closed {
			sh.cond.Wait()
		}
		c := sh.pending
		if c == nil { // closed and drained
			sh.mu.Unlock()
			return
		}
		sh.pending = nil
		sh.committing = c
		sh.mu.Unlock()

		err := sh.write(c)

		sh.mu.Lock()
		sh.committing = nil
		if err != nil {
			sh.log.Error("cannot write records; the batch is refused", "records", c.end-c.first, "error", err)
			sh.st.store.disk.writes.Fail(time.Now(), err)
			sh.st.store.disk.refusedFailed.Add(c.end - c.first)
			// Later offsets were assigned after this batch's; refuse them
			// too so offsets stay dense, and reuse this batch's.
			if p := sh.pending; p != nil {
				sh.st.store.disk.refusedFailed.Add(p.end - p.first)
				sh.pending = nil
				p.err = fmt.Errorf("%w: %v", ErrThrottled, err)
				putBuf(p.buf)
				close(p.done)
			}
			sh.nextOffset = c.first
			sh.lastTs = c.prevTs
			c.err = fmt.Errorf("%w: %v", ErrThrottled, err)
		}
		sh.mu.Unlock()
		if err == nil {
			sh.st.store.disk.writes.OK()
			sh.stats.add(c.end-c.first, c.bytes, c.end, c.lastTs)
		}
		putBuf(c.buf)
		c.buf = nil
		close(c.done)
	}
}

// write appends c to the active segment, rolling it first if it is full or
// old, and makes it durable and visible as the fsync mode says.
func (sh *Shard) write(c *Commit) error {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	if sh.active == nil {
		seg, err := createSegment(sh.opts.FS, sh.dir, sh.gen, c.first)
		if err != nil {
			return err
		}
		sh.rmu.Lock()
		sh.segs = append(sh.segs, seg)
		sh.active = seg
		sh.rmu.Unlock()
	}
	a := sh.active
	if a.end > a.base && (a.size+int64(len(c.buf)) > sh.opts.SegmentBytes ||
		sh.opts.Now().Sub(time.UnixMilli(a.firstTs)) > sh.opts.SegmentMaxAge) {
		if err := sh.roll(c.first); err != nil {
			return err
		}
		a = sh.active
	}
	if a.base > c.first || a.end != c.first {
		panic(fmt.Sprintf("BUG: shard %s writes offset %d into a segment ending at %d", sh.id, c.first, a.end))
	}
	pos := a.size
	if _, err := a.f.WriteAt(c.buf, pos); err != nil {
		a.f.Truncate(pos)
		a.alloc = pos
		return fmt.Errorf("cannot write segment %q: %w", a.path, err)
	}
	need := pos + int64(len(c.buf))
	a.alloc = max(a.alloc, need)
	if step := sh.opts.PreallocBytes; step > 0 && a.alloc-need < step/4 {
		sh.prealloc(a, need+step)
	}
	if sh.opts.Fsync == FsyncAlways {
		if err := a.f.Datasync(); err != nil {
			a.f.Truncate(pos)
			a.alloc = pos
			return fmt.Errorf("cannot fsync segment %q: %w", a.path, err)
		}
	}
	// Index entries for the new records.
	sh.rmu.Lock()
	lastIdx := int64(-indexInterval)
	if n := len(a.idx); n > 0 {
		lastIdx = a.idx[n-1].pos
	}
	for p := 0; p < len(c.buf); {
		off, ts := frameOffsetArrival(c.buf[p:])
		if pos+int64(p)-lastIdx >= indexInterval {
			lastIdx = pos + int64(p)
			a.idx = append(a.idx, idxEntry{off: off, pos: lastIdx, ts: ts})
		}
		p += frameHeadSize + int(binary.LittleEndian.Uint32(c.buf[p:]))
	}
	if a.end == a.base {
		_, a.firstTs = frameOffsetArrival(c.buf)
	}
	a.size = pos + int64(len(c.buf))
	a.end = c.end
	a.lastTs = c.lastTs
	if sh.opts.Fsync == FsyncAlways {
		sh.visible = visiblePos{off: a.end, seg: a, pos: a.size}
	}
	sh.rmu.Unlock()
	sh.written = visiblePos{off: a.end, seg: a, pos: a.size}
	return nil
}

// roll seals the active segment and starts a new one whose first offset is
// base. Called with wmu held.
func (sh *Shard) roll(base uint64) error {
	old := sh.active
	if err := sh.trimPrealloc(old); err != nil {
		return err
	}
	if err := old.f.Datasync(); err != nil {
		return fmt.Errorf("cannot fsync segment %q: %w", old.path, err)
	}
	// Everything in the old segment is durable now.
	sh.rmu.Lock()
	if sh.visible.seg == old || sh.visible.off < old.end {
		sh.visible = visiblePos{off: old.end, seg: old, pos: old.size}
	}
	sh.rmu.Unlock()
	if err := fsutil.WriteAtomicFS(sh.opts.FS, idxPath(old.path), old.index().encode()); err != nil {
		return err
	}
	seg, err := createSegment(sh.opts.FS, sh.dir, sh.gen, base)
	if err != nil {
		return err
	}
	sh.rmu.Lock()
	old.sealed = true
	sh.segs = append(sh.segs, seg)
	sh.active = seg
	sh.rmu.Unlock()
	return nil
}

// prealloc extends the active segment with zeros up to end, so that the
// next writes overwrite allocated blocks within the file's size: their
// fdatasync then has no metadata to journal, which halves its cost on ext4.
// It is only an optimization: if the disk has no room, the file is cut back
// and writes go on appending. Called with wmu held.
func (sh *Shard) prealloc(a *segment, end int64) {
	from := a.alloc
	for off := from; off < end; off += int64(len(zeros)) {
		n := min(int64(len(zeros)), end-off)
		if _, err := a.f.WriteAt(zeros[:n], off); err != nil {
			a.f.Truncate(from)
			sh.log.Debug("cannot preallocate segment space", "path", a.path, "error", err)
			return
		}
	}
	a.alloc = end
}

var zeros = make([]byte, 256<<10)

// trimPrealloc cuts the preallocated zeros off the end of a segment being
// sealed. Called with wmu held.
func (sh *Shard) trimPrealloc(a *segment) error {
	if a.alloc > a.size {
		if err := a.f.Truncate(a.size); err != nil {
			return fmt.Errorf("cannot trim segment %q: %w", a.path, err)
		}
		a.alloc = a.size
	}
	return nil
}

// syncer makes written records durable and visible every interval, in
// FsyncInterval mode.
func (sh *Shard) syncer() {
	defer close(sh.syncDone)
	t := time.NewTicker(sh.opts.FsyncInterval)
	defer t.Stop()
	for {
		select {
		case <-sh.syncStop:
			sh.syncNow()
			return
		case <-t.C:
			sh.syncNow()
		}
	}
}

func (sh *Shard) syncNow() {
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	w := sh.written
	sh.rmu.RLock()
	behind := w.seg != nil && w.off > sh.visible.off
	sh.rmu.RUnlock()
	if !behind {
		return
	}
	if err := w.seg.f.Datasync(); err != nil {
		sh.log.Error("cannot fsync segment", "path", w.seg.path, "error", err)
		return
	}
	sh.rmu.Lock()
	if w.off > sh.visible.off {
		sh.visible = w
	}
	sh.rmu.Unlock()
}

func segPath(dir string, base uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, segSuffix))
}

// genTime is a writer generation as the time it started (generations are
// start times in Unix ms).
func genTime(gen uint64) string {
	return time.UnixMilli(int64(gen)).UTC().Format(time.RFC3339Nano)
}

func idxPath(seg string) string { return strings.TrimSuffix(seg, segSuffix) + idxSuffix }

func createSegment(fsys vfs.FS, dir string, gen, base uint64) (*segment, error) {
	path := segPath(dir, base)
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot create segment: %w", err)
	}
	if _, err := f.WriteAt(segHeader{Gen: gen, Base: base}.encode(), 0); err != nil {
		f.Close()
		fsys.Remove(path)
		return nil, fmt.Errorf("cannot write segment header %q: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		fsys.Remove(path)
		return nil, fmt.Errorf("cannot fsync segment %q: %w", path, err)
	}
	if err := fsutil.SyncDirFS(fsys, dir); err != nil {
		f.Close()
		return nil, err
	}
	return &segment{path: path, gen: gen, base: base, f: f, end: base, size: segHeaderSize, alloc: segHeaderSize}, nil
}

// openShard recovers a shard's segments from dir and starts a new active
// segment with a new generation.
func openShard(st *Stream, index int, start, end HashKey, dir string) (*Shard, error) {
	opts := st.store.opts
	sh := &Shard{
		id: ShardID(index), index: index, start: start, end: end, dir: dir, st: st,
		opts: opts, log: opts.Logger.With("stream", st.name, "shard", ShardID(index)),
		done: make(chan struct{}),
	}
	sh.cond = sync.NewCond(&sh.mu)
	// Durable in its stream directory (a new stream creates it here)
	// before any record in it is acknowledged.
	if err := fsutil.MkdirAllFS(opts.FS, dir); err != nil {
		return nil, fmt.Errorf("cannot create shard directory: %w", err)
	}
	fsutil.RemoveTempsFS(opts.FS, dir)
	names, err := vfs.Glob(opts.FS, filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var maxGen uint64
	for i, name := range names {
		last := i == len(names)-1
		seg, err := recoverSegment(opts.FS, sh.log, name, last)
		if err != nil {
			sh.closeSegs()
			return nil, err
		}
		maxGen = max(maxGen, seg.gen)
		if seg.end == seg.base && !last {
			seg.f.Close()
			opts.FS.Remove(name)
			opts.FS.Remove(idxPath(name))
			continue
		}
		if n := len(sh.segs); n > 0 && sh.segs[n-1].end > seg.base {
			prev := sh.segs[n-1]
			if seg.end == seg.base && last {
				// An empty segment another process started on this shard
				// (two processes on one data directory): nothing to lose.
				sh.log.Warn("removing an empty segment that starts inside the previous one (left by a second process on this data directory)",
					"path", name, "previous", prev.path, "previous_end", prev.end)
				seg.f.Close()
				os.Remove(name)
				os.Remove(idxPath(name))
				continue
			}
			sh.closeSegs()
			seg.f.Close()
			return nil, fmt.Errorf("%w: segment %s (offsets %d to %d, written by a process started at %s) starts inside the previous segment %s (offsets %d to %d, by a process started at %s): "+
				"two processes wrote this shard (a second tenantpulse on the same data directory), or files were copied in from elsewhere; "+
				"to start, stop every process on the directory and move one of the two .seg files (with its .idx) out of %s, keeping the one whose records you want, "+
				"or restore the directory from a backup; see \"Segments that overlap\" in docs/operations.md",
				ErrOverlap, name, seg.base, seg.end, genTime(seg.gen), prev.path, prev.base, prev.end, genTime(prev.gen), sh.dir)
		}
		sh.segs = append(sh.segs, seg)
	}
	// Orphan index files without a segment.
	idxs, _ := vfs.Glob(opts.FS, filepath.Join(dir, "*"+idxSuffix))
	for _, x := range idxs {
		if _, err := opts.FS.Stat(strings.TrimSuffix(x, idxSuffix) + segSuffix); errors.Is(err, os.ErrNotExist) {
			opts.FS.Remove(x)
		}
	}
	var next uint64
	var lastTs int64
	var emptyLast *segment
	if n := len(sh.segs); n > 0 {
		l := sh.segs[n-1]
		next, lastTs = l.end, l.lastTs
		if l.end == l.base {
			emptyLast = l
			sh.segs = sh.segs[:n-1]
		}
	}
	sh.gen = max(uint64(opts.Now().UnixMilli()), maxGen+1, uint64(st.meta.CreatedMs))
	sh.nextOffset, sh.lastTs = next, lastTs
	sh.openEnd = next
	sh.stats.end.Store(next)
	if n := len(sh.segs); n > 0 {
		if l := sh.segs[n-1]; l.end > l.base {
			sh.prevLast, sh.hasPrevLast = Seq{Gen: l.gen, Shard: uint32(index), Offset: l.end - 1}, true
		}
	}
	for _, s := range sh.segs {
		s.sealed = true
	}
	if emptyLast != nil {
		emptyLast.f.Close() // createSegment reuses its name: same first offset
	}
	active, err := createSegment(opts.FS, dir, sh.gen, next)
	if err != nil {
		// No room for a new segment (a full disk): the shard still opens,
		// for reading; the first write tries again and is refused,
		// retriably, until there is room.
		sh.log.Warn("cannot create a segment; writes to this shard are refused until there is room", "error", err)
	} else {
		sh.segs = append(sh.segs, active)
		sh.active = active
	}
	sh.visible = visiblePos{off: next, seg: active, pos: segHeaderSize}
	sh.written = sh.visible
	go sh.committer()
	if opts.Fsync == FsyncInterval {
		sh.syncStop, sh.syncDone = make(chan struct{}), make(chan struct{})
		go sh.syncer()
	}
	return sh, nil
}

// recoverSegment opens a segment file. A sealed segment's index is trusted
// when it matches the file; otherwise the file is scanned, a torn tail
// truncated, and the index rewritten.
func recoverSegment(fsys vfs.FS, log *slog.Logger, path string, last bool) (*segment, error) {
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot stat segment %q: %w", path, err)
	}
	hb := make([]byte, segHeaderSize)
	if _, err := f.ReadAt(hb, 0); err != nil || fi.Size() < segHeaderSize {
		// A crash while creating the segment: nothing was ever in it.
		base, perr := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), segSuffix), 10, 64)
		if perr != nil || !last {
			f.Close()
			return nil, fmt.Errorf("segment %q has no valid header and is not the last one; move it away to start", path)
		}
		log.Warn("segment has a torn header; it held no records", "path", path)
		return &segment{path: path, base: base, f: f, end: base, size: segHeaderSize}, nil
	}
	h, err := decodeSegHeader(hb)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot read segment %q: %w; if this binary is older than the one that wrote it, run the newer one; otherwise restore the file from a backup, or move it (with its .idx) out of %s to start without its records",
			path, err, filepath.Dir(path))
	}
	if b, err := fsys.ReadFile(idxPath(path)); err == nil {
		x, err := decodeIndex(b)
		if err == nil && x.base == h.Base && x.gen == h.Gen && x.size == fi.Size() {
			return &segment{path: path, gen: h.Gen, base: h.Base, f: f, end: x.end, size: x.size,
				firstTs: x.firstTs, lastTs: x.lastTs, idx: x.entries}, nil
		}
		log.Warn("segment index does not match its segment; rebuilding it", "path", path, "error", err)
	}
	seg := &segment{path: path, gen: h.Gen, base: h.Base, f: f, end: h.Base, size: segHeaderSize}
	if err := scanSegment(seg, fi.Size()); err != nil {
		f.Close()
		return nil, err
	}
	if seg.size < fi.Size() {
		if tailIsZeros(f, seg.size, fi.Size()) {
			log.Debug("discarding preallocated space of segment", "path", path, "bytes", fi.Size()-seg.size)
		} else {
			log.Warn("truncating torn tail of segment", "path", path, "bytes", fi.Size()-seg.size, "records_kept", seg.end-seg.base)
		}
		if err := f.Truncate(seg.size); err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot truncate segment %q: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot fsync segment %q: %w", path, err)
		}
	}
	if seg.end > seg.base {
		// The index only speeds up the next start; without room for it
		// (a full disk) the segment is scanned again next time.
		if err := fsutil.WriteAtomicFS(fsys, idxPath(path), seg.index().encode()); err != nil {
			log.Warn("cannot write segment index; it will be rebuilt at the next start", "path", path, "error", err)
		}
	}
	return seg, nil
}

// tailIsZeros reports whether f holds only zero bytes in [from, to): space
// preallocated by a writer that stopped, not a torn record.
func tailIsZeros(f vfs.File, from, to int64) bool {
	buf := make([]byte, 64<<10)
	for off := from; off < to; off += int64(len(buf)) {
		n := min(int64(len(buf)), to-off)
		if _, err := f.ReadAt(buf[:n], off); err != nil && err != io.EOF {
			return false
		}
		for _, b := range buf[:n] {
			if b != 0 {
				return false
			}
		}
	}
	return true
}

// scanSegment reads a segment's records from the start, building its index
// and stopping at the first invalid or incomplete record.
func scanSegment(seg *segment, fileSize int64) error {
	const chunk = 4 << 20
	buf := make([]byte, 0, chunk+maxRecordBody+frameHeadSize)
	pos := int64(segHeaderSize) // file position of buf[0]
	lastIdx := int64(-indexInterval)
	for {
		n := len(buf)
		want := min(int64(cap(buf)-n), fileSize-pos-int64(n))
		if want > 0 {
			buf = buf[:n+int(want)]
			if _, err := seg.f.ReadAt(buf[n:], pos+int64(n)); err != nil && err != io.EOF {
				return fmt.Errorf("cannot read segment %q: %w", seg.path, err)
			}
		}
		p := 0
		for {
			r, k, err := decodeRecord(buf[p:])
			if err != nil || k == 0 || r.Offset != seg.end {
				break
			}
			at := pos + int64(p)
			if at-lastIdx >= indexInterval {
				lastIdx = at
				seg.idx = append(seg.idx, idxEntry{off: r.Offset, pos: at, ts: r.Arrival})
			}
			if seg.end == seg.base {
				seg.firstTs = r.Arrival
			}
			seg.end++
			seg.lastTs = r.Arrival
			p += k
		}
		seg.size = pos + int64(p)
		if want <= 0 || p == 0 {
			return nil
		}
		// Keep the unparsed remainder and read on.
		rest := copy(buf, buf[p:])
		buf = buf[:rest]
		pos += int64(p)
	}
}

func (sh *Shard) closeSegs() {
	for _, s := range sh.segs {
		s.f.Close()
	}
}

// close stops the committer after it has written everything queued, makes
// it durable and closes the files.
func (sh *Shard) close() {
	sh.mu.Lock()
	if sh.closed {
		sh.mu.Unlock()
		return
	}
	sh.closed = true
	sh.cond.Broadcast()
	sh.mu.Unlock()
	<-sh.done
	if sh.syncStop != nil {
		close(sh.syncStop)
		<-sh.syncDone
	}
	sh.wmu.Lock()
	defer sh.wmu.Unlock()
	// Seal the active segment so the next start need not scan it.
	if a := sh.active; a != nil {
		sh.sealAtClose(a)
	}
	sh.rmu.Lock()
	defer sh.rmu.Unlock()
	for _, s := range sh.segs {
		s.f.Close()
	}
}

func (sh *Shard) sealAtClose(a *segment) {
	if sh.st.deleted.Load() {
		return // the files are in the trash, to be removed
	}
	if err := sh.trimPrealloc(a); err != nil {
		sh.log.Error("cannot trim segment at close", "error", err)
	} else if err := a.f.Datasync(); err != nil {
		sh.log.Error("cannot fsync segment at close", "error", err)
	} else if a.end > a.base {
		if err := fsutil.WriteAtomicFS(sh.opts.FS, idxPath(a.path), a.index().encode()); err != nil {
			sh.log.Warn("cannot write segment index at close; the next start scans the segment", "error", err)
		}
	}
}
