package stream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

// EmbeddedReadBuffer is the size of each embedded cursor's read buffer: a
// batch holds at most this many bytes of stored records (always at least
// one record, however large).
const EmbeddedReadBuffer = max(streamlog.MinReadBuffer, 4<<20)

// embeddedPoll is how often a waiting embedded cursor looks for new
// records: streamlog has no notification, and End is one read lock.
const embeddedPoll = 5 * time.Millisecond

// seqPrefixLen is the part of a sequence number before the offset: "49",
// the generation and the shard index.
const seqPrefixLen = streamlog.SeqLen - 20

type embedded struct {
	store *streamlog.Store
}

// NewEmbedded returns a Reader over the embedded store.
//
// Each cursor owns one read buffer (EmbeddedReadBuffer bytes) and reuses it,
// its record slice and a sequence-number arena on every Next, so reading
// allocates nothing per record: Records' PartitionKey, Data and even Seq
// (a string over the arena) are valid only until the next Next on the
// cursor. A waiting Next polls the shard's end every 5 ms.
//
// MillisBehind is computed as the Kinesis API does: 0 when the batch
// reaches the newest visible record, else the wall clock minus the arrival
// of the batch's last record.
//
// Trimmed is exact: offsets in a shard are dense, so any offset between the
// cursor's position and the first record returned is a record retention
// removed. A cursor opened with after == "" (TRIM_HORIZON) does not report
// what expired before its first read.
func NewEmbedded(store *streamlog.Store) Reader {
	return &embedded{store: store}
}

func (e *embedded) stream(name string) (*streamlog.Stream, error) {
	st, err := e.store.Stream(name)
	if errors.Is(err, streamlog.ErrStreamNotFound) {
		return nil, fmt.Errorf("cannot read stream %q: %w", name, ErrStreamNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read stream %q: %w", name, err)
	}
	return st, nil
}

// Describe implements Reader.
func (e *embedded) Describe(ctx context.Context, stream string) (Description, error) {
	st, err := e.stream(stream)
	if err != nil {
		return Description{}, err
	}
	shards := st.Shards()
	d := Description{Shards: make([]string, len(shards)), Created: st.Info().Created.UnixMilli()}
	for i, sh := range shards {
		d.Shards[i] = sh.ID()
	}
	return d, nil
}

// Open implements Reader.
func (e *embedded) Open(ctx context.Context, stream, shard, after string) (Cursor, error) {
	st, err := e.stream(stream)
	if err != nil {
		return nil, err
	}
	sh, ok := st.ShardByID(shard)
	if !ok {
		return nil, fmt.Errorf("cannot open shard %q of stream %q: %w", shard, stream, ErrShardNotFound)
	}
	c := &embeddedCursor{sh: sh, index: uint32(sh.Index())}
	if after != "" {
		q, err := streamlog.ParseSeq(after)
		if err != nil || q.Shard != c.index || q.Gen < sh.StartingSeq().Gen {
			return nil, fmt.Errorf("cannot open shard %q of stream %q after %q: %w", shard, stream, after, ErrBadSequence)
		}
		c.next = q.Offset + 1
		c.checkGap = true
	}
	return c, nil
}

type embeddedCursor struct {
	sh    *streamlog.Shard
	index uint32
	next  uint64 // the offset to read next
	// checkGap: a gap before the next record read is a loss to report.
	// False for a TRIM_HORIZON cursor until its first read moves on.
	checkGap bool
	closed   bool

	buf  []byte
	recs []streamlog.Record
	out  []Record
	seqs []byte // the arena the batch's Seq strings point into

	prefix    [seqPrefixLen]byte
	prefixGen uint64
	hasPrefix bool
}

// Next implements Cursor.
func (c *embeddedCursor) Next(ctx context.Context, limit int, wait time.Duration) (Batch, error) {
	if c.closed {
		return Batch{}, ErrClosed
	}
	if limit <= 0 {
		return Batch{}, fmt.Errorf("cannot read shard %s: max must be positive, not %d", c.sh.ID(), limit)
	}
	if err := ctx.Err(); err != nil {
		return Batch{}, err
	}
	if c.buf == nil {
		c.buf = make([]byte, 0, EmbeddedReadBuffer)
	}
	var (
		b        Batch
		deadline time.Time
	)
	for {
		res, err := c.sh.Read(c.next, limit, math.MaxInt, c.buf, c.recs)
		if errors.Is(err, streamlog.ErrStreamDeleted) {
			return Batch{}, fmt.Errorf("cannot read shard %s of stream %q: it was deleted: %w", c.sh.ID(), c.sh.Stream().Name(), ErrStreamNotFound)
		}
		if err != nil {
			return Batch{}, fmt.Errorf("cannot read shard %s: %w", c.sh.ID(), err)
		}
		c.recs = res.Records
		first := res.Next
		if len(res.Records) > 0 {
			first = res.Records[0].Offset
		}
		if first > c.next && c.checkGap {
			b.Trimmed = true
		}
		if res.Next > c.next {
			c.checkGap = true
		}
		progressed := res.Next > c.next
		c.next = res.Next
		if len(res.Records) > 0 {
			c.fill(&b, res.Records)
			if !res.AtEnd {
				b.MillisBehind = max(0, time.Now().UnixMilli()-res.Records[len(res.Records)-1].Arrival)
			}
			return b, nil
		}
		if !res.AtEnd {
			if !progressed {
				return Batch{}, fmt.Errorf("BUG: reading shard %s at offset %d made no progress", c.sh.ID(), c.next)
			}
			continue // all it read had expired; read on
		}
		if wait <= 0 {
			return b, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(wait)
		}
		for c.sh.End() <= c.next {
			d := time.Until(deadline)
			if d <= 0 {
				return b, nil
			}
			if err := sleep(ctx, min(d, embeddedPoll)); err != nil {
				return Batch{}, err
			}
		}
	}
}

// fill makes b.Records from recs, building each sequence number into the
// cursor's arena.
func (c *embeddedCursor) fill(b *Batch, recs []streamlog.Record) {
	if need := len(recs) * streamlog.SeqLen; cap(c.seqs) < need {
		c.seqs = make([]byte, 0, max(need, 2*cap(c.seqs)))
	}
	// The arena must not grow below: earlier Seq strings point into it.
	seqs := c.seqs[:0]
	out := c.out[:0]
	for i := range recs {
		r := &recs[i]
		if !c.hasPrefix || r.Gen != c.prefixGen {
			var full [streamlog.SeqLen]byte
			streamlog.Seq{Gen: r.Gen, Shard: c.index}.AppendTo(full[:0])
			copy(c.prefix[:], full[:])
			c.prefixGen, c.hasPrefix = r.Gen, true
		}
		at := len(seqs)
		seqs = append(seqs, c.prefix[:]...)
		seqs = streamlog.AppendOffset(seqs, r.Offset)
		out = append(out, Record{
			Seq:          unsafe.String(&seqs[at], streamlog.SeqLen),
			Arrival:      r.Arrival,
			PartitionKey: r.PartitionKey,
			Data:         r.Data,
		})
	}
	c.seqs, c.out = seqs, out
	b.Records = out
}

// Close implements Cursor.
func (c *embeddedCursor) Close() error {
	c.closed = true
	c.buf, c.recs, c.out, c.seqs = nil, nil, nil, nil
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
