package parquetfile

import (
	"sync"
	"unsafe"

	"github.com/tenantpulse/tenantpulse/internal/event"
)

// EventBatch holds the rows of an events file in memory the garbage
// collector need not scan: each record's bytes, one after another in
// chunks, and per row a fixed-size struct of numbers and of offsets into a
// chunk. Buffering EventRows instead (strings and pointers) costs several
// times more CPU in allocation, slice growth and marking. Chunks and
// blocks of rows come from pools shared by all batches and go back on
// Reset, so a batch never grows by copying. A batch's first chunk and
// block are small (4 KiB and 16 rows), so thousands of small batches, one
// per open partition, cost little.
//
// Add rows, write them with EventWriter.WriteBatch, Reset to give the
// memory back. An EventBatch is not safe for concurrent use.
type EventBatch struct {
	stream, shard string
	chunks        [][]byte      // the last one is being filled
	blocks        [][]packedRow // the first of smallBlockRows, then of blockRows
	n             int
	held          int64 // bytes of chunks and blocks
}

// The sizes of pooled chunks: a batch's first chunk is small, the others
// big; a record that needs more than a big chunk gets one of its own.
const (
	smallChunk = 4 << 10
	chunkSize  = 64 << 10
)

// The rows of pooled blocks: a batch's first block is small.
const (
	smallBlockRows = 16
	blockRows      = 256
)

var (
	smallChunkPool = sync.Pool{New: func() any { return new([smallChunk]byte) }}
	chunkPool      = sync.Pool{New: func() any { return new([chunkSize]byte) }}
	smallBlockPool = sync.Pool{New: func() any { return new([smallBlockRows]packedRow) }}
	blockPool      = sync.Pool{New: func() any { return new([blockRows]packedRow) }}
)

// span is a string in a row's chunk.
type span struct{ off, n uint32 }

// The strings of a packed row, by index.
const (
	sID = iota
	sSource
	sTenant
	sSubject
	sData
	sName
	sIndustry
	sSentiment
	sPlan
	sReason
	sUser
	sSession
	sJob
	sStatus
	sSeq
	nSpans
)

// The nullable attributes of a packed row that are present.
const (
	hasSubject = 1 << iota
	hasData
	hasReceived
)

type packedRow struct {
	str                             [nSpans]span
	time, received, arrival         int64 // Unix microseconds
	revenue, monthlyFee             float64
	employees, dataSize, durationMs int64
	chunk                           uint32 // where the strings are
	fields                          event.Field
	typ                             event.Type
	has                             uint8
}

// NewEventBatch returns an empty batch of rows of one stream's shard.
func NewEventBatch(stream, shard string) *EventBatch {
	return &EventBatch{stream: stream, shard: shard}
}

// Len returns the number of rows.
func (b *EventBatch) Len() int { return b.n }

// Reset empties the batch for rows of stream's shard and gives its memory
// back to the pools. Strings from WriteBatch's rows are invalid after it.
func (b *EventBatch) Reset(stream, shard string) {
	b.stream, b.shard = stream, shard
	for i, c := range b.chunks {
		switch cap(c) {
		case smallChunk:
			smallChunkPool.Put((*[smallChunk]byte)(c[:smallChunk]))
		case chunkSize:
			chunkPool.Put((*[chunkSize]byte)(c[:chunkSize]))
		}
		b.chunks[i] = nil
	}
	b.chunks = b.chunks[:0]
	for i, blk := range b.blocks {
		switch len(blk) {
		case smallBlockRows:
			smallBlockPool.Put((*[smallBlockRows]packedRow)(blk))
		case blockRows:
			blockPool.Put((*[blockRows]packedRow)(blk))
		}
		b.blocks[i] = nil
	}
	b.blocks = b.blocks[:0]
	b.n = 0
	b.held = 0
}

func (b *EventBatch) row(i int) *packedRow {
	if i < smallBlockRows {
		return &b.blocks[0][i]
	}
	i -= smallBlockRows
	return &b.blocks[1+i/blockRows][i%blockRows]
}

