package streams_test

// Per-shard quotas under ShardLimits "aws", on a frozen clock so the token
// buckets only refill when the test says so.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

// hundredBytes returns record i's 100-byte payload.
func hundredBytes(i int) []byte {
	b := []byte(fmt.Sprintf("record-%05d-", i))
	return append(b, strings.Repeat("x", 100-len(b))...)
}

// putLoad sends 1,500 records of 100 bytes to a 1-shard stream in three
// PutRecords calls and returns the payloads that were accepted, with their
// sequence numbers, and the number refused.
func putLoad(t *testing.T, c *kinesis.Client, stream string) (ok []string, seqs []string, failed int) {
	t.Helper()
	for call := range 3 {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for i := call * 500; i < (call+1)*500; i++ {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("pk-", i%7)), Data: hundredBytes(i)})
		}
		out, err := c.PutRecords(ctxT(t), in)
		if err != nil {
			t.Fatalf("PutRecords call %d: %v", call, err)
		}
		n := 0
		for i, r := range out.Records {
			if r.ErrorCode != nil {
				n++
				if *r.ErrorCode != "ProvisionedThroughputExceededException" || aws.ToString(r.ErrorMessage) == "" || r.SequenceNumber != nil || r.ShardId != nil {
					t.Errorf("call %d record %d failed with %s %q seq=%v shard=%v, want ProvisionedThroughputExceededException with a message only",
						call, i, *r.ErrorCode, aws.ToString(r.ErrorMessage), r.SequenceNumber, r.ShardId)
				}
				continue
			}
			ok = append(ok, string(in.Records[i].Data))
			seqs = append(seqs, checkSeq(t, r.SequenceNumber))
		}
		if int(*out.FailedRecordCount) != n {
			t.Errorf("call %d: FailedRecordCount %d, but %d results carry an error", call, *out.FailedRecordCount, n)
		}
		failed += n
	}
	return ok, seqs, failed
}

func TestLimitsPutRecordsThrottlesPerRecord(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{ShardLimits: "aws", Now: clock.Now})
	c := s.client
	createStream(t, c, "hot", 1)

	ok, seqs, failed := putLoad(t, c, "hot")
	// 1,000 records per second per shard; the clock does not move.
	if len(ok) != 1000 || failed != 500 {
		t.Fatalf("%d records accepted and %d refused, want 1000 and 500", len(ok), failed)
	}
	recs := readShard(t, c, "hot", "shardId-000000000000")
	var got, gotSeqs []string
	for _, r := range recs {
		got = append(got, string(r.Data))
		gotSeqs = append(gotSeqs, *r.SequenceNumber)
	}
	if !slices.Equal(got, ok) || !slices.Equal(gotSeqs, seqs) {
		t.Errorf("read back %d records; want exactly the %d accepted ones with their sequence numbers", len(got), len(ok))
	}

	// PutRecords in CBOR: the refused records carry only ErrorCode and
	// ErrorMessage.
	r := s.postCBOR(t, "PutRecords", map[string]any{"StreamName": "hot", "Records": []any{
		map[string]any{"PartitionKey": "k", "Data": []byte("a")}, map[string]any{"PartitionKey": "k", "Data": []byte("b")},
	}})
	m := cborMap(t, r)
	if n := cborInt(t, m["FailedRecordCount"]); n != 2 {
		t.Errorf("CBOR PutRecords over quota: FailedRecordCount %d, want 2", n)
	}
	for i, res := range cborList(t, m["Records"]) {
		_, hasSeq := res["SequenceNumber"]
		if code := cborString(t, res["ErrorCode"]); code != "ProvisionedThroughputExceededException" || hasSeq || cborString(t, res["ErrorMessage"]) == "" {
			t.Errorf("CBOR result %d: %s (sequence number present: %v)", i, code, hasSeq)
		}
	}

	// PutRecord is refused as a whole while the quota is spent.
	_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("hot"), PartitionKey: aws.String("k"), Data: []byte("one more")})
	apiError[*types.ProvisionedThroughputExceededException](t, err)

	// A second later the quota is back.
	clock.Advance(time.Second)
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("hot"), PartitionKey: aws.String("k"), Data: []byte("one more")}); err != nil {
		t.Fatalf("PutRecord a second later: %v", err)
	}
	clock.Advance(time.Second)
	if n := len(readShard(t, c, "hot", "shardId-000000000000")); n != 1001 {
		t.Errorf("the shard holds %d records, want 1001", n)
	}
}

