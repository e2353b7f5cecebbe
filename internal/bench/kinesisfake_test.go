package bench

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKinesis is a minimal in-memory Kinesis Data Streams server speaking
// the JSON 1.1 wire protocol, for this package's own tests only.
//
// Behavior: CreateStream, DescribeStreamSummary (CREATING on the first call,
// then ACTIVE), ListShards (one shard per page, to exercise NextToken),
// PutRecords, GetShardIterator (TRIM_HORIZON, LATEST), GetRecords and
// DeleteStream. It injects faults so the benchmark's retry paths run:
// every 4th PutRecords call fails every 7th entry with
// ProvisionedThroughputExceededException, and unsigned (raw-mode) requests
// are throttled whole now and then. GET /metrics serves fake process
// metrics. Iterators contain '<' and '>' so that Go's JSON encoder escapes
// them, which checks that raw mode copies iterator tokens verbatim.
type fakeKinesis struct {
	mu          sync.Mutex
	streams     map[string]*fakeStream
	seq         int64
	putCalls    int
	getCalls    int
	cpu         float64
	signedPuts  int
	unsignedPut int
	// failPut, if set, is the __type every PutRecords call fails with.
	failPut string
}

type fakeStream struct {
	describes int
	shards    []*fakeShard
}

type fakeShard struct {
	id   string
	recs []fakeRecord
}

type fakeRecord struct {
	seq  string
	key  string
	data []byte
	at   time.Time
}

