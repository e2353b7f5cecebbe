package streams

// GetRecords.
//
// Behavior: as AWS: up to Limit records (default and maximum 10,000) and
// 10 MiB of data from the iterator's position, a NextShardIterator (shards
// never close here, so it is always present), and a real
// MillisBehindLatest: 0 when the response reaches the newest visible record,
// else how long ago the last returned record arrived. Records past
// retention are skipped. Only durable records are returned (with --fsync
// interval, records are returned once synced). Iterators expire after 5
// minutes (ExpiredIteratorException); one wrapped in double quotes, as the
// AWS CLI's --query leaves it, is accepted. Responses, JSON and CBOR, are
// built by hand without per-record allocations, from records read in 2 MiB
// chunks as needed. Under --shard-limits aws, 5 calls and 2 MiB per second
// per shard, as AWS.

import (
	"strconv"
	"sync"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

type getRecordsInput struct {
	ShardIterator string `json:"ShardIterator"`
	Limit         *int32 `json:"Limit"`
	StreamARN     string `json:"StreamARN"`
}

const (
	maxGetRecords     = 10000
	maxGetRecordBytes = 10 << 20
)

// readChunk is the size of one read buffer. A GetRecords reads into as
// many as it needs (up to 10 MiB of records), so a typical response uses one
// and memory stays proportional to what is actually returned.
const readChunk = 2<<20 + streamlog.MinReadBuffer

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, readChunk); return &b }}

type getScratch struct {
	chunks []*[]byte
	recs   []streamlog.Record
	out    []byte
}

var getPool = sync.Pool{New: func() any { return new(getScratch) }}

func (gs *getScratch) release() {
	for _, b := range gs.chunks {
		chunkPool.Put(b)
	}
	gs.chunks = gs.chunks[:0]
	clear(gs.recs) // drop references into the chunks
	gs.recs = gs.recs[:0]
	if cap(gs.out) > 16<<20 {
		gs.out = nil
	}
	getPool.Put(gs)
}

// read reads up to limit records and maxGetRecordBytes from off, chunk by
// chunk, into gs.recs.
func (gs *getScratch) read(sh *streamlog.Shard, off uint64, limit int) (streamlog.ReadResult, error) {
	total := streamlog.ReadResult{Next: off}
	bytes := 0
	for {
		chunk := chunkPool.Get().(*[]byte)
		gs.chunks = append(gs.chunks, chunk)
		res, err := sh.Read(total.Next, limit-len(gs.recs), maxGetRecordBytes-bytes, (*chunk)[:0], gs.recs[len(gs.recs):])
		if err != nil {
			return total, err
		}
		for _, r := range res.Records {
			bytes += len(r.Data) + len(r.PartitionKey)
		}
		gs.recs = append(gs.recs, res.Records...)
		total.Next, total.AtEnd, total.End = res.Next, res.AtEnd, res.End
		if res.AtEnd || len(res.Records) == 0 || len(gs.recs) >= limit || bytes >= maxGetRecordBytes-streamlog.MinReadBuffer {
			total.Records = gs.recs
			return total, nil
		}
	}
}