func TestLimitsGetRecordsCallsPerSecond(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{ShardLimits: "aws", Now: clock.Now})
	c := s.client
	createStream(t, c, "polled", 2)
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("polled"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String("0"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	iter := func(shard string) *string {
		t.Helper()
		out, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("polled"), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		return out.ShardIterator
	}
	it0, it1 := iter("shardId-000000000000"), iter("shardId-000000000001")
	get := func(it *string) error {
		_, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it})
		return err
	}
	for i := range 5 {
		if err := get(it0); err != nil {
			t.Fatalf("GetRecords call %d of 5 in one second: %v", i+1, err)
		}
	}
	apiError[*types.ProvisionedThroughputExceededException](t, get(it0))
	// The quota is per shard.
	if err := get(it1); err != nil {
		t.Errorf("GetRecords on the other shard: %v", err)
	}
	// A fifth of a second gives back one call.
	clock.Advance(200 * time.Millisecond)
	if err := get(it0); err != nil {
		t.Errorf("GetRecords 200 ms later: %v", err)
	}
	apiError[*types.ProvisionedThroughputExceededException](t, get(it0))
	clock.Advance(time.Second)
	for i := range 5 {
		if err := get(it0); err != nil {
			t.Fatalf("GetRecords call %d a second later: %v", i+1, err)
		}
	}
}

func TestLimitsOffByDefault(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{Now: clock.Now})
	c := s.client
	createStream(t, c, "cold", 1)
	ok, _, failed := putLoad(t, c, "cold")
	if len(ok) != 1500 || failed != 0 {
		t.Fatalf("without limits %d records accepted and %d refused, want 1500 and 0", len(ok), failed)
	}
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("cold"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatalf("GetRecords call %d in one second without limits: %v", i+1, err)
		}
		if len(out.Records) != 1500 {
			t.Fatalf("GetRecords call %d read %d records, want 1500", i+1, len(out.Records))
		}
	}
}

// A PutRecords refused as a whole (here for one bad partition key) writes
// nothing, so it must not spend the shard's write quota either.
func TestLimitsRefusedPutRecordsUsesNoQuota(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{ShardLimits: "aws", Now: clock.Now})
	c := s.client
	createStream(t, c, "hot", 1)

	bad := &kinesis.PutRecordsInput{StreamName: aws.String("hot")}
	for i := range 500 {
		bad.Records = append(bad.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: hundredBytes(i)})
	}
	bad.Records[499].PartitionKey = aws.String(strings.Repeat("k", 257))
	_, err := c.PutRecords(ctxT(t), bad)
	apiError[*types.ValidationException](t, err)

	for call := range 2 {
		in := &kinesis.PutRecordsInput{StreamName: aws.String("hot")}
		for i := range 500 {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: hundredBytes(call*500 + i)})
		}
		out, err := c.PutRecords(ctxT(t), in)
		if err != nil {
			t.Fatal(err)
		}
		if *out.FailedRecordCount != 0 {
			t.Errorf("call %d: %d of 500 records throttled although only 500*%d were written this second (quota 1000)",
				call, *out.FailedRecordCount, call+1)
		}
	}
}

// A record of the largest size (1 MiB of data plus its partition key) can
// be written to an idle shard, as on AWS; it must not be throttled forever.
func TestLimitsMaxSizeRecordOnIdleShard(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{ShardLimits: "aws", Now: clock.Now})
	c := s.client
	createStream(t, c, "big", 1)
	_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20)})
	if err != nil {
		// Waiting does not help: the bucket never holds more than 1 MiB.
		clock.Advance(time.Minute)
		_, again := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20)})
		t.Fatalf("a 1 MiB record on an idle shard was refused: %v; a minute later: %v", err, again)
	}
}

// GetRecords may return more than the 2 MiB per second a shard allows;
// the next calls are refused until the excess is paid back.
func TestLimitsGetRecordsBytesPerSecond(t *testing.T) {
	clock := frozenClock(time.Now())
	s := startServer(t, streams.Options{ShardLimits: "aws", Now: clock.Now})
	c := s.client
	createStream(t, c, "wide", 1)
	const half = 512 << 10
	for i := range 6 { // 3 MiB, one record per second to stay within the write quota
		if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("wide"), PartitionKey: aws.String("k"), Data: make([]byte, half)}); err != nil {
			t.Fatalf("PutRecord %d: %v", i, err)
		}
		clock.Advance(time.Second)
	}
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("wide"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 6 {
		t.Fatalf("read %d records, want 6 (3 MiB)", len(out.Records))
	}
	// 1 MiB over the quota: refused for the next half second.
	_, err = c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	apiError[*types.ProvisionedThroughputExceededException](t, err)
	clock.Advance(400 * time.Millisecond)
	_, err = c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	apiError[*types.ProvisionedThroughputExceededException](t, err)
	clock.Advance(100 * time.Millisecond)
	if _, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); err != nil {
		t.Errorf("GetRecords once the excess is paid back: %v", err)
	}
}
