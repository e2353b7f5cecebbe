package streamlog

import (
	"encoding/binary"
	"fmt"
	"sort"
	"sync/atomic"

	"github.com/tenantpulse/tenantpulse/internal/fsutil"
	"github.com/tenantpulse/tenantpulse/internal/vfs"
)

// The segment index format; docs/format/segment-index.md is its specification.
var idxMagic = [4]byte{'T', 'P', 'I', 'X'}

const (
	idxVersion    = 1
	idxFixedSize  = 52 // gen, base, end, size, firstTs, lastTs u64 each; entry count u32
	idxEntrySize  = 24
	indexInterval = 4096 // a sparse entry at least every this many segment bytes
)

// idxEntry says that the record with offset off starts at byte pos of the
// segment file and arrived at ts (Unix ms).
type idxEntry struct {
	off uint64
	pos int64
	ts  int64
}

// segIndex is what a sealed segment's index file holds.
type segIndex struct {
	gen, base, end  uint64
	size            int64
	firstTs, lastTs int64
	entries         []idxEntry
}

func (x *segIndex) encode() []byte {
	b := make([]byte, idxFixedSize+idxEntrySize*len(x.entries))
	binary.LittleEndian.PutUint64(b[0:], x.gen)
	binary.LittleEndian.PutUint64(b[8:], x.base)
	binary.LittleEndian.PutUint64(b[16:], x.end)
	binary.LittleEndian.PutUint64(b[24:], uint64(x.size))
	binary.LittleEndian.PutUint64(b[32:], uint64(x.firstTs))
	binary.LittleEndian.PutUint64(b[40:], uint64(x.lastTs))
	binary.LittleEndian.PutUint32(b[48:], uint32(len(x.entries)))
	p := b[idxFixedSize:]
	for i, e := range x.entries {
		q := p[i*idxEntrySize:]
		binary.LittleEndian.PutUint64(q[0:], e.off)
		binary.LittleEndian.PutUint64(q[8:], uint64(e.pos))
		binary.LittleEndian.PutUint64(q[16:], uint64(e.ts))
	}
	return fsutil.Frame(idxMagic, idxVersion, b)
}

func decodeIndex(file []byte) (*segIndex, error) {
	v, b, err := fsutil.Unframe(idxMagic, file)
	if err != nil {
		return nil, err
	}
	if v != idxVersion {
		return nil, fmt.Errorf("index version %d is not supported", v)
	}
	if len(b) < idxFixedSize {
		return nil, fmt.Errorf("%w: index payload is %d bytes", fsutil.ErrBadFrame, len(b))
	}
	x := &segIndex{
		gen:     binary.LittleEndian.Uint64(b[0:]),
		base:    binary.LittleEndian.Uint64(b[8:]),
		end:     binary.LittleEndian.Uint64(b[16:]),
		size:    int64(binary.LittleEndian.Uint64(b[24:])),
		firstTs: int64(binary.LittleEndian.Uint64(b[32:])),
		lastTs:  int64(binary.LittleEndian.Uint64(b[40:])),
	}
	n := int(binary.LittleEndian.Uint32(b[48:]))
	if len(b) != idxFixedSize+n*idxEntrySize || x.end < x.base {
		return nil, fmt.Errorf("%w: index holds %d bytes for %d entries", fsutil.ErrBadFrame, len(b), n)
	}
	x.entries = make([]idxEntry, n)
	p := b[idxFixedSize:]
	for i := range x.entries {
		q := p[i*idxEntrySize:]
		x.entries[i] = idxEntry{
			off: binary.LittleEndian.Uint64(q[0:]),
			pos: int64(binary.LittleEndian.Uint64(q[8:])),
			ts:  int64(binary.LittleEndian.Uint64(q[16:])),
		}
	}
	return x, nil
}

// segment is one segment file and what is known of it in memory.
// The fields after f change only while the segment is active, under
// Shard.rmu; readers take a snapshot (see Shard.view).
type segment struct {
	path string
	gen  uint64
	base uint64
	f    vfs.File

	end     uint64 // offset after the last record
	size    int64  // bytes of valid records, header included
	alloc   int64  // bytes the file holds: size plus preallocated zeros (active segment; under Shard.wmu)
	firstTs int64
	lastTs  int64
	idx     []idxEntry
	sealed  bool
	removed atomic.Bool // retention deleted it; reads fail from now on
}

func (s *segment) index() *segIndex {
	return &segIndex{gen: s.gen, base: s.base, end: s.end, size: s.size, firstTs: s.firstTs, lastTs: s.lastTs, entries: s.idx}
}

// seekPos returns the byte position to start scanning at to find offset off,
// from a snapshot of the index.
func seekPos(idx []idxEntry, off uint64) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].off > off })
	if i == 0 {
		return segHeaderSize
	}
	return idx[i-1].pos
}

// seekTime returns the byte position to start scanning at to find the first
// record that arrived at or after ts.
func seekTime(idx []idxEntry, ts int64) int64 {
	i := sort.Search(len(idx), func(i int) bool { return idx[i].ts >= ts })
	if i == 0 {
		return segHeaderSize
	}
	return idx[i-1].pos
}