// rowSize is the memory of a row, without its strings.
const rowSize = int64(unsafe.Sizeof(packedRow{}))

// Bytes returns the memory the batch holds.
func (b *EventBatch) Bytes() int64 { return b.held }

// Seq returns the sequence number of row i.
func (b *EventBatch) Seq(i int) string {
	r := b.row(i)
	return string(b.bytes(r.chunk, r.str[sSeq]))
}

// Add appends the row of a decoded event (e must come from a successful
// Decode) at sequence number seq, arrived at arrivalMs (Unix
// milliseconds), as EventRowFrom would fill it. The batch copies what it
// keeps.
func (b *EventBatch) Add(e *event.Event, seq string, arrivalMs int64) {
	raw := e.Raw
	// The record's bytes, its strings that needed unescaping (at most as
	// long) and the sequence number all go in one chunk.
	need := 2*len(raw) + len(seq)
	ci := len(b.chunks) - 1
	if ci < 0 || cap(b.chunks[ci])-len(b.chunks[ci]) < need {
		var c []byte
		switch {
		case ci < 0 && need <= smallChunk:
			c = smallChunkPool.Get().(*[smallChunk]byte)[:0]
		case need <= chunkSize:
			c = chunkPool.Get().(*[chunkSize]byte)[:0]
		default:
			c = make([]byte, 0, need)
		}
		b.chunks = append(b.chunks, c)
		b.held += int64(cap(c))
		ci++
	}
	switch {
	case b.n == 0:
		b.blocks = append(b.blocks, smallBlockPool.Get().(*[smallBlockRows]packedRow)[:])
		b.held += smallBlockRows * rowSize
	case b.n >= smallBlockRows && (b.n-smallBlockRows)%blockRows == 0:
		b.blocks = append(b.blocks, blockPool.Get().(*[blockRows]packedRow)[:])
		b.held += blockRows * rowSize
	}
	c := b.chunks[ci]
	base := len(c)
	c = append(c, raw...)
	r := b.row(b.n)
	*r = packedRow{
		time:    floorDiv(e.Time, 1000),
		arrival: arrivalMs * 1000,
		chunk:   uint32(ci),
		typ:     e.Type,
	}
	// Most strings are in the record's bytes, just copied; the others
	// (unescaped into the decoder's scratch) are copied after them.
	put := func(i int, s []byte) {
		if len(s) == 0 {
			return
		}
		if off, ok := within(raw, s); ok {
			r.str[i] = span{uint32(base + off), uint32(len(s))}
			return
		}
		r.str[i] = span{uint32(len(c)), uint32(len(s))}
		c = append(c, s...)
	}
	put(sID, e.ID)
	put(sSource, e.Source)
	put(sTenant, e.TenantID)
	if e.Subject != nil {
		r.has |= hasSubject
		put(sSubject, e.Subject)
	}
	if e.RawData != nil {
		r.has |= hasData
		put(sData, e.RawData)
	}
	if e.ReceivedTime != 0 {
		r.has |= hasReceived
		r.received = floorDiv(e.ReceivedTime, 1000)
	}
	d := &e.Data
	r.fields = d.Has
	if d.Has != 0 {
		put(sName, d.Name)
		put(sIndustry, d.Industry)
		put(sSentiment, d.Sentiment)
		put(sPlan, d.Plan)
		put(sReason, d.Reason)
		put(sUser, d.UserID)
		put(sSession, d.SessionID)
		put(sJob, d.JobID)
		put(sStatus, d.Status)
		r.revenue, r.monthlyFee = d.Revenue, d.MonthlyFee
		r.employees, r.dataSize, r.durationMs = d.Employees, d.DataSize, d.DurationMs
	}
	r.str[sSeq] = span{uint32(len(c)), uint32(len(seq))}
	c = append(c, seq...)
	b.chunks[ci] = c
	b.n++
}

// within reports where s is in raw, if it is.
func within(raw, s []byte) (int, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	off := uintptr(unsafe.Pointer(unsafe.SliceData(s))) - uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	return int(off), off <= uintptr(len(raw)) && uintptr(len(s)) <= uintptr(len(raw))-off
}