func newFakeKinesis(t *testing.T) (*fakeKinesis, *httptest.Server) {
	t.Helper()
	f := &fakeKinesis{streams: map[string]*fakeStream{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

type fakeError struct {
	status int
	typ    string
	msg    string
}

func (f *fakeKinesis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cpu += 0.0002
	if r.Method == http.MethodGet && r.URL.Path == "/metrics" {
		fmt.Fprintf(w, "# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %g\nprocess_resident_memory_bytes %d\n", f.cpu, 90<<20)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		writeFakeErr(w, &fakeError{404, "UnknownOperationException", "no such route"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != contentTypeJSON11 {
		writeFakeErr(w, &fakeError{400, "SerializationException", "bad Content-Type " + ct})
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	if !ok {
		writeFakeErr(w, &fakeError{400, "UnknownOperationException", "bad X-Amz-Target"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeFakeErr(w, &fakeError{400, "SerializationException", err.Error()})
		return
	}
	signed := strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	var (
		resp any
		ferr *fakeError
	)
	switch op {
	case "CreateStream":
		resp, ferr = f.createStream(body)
	case "DescribeStreamSummary":
		resp, ferr = f.describeStreamSummary(body)
	case "ListShards":
		resp, ferr = f.listShards(body)
	case "PutRecords":
		resp, ferr = f.putRecords(body, signed)
	case "GetShardIterator":
		resp, ferr = f.getShardIterator(body)
	case "GetRecords":
		resp, ferr = f.getRecords(body, signed)
	case "DeleteStream":
		resp, ferr = f.deleteStream(body)
	default:
		ferr = &fakeError{400, "UnknownOperationException", "unsupported operation " + op}
	}
	if ferr != nil {
		writeFakeErr(w, ferr)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON11)
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		panic(err)
	}
}

func writeFakeErr(w http.ResponseWriter, e *fakeError) {
	w.Header().Set("Content-Type", contentTypeJSON11)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.msg})
}

func decodeFake(body []byte, v any) *fakeError {
	if err := json.Unmarshal(body, v); err != nil {
		return &fakeError{400, "SerializationException", err.Error()}
	}
	return nil
}

func (f *fakeKinesis) stream(name string) (*fakeStream, *fakeError) {
	s := f.streams[name]
	if s == nil {
		return nil, &fakeError{400, "ResourceNotFoundException", fmt.Sprintf("Stream %s under account 000000000000 not found.", name)}
	}
	return s, nil
}

func (f *fakeKinesis) createStream(body []byte) (any, *fakeError) {
	var in struct {
		StreamName string
		ShardCount int
	}
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	if f.streams[in.StreamName] != nil {
		return nil, &fakeError{400, "ResourceInUseException", fmt.Sprintf("Stream %s under account 000000000000 already exists.", in.StreamName)}
	}
	if in.ShardCount < 1 {
		return nil, &fakeError{400, "ValidationException", "ShardCount must be >= 1"}
	}
	s := &fakeStream{}
	for i := range in.ShardCount {
		s.shards = append(s.shards, &fakeShard{id: fmt.Sprintf("shardId-%012d", i)})
	}
	f.streams[in.StreamName] = s
	return struct{}{}, nil
}

func (f *fakeKinesis) describeStreamSummary(body []byte) (any, *fakeError) {
	var in struct{ StreamName string }
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	s, e := f.stream(in.StreamName)
	if e != nil {
		return nil, e
	}
	s.describes++
	status := "ACTIVE"
	if s.describes == 1 {
		status = "CREATING"
	}
	return map[string]any{"StreamDescriptionSummary": map[string]any{
		"StreamName":              in.StreamName,
		"StreamARN":               "arn:aws:kinesis:us-east-1:000000000000:stream/" + in.StreamName,
		"StreamStatus":            status,
		"RetentionPeriodHours":    24,
		"StreamCreationTimestamp": float64(time.Now().Unix()),
		"EnhancedMonitoring":      []any{map[string]any{"ShardLevelMetrics": []string{}}},
		"EncryptionType":          "NONE",
		"OpenShardCount":          len(s.shards),
	}}, nil
}

func (f *fakeKinesis) listShards(body []byte) (any, *fakeError) {
	var in struct{ StreamName, NextToken string }
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	name, pos := in.StreamName, 0
	if in.NextToken != "" {
		if in.StreamName != "" {
			return nil, &fakeError{400, "InvalidArgumentException", "NextToken and StreamName cannot be provided together."}
		}
		n, p, ok := strings.Cut(in.NextToken, "|")
		if !ok {
			return nil, &fakeError{400, "InvalidArgumentException", "bad NextToken"}
		}
		name, pos = n, atoiFake(p)
	}
	s, e := f.stream(name)
	if e != nil {
		return nil, e
	}
	sh := s.shards[pos]
	out := map[string]any{"Shards": []any{map[string]any{
		"ShardId":             sh.id,
		"HashKeyRange":        map[string]string{"StartingHashKey": "0", "EndingHashKey": "340282366920938463463374607431768211455"},
		"SequenceNumberRange": map[string]string{"StartingSequenceNumber": fmt.Sprintf("%056d", 0)},
	}}}
	if pos+1 < len(s.shards) {
		out["NextToken"] = fmt.Sprintf("%s|%d", name, pos+1)
	}
	return out, nil
}

func atoiFake(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func (f *fakeKinesis) putRecords(body []byte, signed bool) (any, *fakeError) {
	var in struct {
		StreamName string
		Records    []struct {
			Data         []byte
			PartitionKey string
		}
	}
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	s, e := f.stream(in.StreamName)
	if e != nil {
		return nil, e
	}
	if f.failPut != "" {
		return nil, &fakeError{400, f.failPut, "injected failure for every PutRecords"}
	}
	if signed {
		f.signedPuts++
	} else {
		f.unsignedPut++
	}
	f.putCalls++
	if !signed && f.putCalls%10 == 5 {
		return nil, &fakeError{400, "ProvisionedThroughputExceededException", "Rate exceeded for stream " + in.StreamName}
	}
	partial := f.putCalls%4 == 2
	type entry struct {
		SequenceNumber string `json:",omitempty"`
		ShardId        string `json:",omitempty"`
		ErrorCode      string `json:",omitempty"`
		ErrorMessage   string `json:",omitempty"`
	}
	out := struct {
		FailedRecordCount int
		Records           []entry
		EncryptionType    string
	}{EncryptionType: "NONE"}
	now := time.Now()
	for i, r := range in.Records {
		if partial && i%7 == 0 {
			out.FailedRecordCount++
			out.Records = append(out.Records, entry{ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded for shard"})
			continue
		}
		h := md5.Sum([]byte(r.PartitionKey))
		idx, _ := bits.Mul64(binary.BigEndian.Uint64(h[:8]), uint64(len(s.shards)))
		sh := s.shards[idx]
		f.seq++
		seq := fmt.Sprintf("%056d", f.seq)
		sh.recs = append(sh.recs, fakeRecord{seq: seq, key: r.PartitionKey, data: r.Data, at: now})
		out.Records = append(out.Records, entry{SequenceNumber: seq, ShardId: sh.id})
	}
	return out, nil
}

func fakeIterator(stream, shard string, pos int) string {
	return "<" + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s\x00%s\x00%d", stream, shard, pos)) + ">"
}

func (f *fakeKinesis) getShardIterator(body []byte) (any, *fakeError) {
	var in struct{ StreamName, ShardId, ShardIteratorType string }
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	s, e := f.stream(in.StreamName)
	if e != nil {
		return nil, e
	}
	for _, sh := range s.shards {
		if sh.id != in.ShardId {
			continue
		}
		switch in.ShardIteratorType {
		case "TRIM_HORIZON":
			return map[string]string{"ShardIterator": fakeIterator(in.StreamName, sh.id, 0)}, nil
		case "LATEST":
			return map[string]string{"ShardIterator": fakeIterator(in.StreamName, sh.id, len(sh.recs))}, nil
		}
		return nil, &fakeError{400, "InvalidArgumentException", "unsupported ShardIteratorType " + in.ShardIteratorType}
	}
	return nil, &fakeError{400, "ResourceNotFoundException", "no shard " + in.ShardId}
}

func (f *fakeKinesis) getRecords(body []byte, signed bool) (any, *fakeError) {
	var in struct {
		ShardIterator string
		Limit         int
	}
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	f.getCalls++
	if !signed && f.getCalls%5 == 1 {
		return nil, &fakeError{400, "ProvisionedThroughputExceededException", "Rate exceeded for shard"}
	}
	bad := &fakeError{400, "InvalidArgumentException", "bad ShardIterator " + in.ShardIterator}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(in.ShardIterator, "<"), ">"))
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return nil, bad
	}
	s, e := f.stream(parts[0])
	if e != nil {
		return nil, e
	}
	pos := atoiFake(parts[2])
	var sh *fakeShard
	for _, c := range s.shards {
		if c.id == parts[1] {
			sh = c
		}
	}
	if sh == nil || pos < 0 || pos > len(sh.recs) {
		return nil, bad
	}
	limit := in.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	end := min(pos+limit, len(sh.recs))
	type rec struct {
		SequenceNumber              string
		ApproximateArrivalTimestamp float64
		Data                        []byte
		PartitionKey                string
	}
	recs := []rec{}
	for _, r := range sh.recs[pos:end] {
		recs = append(recs, rec{r.seq, float64(r.at.UnixMilli()) / 1000, r.data, r.key})
	}
	behind := int64(0)
	if end < len(sh.recs) {
		behind = max(1, time.Since(sh.recs[end].at).Milliseconds())
	}
	return map[string]any{
		"Records":            recs,
		"NextShardIterator":  fakeIterator(parts[0], sh.id, end),
		"MillisBehindLatest": behind,
	}, nil
}

func (f *fakeKinesis) deleteStream(body []byte) (any, *fakeError) {
	var in struct{ StreamName string }
	if e := decodeFake(body, &in); e != nil {
		return nil, e
	}
	if _, e := f.stream(in.StreamName); e != nil {
		return nil, e
	}
	delete(f.streams, in.StreamName)
	return struct{}{}, nil
}

func (f *fakeKinesis) streamNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for n := range f.streams {
		names = append(names, n)
	}
	return names
}
