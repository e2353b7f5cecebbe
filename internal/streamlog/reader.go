package streamlog

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// MinReadBuffer is the smallest buffer Read can always make progress with:
// one record of the largest size.
const MinReadBuffer = frameHeadSize + maxRecordBody

const readChunk = 2 << 20 // bytes read from a segment file at a time

// ReadResult is what one Read returns.
type ReadResult struct {
	Records []Record // alias the buffer given to Read
	Next    uint64   // the offset to read from next
	AtEnd   bool     // Next is the end of the visible log: the reader is caught up
	End     uint64   // the end of the visible log when the read began
}

// Bounds returns the shard's trim horizon (the oldest offset still within
// retention) and its end (the offset the next visible record will get).
func (sh *Shard) Bounds() (first, end uint64, err error) {
	end = sh.End()
	first, err = sh.OffsetAtTime(sh.cutoff())
	return first, end, err
}

// End returns the offset the next visible record will get: LATEST.
func (sh *Shard) End() uint64 {
	sh.rmu.RLock()
	defer sh.rmu.RUnlock()
	return sh.visible.off
}

// cutoff returns the arrival time, in Unix ms, before which records are
// past retention and no longer returned.
func (sh *Shard) cutoff() int64 {
	return sh.opts.Now().Add(-time.Duration(sh.st.RetentionHours()) * time.Hour).UnixMilli()
}

// segView is a consistent snapshot of one segment for a reader.
type segView struct {
	seg   *segment
	idx   []idxEntry
	limit int64 // bytes readers may read
	end   uint64
	lastT int64
}

// view snapshots the segments and the visible position.
func (sh *Shard) view() ([]segView, visiblePos) {
	sh.rmu.RLock()
	defer sh.rmu.RUnlock()
	vis := sh.visible
	out := make([]segView, 0, len(sh.segs))
	for _, s := range sh.segs {
		v := segView{seg: s, idx: s.idx, limit: s.size, end: s.end, lastT: s.lastTs}
		if s == vis.seg {
			v.limit, v.end = vis.pos, vis.off
		}
		out = append(out, v)
		if s == vis.seg {
			break
		}
	}
	return out, vis
}

// OffsetAtTime returns the offset of the first visible record that arrived
// at or after ts (Unix ms), or the end of the log if there is none.
func (sh *Shard) OffsetAtTime(ts int64) (uint64, error) {
	views, vis := sh.view()
	for _, v := range views {
		if v.end == v.seg.base || v.lastT < ts {
			continue
		}
		found, ok, err := scanFor(v, seekTime(v.idx, ts), func(r *Record) bool { return r.Arrival >= ts })
		if err != nil {
			return 0, err
		}
		if ok {
			return found, nil
		}
	}
	return vis.off, nil
}

// scanFor scans v from byte pos for the first record that match accepts.
func scanFor(v segView, pos int64, match func(*Record) bool) (uint64, bool, error) {
	buf := make([]byte, 64<<10)
	for pos < v.limit {
		n := min(int64(len(buf)), v.limit-pos)
		if _, err := v.seg.f.ReadAt(buf[:n], pos); err != nil && err != io.EOF {
			return 0, false, fmt.Errorf("cannot read segment %q: %w", v.seg.path, err)
		}
		p := 0
		for {
			r, k, err := decodeRecord(buf[p:n])
			if err != nil {
				return 0, false, fmt.Errorf("segment %q at byte %d: %w", v.seg.path, pos+int64(p), err)
			}
			if k == 0 {
				break
			}
			if r.Offset >= v.end {
				return 0, false, nil
			}
			if match(&r) {
				return r.Offset, true, nil
			}
			p += k
		}
		if p == 0 {
			buf = make([]byte, 2*len(buf)) // a record larger than the buffer
			continue
		}
		pos += int64(p)
	}
	return 0, false, nil
}

// Read reads visible records starting at offset from into buf, up to
// maxRecords records and maxBytes bytes of data and partition keys (at
// least one record if any is visible and it fits in buf), skipping records
// past retention. Records in the result alias buf; recs is reused for the
// result slice.
//
// Read fails with ErrStreamDeleted once the shard's stream is deleted.
func (sh *Shard) Read(from uint64, maxRecords, maxBytes int, buf []byte, recs []Record) (ReadResult, error) {
	if sh.st.deleted.Load() {
		return ReadResult{Records: recs[:0], Next: from}, fmt.Errorf("cannot read shard %s: %w: %s", sh.id, ErrStreamDeleted, sh.st.name)
	}
	cutoff := sh.cutoff()
	views, vis := sh.view()
	res := ReadResult{Records: recs[:0], Next: from, End: vis.off}
	if len(views) > 0 && res.Next < views[0].seg.base {
		res.Next = views[0].seg.base
	}
	buf = buf[:cap(buf)]
	used, dataBytes := 0, 0
	for res.Next < vis.off && len(res.Records) < maxRecords {
		i := sort.Search(len(views), func(i int) bool { return views[i].seg.base > res.Next }) - 1
		if i < 0 {
			return res, fmt.Errorf("BUG: offset %d is before the first segment", res.Next)
		}
		v := views[i]
		if res.Next >= v.end {
			if i+1 < len(views) {
				res.Next = views[i+1].seg.base
				continue
			}
			break
		}
		pos := seekPos(v.idx, res.Next)
		full := false
		for pos < v.limit && !full && len(res.Records) < maxRecords {
			n := int(min(int64(len(buf)-used), v.limit-pos, readChunk))
			if n < frameHeadSize {
				// The buffer is used up (or the segment ends inside a
				// frame header, which the visible position rules out):
				// stop here, the caller reads on from res.Next.
				full = true
				break
			}
			chunk := buf[used : used+n]
			if _, err := v.seg.f.ReadAt(chunk, pos); err != nil && err != io.EOF {
				if v.seg.removed.Load() {
					// Retention deleted the segment under us: start
					// again from the new trim horizon.
					return sh.Read(res.Next, maxRecords, maxBytes, buf[:0], res.Records[:0])
				}
				return res, fmt.Errorf("cannot read segment %q: %w", v.seg.path, err)
			}
			p := 0
			for len(res.Records) < maxRecords {
				r, k, err := decodeRecord(chunk[p:])
				if err != nil {
					return res, fmt.Errorf("segment %q at byte %d: %w", v.seg.path, pos+int64(p), err)
				}
				if k == 0 {
					if p == 0 {
						full = true // the next record does not fit in what is left of buf
					}
					break
				}
				if r.Offset >= v.end {
					break
				}
				if r.Offset >= res.Next {
					if r.Arrival >= cutoff {
						sz := len(r.Data) + len(r.PartitionKey)
						if len(res.Records) > 0 && dataBytes+sz > maxBytes {
							full = true
							break
						}
						dataBytes += sz
						r.Gen = v.seg.gen
						res.Records = append(res.Records, r)
					}
					res.Next = r.Offset + 1
				}
				p += k
			}
			if p == 0 {
				break
			}
			used += p
			pos += int64(p)
			if res.Next >= v.end {
				break
			}
		}
		if full || pos >= v.limit && res.Next < v.end {
			break
		}
	}
	res.AtEnd = res.Next >= vis.off
	return res, nil
}
