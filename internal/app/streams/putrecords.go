package streams

// PutRecords.
//
// Behavior: as AWS: 1 to 500 records and at most 5 MiB of data and keys per
// request; each record is routed like PutRecord, records for the same shard
// keep their request order, and the reply lists a result per record in
// request order, with FailedRecordCount. A record fails alone, with
// ErrorCode ProvisionedThroughputExceededException, when its shard cannot
// take the write or exceeds its quota under --shard-limits aws; the others
// are still written. Each shard's records are group-committed with other
// requests' and are durable before the reply. JSON requests are decoded by
// a hand-written, allocation-free decoder (awswire.PutRecordsRequest).

import (
	"strconv"
	"sync"

	"github.com/tenantpulse/tenantpulse/internal/awswire"
	"github.com/tenantpulse/tenantpulse/internal/streamlog"
)

const (
	maxPutRecords      = 500
	maxPutRecordsBytes = 5 << 20
)

type putRecordsResultEntry struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int                     `json:"FailedRecordCount"`
	Records           []putRecordsResultEntry `json:"Records"`
	EncryptionType    string                  `json:"EncryptionType"`
}

// putScratch is reused across PutRecords requests.
type putScratch struct {
	req       awswire.PutRecordsRequest
	shardOf   []int32 // record -> shard index, -1 if failed before writing
	posOf     []int32 // record -> position in its shard's batch
	entries   [][]streamlog.Entry
	seqs      [][]streamlog.Seq
	errs      []error
	out       []byte
	prefixes  []seqPrefix   // per shard
	fails     []recordError // per shard: why its records failed, if they did
	quotaFail recordError   // why a record over its shard's quota failed
}

var putPool = sync.Pool{New: func() any { return new(putScratch) }}

func (s *Service) putRecords(c *call) error {
	ps := putPool.Get().(*putScratch)
	defer putPool.Put(ps)
	req := &ps.req
	if err := req.Decode(c.codec, c.body); err != nil {
		return err
	}
	n := len(req.Records)
	if n < 1 || n > maxPutRecords {
		return validationf(n, "records", "have length between 1 and 500")
	}
	total := 0
	for i := range req.Records {
		total += len(req.Records[i].Data) + len(req.Records[i].PartitionKey)
	}
	if total > maxPutRecordsBytes {
		return awswire.Errorf(awswire.InvalidArgument, "Records size exceeds 5 MB limit: the request holds %d bytes of data and partition keys.", total)
	}
	st, err := s.resolveStream(req.StreamName, req.StreamARN)
	if err != nil {
		return err
	}
	shards := st.Shards()
	ps.shardOf = resize(ps.shardOf, n)
	ps.posOf = resize(ps.posOf, n)
	if cap(ps.entries) < len(shards) {
		ps.entries = make([][]streamlog.Entry, len(shards))
		ps.seqs = make([][]streamlog.Seq, len(shards))
		ps.errs = make([]error, len(shards))
	}
	ps.entries, ps.seqs, ps.errs = ps.entries[:len(shards)], ps.seqs[:len(shards)], ps.errs[:len(shards)]
	for i := range shards {
		ps.entries[i] = ps.entries[i][:0]
		ps.errs[i] = nil
	}
	// Validate every record before any is charged or written: a request
	// with one bad record is refused whole.
	for i := range req.Records {
		r := &req.Records[i]
		key, err := s.checkRecord(i, r.PartitionKey, r.HasData, len(r.Data), r.ExplicitHashKey)
		if err != nil {
			return err
		}
		ps.shardOf[i] = int32(st.ShardFor(key).Index())
	}
	for i := range req.Records {
		r := &req.Records[i]
		k := int(ps.shardOf[i])
		if s.limits != nil && !s.limits.allowPut(st.Name(), shards[k].ID(), len(r.Data)+len(r.PartitionKey)) {
			ps.shardOf[i] = -1
			continue
		}
		ps.posOf[i] = int32(len(ps.entries[k]))
		ps.entries[k] = append(ps.entries[k], streamlog.Entry{PartitionKey: r.PartitionKey, Data: r.Data})
	}
	// Queue every shard's batch first so they commit in parallel, then wait.
	var commits [8]*streamlog.Commit
	cs := commits[:0]
	for k, sh := range shards {
		if len(ps.entries[k]) == 0 {
			cs = append(cs, nil)
			continue
		}
		ps.seqs[k] = resize(ps.seqs[k], len(ps.entries[k]))
		cm, _, err := sh.Enqueue(ps.entries[k], ps.seqs[k])
		ps.errs[k] = err
		cs = append(cs, cm)
	}
	for k, cm := range cs {
		if cm != nil {
			ps.errs[k] = cm.Wait()
		}
	}
	// Each shard's failure becomes an error code and message once, not
	// once per record.
	ps.fails = resize(ps.fails, len(shards))
	for k, err := range ps.errs {
		ps.fails[k] = recordError{}
		if err != nil {
			ps.fails[k] = toRecordError(err)
		}
	}
	ps.quotaFail = recordError{code: awswire.ProvisionedThroughputExceeded,
		msg: "Rate exceeded for shard in stream " + st.Name() + " under account " + Account + "."}
	failed := 0
	for i := range req.Records {
		if ps.failure(i).code != "" {
			failed++
		}
	}
	s.records.WithLabelValues(st.Name(), "in").Add(float64(n - failed))
	if c.codec == awswire.JSON {
		ps.out = appendPutRecordsJSON(ps.out[:0], ps, shards, failed)
		awswire.WriteRaw(c.w, c.codec, c.reqID, ps.out)
		return nil
	}
	out := putRecordsOutput{FailedRecordCount: failed, Records: make([]putRecordsResultEntry, n), EncryptionType: "NONE"}
	for i := range req.Records {
		if f := ps.failure(i); f.code != "" {
			out.Records[i] = putRecordsResultEntry{ErrorCode: f.code, ErrorMessage: f.msg}
			continue
		}
		k := ps.shardOf[i]
		out.Records[i] = putRecordsResultEntry{SequenceNumber: ps.seqs[k][ps.posOf[i]].String(), ShardId: shards[k].ID()}
	}
	return c.reply(&out)
}