func (s *Service) getRecords(c *call) error {
	var in getRecordsInput
	if err := c.decode(&in); err != nil {
		return err
	}
	if in.ShardIterator == "" {
		return validationf("null", "shardIterator", "not be null")
	}
	if err := validateLimit(in.Limit, "limit", 1, maxGetRecords); err != nil {
		return err
	}
	now := s.opts.Now()
	it, err := s.iters.decode(in.ShardIterator, now)
	if err != nil {
		return err
	}
	st, err := s.store.Stream(it.stream)
	if err != nil || st.Info().Created.UnixMilli() != it.created {
		return notFound(it.stream)
	}
	if in.StreamARN != "" {
		if name, err := parseStreamARN(in.StreamARN); err != nil {
			return err
		} else if name != it.stream {
			return awswire.Errorf(awswire.InvalidArgument, "StreamARN %s does not match the stream of the shard iterator.", in.StreamARN)
		}
	}
	if it.shard >= len(st.Shards()) {
		return awswire.Errorf(awswire.InvalidArgument, "Invalid ShardIterator: its shard does not exist.")
	}
	sh := st.Shards()[it.shard]
	if s.limits != nil && !s.limits.allowGet(st.Name(), sh.ID()) {
		return throttledShard(st.Name(), sh.ID())
	}
	limit := maxGetRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	gs := getPool.Get().(*getScratch)
	defer gs.release()
	res, err := gs.read(sh, it.offset, limit)
	if err != nil {
		return err
	}
	var behind int64
	if !res.AtEnd && len(res.Records) > 0 {
		behind = max(0, now.UnixMilli()-res.Records[len(res.Records)-1].Arrival)
	}
	if s.limits != nil {
		bytes := 0
		for i := range res.Records {
			bytes += len(res.Records[i].Data)
		}
		s.limits.chargeGet(st.Name(), sh.ID(), bytes)
	}
	s.records.WithLabelValues(st.Name(), "out").Add(float64(len(res.Records)))
	next := s.iters.encode(iterator{stream: it.stream, created: it.created, shard: it.shard, offset: res.Next, issuedAt: now.UnixMilli()})
	if c.codec == awswire.JSON {
		gs.out = appendGetRecordsJSON(gs.out[:0], res.Records, sh.Index(), next, behind)
		awswire.WriteRaw(c.w, c.codec, c.reqID, gs.out)
		return nil
	}
	gs.out = appendGetRecordsCBOR(gs.out[:0], res.Records, sh.Index(), next, behind)
	awswire.WriteRaw(c.w, c.codec, c.reqID, gs.out)
	return nil
}

// appendGetRecordsCBOR builds the CBOR response by hand, as the Java SDK v2
// and the KCL read it: blobs as byte strings, timestamps as tag 1 with
// integer milliseconds.
func appendGetRecordsCBOR(b []byte, recs []streamlog.Record, shard int, next string, behind int64) []byte {
	b = awswire.AppendCBORMapHeader(b, 3)
	b = awswire.AppendCBORText(b, "Records")
	b = awswire.AppendCBORArrayHeader(b, len(recs))
	for i := range recs {
		r := &recs[i]
		b = awswire.AppendCBORMapHeader(b, 4)
		b = awswire.AppendCBORText(b, "SequenceNumber")
		b = append(b, 0x78, streamlog.SeqLen) // text string of 56 bytes
		b = streamlog.Seq{Gen: r.Gen, Shard: uint32(shard), Offset: r.Offset}.AppendTo(b)
		b = awswire.AppendCBORText(b, "ApproximateArrivalTimestamp")
		b = awswire.AppendTimestampCBOR(b, r.Arrival)
		b = awswire.AppendCBORText(b, "Data")
		b = awswire.AppendCBORBytes(b, r.Data)
		b = awswire.AppendCBORText(b, "PartitionKey")
		b = awswire.AppendCBORTextBytes(b, r.PartitionKey)
	}
	b = awswire.AppendCBORText(b, "NextShardIterator")
	b = awswire.AppendCBORText(b, next)
	b = awswire.AppendCBORText(b, "MillisBehindLatest")
	return awswire.AppendCBORInt(b, behind)
}

func appendGetRecordsJSON(b []byte, recs []streamlog.Record, shard int, next string, behind int64) []byte {
	b = append(b, `{"Records":[`...)
	for i := range recs {
		r := &recs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"SequenceNumber":"`...)
		b = streamlog.Seq{Gen: r.Gen, Shard: uint32(shard), Offset: r.Offset}.AppendTo(b)
		b = append(b, `","ApproximateArrivalTimestamp":`...)
		b = awswire.AppendTimestampSeconds(b, r.Arrival)
		b = append(b, `,"Data":`...)
		b = awswire.AppendBase64(b, r.Data)
		b = append(b, `,"PartitionKey":`...)
		b = awswire.AppendBytesString(b, r.PartitionKey)
		b = append(b, '}')
	}
	b = append(b, `],"NextShardIterator":"`...)
	b = append(b, next...)
	b = append(b, `","MillisBehindLatest":`...)
	b = strconv.AppendInt(b, behind, 10)
	return append(b, '}')
}