func (b *EventBatch) bytes(chunk uint32, s span) []byte {
	return b.chunks[chunk][s.off : s.off+s.n]
}

// str returns a string that aliases a chunk: valid until the batch is
// reset.
func (b *EventBatch) str(chunk uint32, s span) string {
	if s.n == 0 {
		return ""
	}
	return unsafe.String(&b.chunks[chunk][s.off], int(s.n))
}

// rowsChunk is how many rows WriteBatch materializes at a time.
const rowsChunk = 512

// rowScratch is the memory WriteBatch materializes rows in.
type rowScratch struct {
	rows [rowsChunk]EventRow
	vals [rowsChunk]nullables
}

// WriteBatch appends the batch's rows to the file. The writer copies what
// it needs: the batch may be reset once WriteBatch returns.
func (w *EventWriter) WriteBatch(b *EventBatch) error {
	if w.scratch == nil {
		w.scratch = new(rowScratch)
	}
	sc := w.scratch
	for start := 0; start < b.n; start += rowsChunk {
		n := min(rowsChunk, b.n-start)
		for i := range n {
			b.fill(&sc.rows[i], &sc.vals[i], b.row(start+i))
		}
		err := w.fw.write(sc.rows[:n])
		clear(sc.rows[:n]) // no pointers into the chunks stay behind
		if err != nil {
			return err
		}
	}
	return nil
}

// fill sets r from p, with r's pointers into v.
func (b *EventBatch) fill(r *EventRow, v *nullables, p *packedRow) {
	*r = EventRow{
		ID:             b.str(p.chunk, p.str[sID]),
		Source:         b.str(p.chunk, p.str[sSource]),
		Type:           p.typ.String(),
		SpecVersion:    "1.0",
		Time:           p.time,
		TenantID:       b.str(p.chunk, p.str[sTenant]),
		Stream:         b.stream,
		Shard:          b.shard,
		SequenceNumber: b.str(p.chunk, p.str[sSeq]),
		Arrival:        p.arrival,
	}
	if p.has&hasSubject != 0 {
		v.subject = b.str(p.chunk, p.str[sSubject])
		r.Subject = &v.subject
	}
	if p.has&hasReceived != 0 {
		v.received = p.received
		r.ReceivedTime = &v.received
	}
	if p.has&hasData != 0 {
		v.d = b.str(p.chunk, p.str[sData])
		r.Data = &v.d
	}
	f := p.fields
	if f == 0 {
		return
	}
	str := func(field event.Field, i int, dst *string, ptr **string) {
		if f&field != 0 {
			*dst = b.str(p.chunk, p.str[i])
			*ptr = dst
		}
	}
	str(event.FieldName, sName, &v.name, &r.Name)
	str(event.FieldIndustry, sIndustry, &v.industry, &r.Industry)
	str(event.FieldSentiment, sSentiment, &v.sentiment, &r.Sentiment)
	str(event.FieldPlan, sPlan, &v.plan, &r.Plan)
	str(event.FieldReason, sReason, &v.reason, &r.Reason)
	str(event.FieldUserID, sUser, &v.userID, &r.UserID)
	str(event.FieldSessionID, sSession, &v.sessionID, &r.SessionID)
	str(event.FieldJobID, sJob, &v.jobID, &r.JobID)
	str(event.FieldStatus, sStatus, &v.status, &r.Status)
	if f&event.FieldRevenue != 0 {
		v.revenue = p.revenue
		r.Revenue = &v.revenue
	}
	if f&event.FieldMonthlyFee != 0 {
		v.monthlyFee = p.monthlyFee
		r.MonthlyFee = &v.monthlyFee
	}
	if f&event.FieldEmployees != 0 {
		v.employees = p.employees
		r.Employees = &v.employees
	}
	if f&event.FieldDataSize != 0 {
		v.dataSize = p.dataSize
		r.DataSize = &v.dataSize
	}
	if f&event.FieldDurationMs != 0 {
		v.durationMs = p.durationMs
		r.DurationMs = &v.durationMs
	}
}