// recordError is why a record of a PutRecords was not written.
type recordError struct{ code, msg string }

func toRecordError(err error) recordError {
	if e, ok := mapStoreError(err).(*awswire.Error); ok {
		return recordError{code: e.Type, msg: e.Message}
	}
	return recordError{code: awswire.InternalFailure, msg: "Internal service failure."}
}

// failure returns why record i was not written, or a zero recordError.
func (ps *putScratch) failure(i int) recordError {
	if k := ps.shardOf[i]; k >= 0 {
		return ps.fails[k]
	}
	return ps.quotaFail
}

func appendPutRecordsJSON(b []byte, ps *putScratch, shards []*streamlog.Shard, failed int) []byte {
	b = append(b, `{"FailedRecordCount":`...)
	b = strconv.AppendInt(b, int64(failed), 10)
	b = append(b, `,"Records":[`...)
	ps.prefixes = resize(ps.prefixes, len(shards))
	for i := range ps.prefixes {
		ps.prefixes[i].valid = false
	}
	for i := range ps.req.Records {
		if i > 0 {
			b = append(b, ',')
		}
		if f := ps.failure(i); f.code != "" {
			b = append(b, `{"ErrorCode":`...)
			b = awswire.AppendString(b, f.code)
			b = append(b, `,"ErrorMessage":`...)
			b = awswire.AppendString(b, f.msg)
			b = append(b, '}')
			continue
		}
		k := ps.shardOf[i]
		b = append(b, `{"SequenceNumber":"`...)
		b = appendSeq(b, ps.seqs[k][ps.posOf[i]], &ps.prefixes[k])
		b = append(b, `","ShardId":"`...)
		b = append(b, shards[k].ID()...)
		b = append(b, `"}`...)
	}
	return append(b, `],"EncryptionType":"NONE"}`...)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// seqPrefix caches the first 36 digits of a sequence number (49, the
// generation and the shard), which records of one shard and writer share.
type seqPrefix struct {
	valid  bool
	gen    uint64
	shard  uint32
	digits []byte
}

func appendSeq(b []byte, q streamlog.Seq, p *seqPrefix) []byte {
	if !p.valid || p.gen != q.Gen || p.shard != q.Shard {
		p.digits = q.AppendTo(p.digits[:0])[:streamlog.SeqLen-20]
		p.valid, p.gen, p.shard = true, q.Gen, q.Shard
	}
	b = append(b, p.digits...)
	return streamlog.AppendOffset(b, q.Offset)
}
