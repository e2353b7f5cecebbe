package streams_test

// Every error type the API returns, through the SDK where it lets the bad
// input through and as raw JSON/CBOR otherwise; after each refused request
// the store must be exactly as before.

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

// storeState describes everything a client can see of the store: streams,
// their mode, shards, retention, tags and records.
func storeState(t *testing.T, c *kinesis.Client) string {
	t.Helper()
	var b strings.Builder
	for _, name := range listStreamNames(t, c) {
		d, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		s := d.StreamDescriptionSummary
		tags, err := c.ListTagsForStream(ctxT(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s shards=%d retention=%d tags=[%s]\n", name, s.StreamModeDetails.StreamMode, *s.OpenShardCount, *s.RetentionPeriodHours, tagString(tags.Tags))
		for _, r := range readStream(t, c, name) {
			fmt.Fprintf(&b, "  %s %s %q\n", *r.SequenceNumber, *r.PartitionKey, r.Data)
		}
	}
	return b.String()
}

// errorFixture is a server with stream "s" (2 shards) holding two records,
// stream "t" (1 shard) and the store's state.
type errorFixture struct {
	*testServer
	state string
}

func newErrorFixture(t *testing.T, opts streams.Options) *errorFixture {
	t.Helper()
	s := startServer(t, opts)
	createStream(t, s.client, "s", 2)
	createStream(t, s.client, "t", 1)
	// One record on each shard of s.
	for pk, ehk := range map[string]string{"first": "0", "second": threeShardRanges[2][1]} {
		if _, err := s.client.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String(pk),
			ExplicitHashKey: aws.String(ehk), Data: []byte(pk)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.client.IncreaseStreamRetentionPeriod(ctxT(t), &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("t"), RetentionPeriodHours: aws.Int32(48)}); err != nil {
		t.Fatal(err)
	}
	return &errorFixture{testServer: s, state: storeState(t, s.client)}
}

func (f *errorFixture) unchanged(t *testing.T, after string) {
	t.Helper()
	if got := storeState(t, f.client); got != f.state {
		t.Errorf("after %s the store changed:\n%s\nwant:\n%s", after, got, f.state)
	}
}

func records(n, size int, pk func(i int) string) []types.PutRecordsRequestEntry {
	out := make([]types.PutRecordsRequestEntry, n)
	for i := range out {
		out[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(pk(i)), Data: bytes.Repeat([]byte{byte('a' + i%26)}, size)}
	}
	return out
}

func constKey(string) func(int) string { return func(int) string { return "k" } }

// sdkErrorCase is one refused SDK call; check asserts its error type.
type sdkErrorCase struct {
	name  string
	call  func(c *kinesis.Client) error
	check func(t *testing.T, err error)
}

func is[E error]() func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		apiError[E](t, err)
	}
}

func runSDKErrorCases(t *testing.T, f *errorFixture, cases []sdkErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, tc.call(f.client))
			f.unchanged(t, tc.name)
		})
	}
}

func TestErrorsResourceNotFound(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	missing := aws.String("missing")
	otherAccount := aws.String("arn:aws:kinesis:" + testRegion + ":123456789012:stream/s")
	rnf := is[*types.ResourceNotFoundException]()

	// An iterator on a stream that is then deleted.
	createStream(t, f.client, "gone", 1)
	it, err := f.client.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("gone"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}

	runSDKErrorCases(t, f, []sdkErrorCase{
		{"DescribeStream", func(c *kinesis.Client) error {
			_, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: missing})
			return err
		}, rnf},
		{"DescribeStreamSummary by ARN", func(c *kinesis.Client) error {
			_, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arnOf("missing"))})
			return err
		}, rnf},
		{"ARN of another account", func(c *kinesis.Client) error {
			_, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamARN: otherAccount})
			return err
		}, rnf},
		{"DeleteStream", func(c *kinesis.Client) error {
			_, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: missing})
			return err
		}, rnf},
		{"ListShards", func(c *kinesis.Client) error {
			_, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: missing})
			return err
		}, rnf},
		{"PutRecord", func(c *kinesis.Client) error {
			_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: missing, PartitionKey: aws.String("k"), Data: []byte("x")})
			return err
		}, rnf},
		{"PutRecords", func(c *kinesis.Client) error {
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: missing, Records: records(3, 10, constKey(""))})
			return err
		}, rnf},
		{"GetShardIterator on a missing stream", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: missing, ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
			return err
		}, rnf},
		{"GetShardIterator on a missing shard", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000007"), ShardIteratorType: types.ShardIteratorTypeLatest})
			return err
		}, rnf},
		{"GetRecords on a deleted stream", func(c *kinesis.Client) error {
			_, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			return err
		}, rnf},
		{"AddTagsToStream", func(c *kinesis.Client) error {
			_, err := c.AddTagsToStream(ctxT(t), &kinesis.AddTagsToStreamInput{StreamName: missing, Tags: map[string]string{"a": "b"}})
			return err
		}, rnf},
		{"ListTagsForStream", func(c *kinesis.Client) error {
			_, err := c.ListTagsForStream(ctxT(t), &kinesis.ListTagsForStreamInput{StreamName: missing})
			return err
		}, rnf},
		{"RemoveTagsFromStream", func(c *kinesis.Client) error {
			_, err := c.RemoveTagsFromStream(ctxT(t), &kinesis.RemoveTagsFromStreamInput{StreamName: missing, TagKeys: []string{"a"}})
			return err
		}, rnf},
		{"IncreaseStreamRetentionPeriod", func(c *kinesis.Client) error {
			_, err := c.IncreaseStreamRetentionPeriod(ctxT(t), &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: missing, RetentionPeriodHours: aws.Int32(48)})
			return err
		}, rnf},
		{"DecreaseStreamRetentionPeriod", func(c *kinesis.Client) error {
			_, err := c.DecreaseStreamRetentionPeriod(ctxT(t), &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: missing, RetentionPeriodHours: aws.Int32(24)})
			return err
		}, rnf},
	})
}

func TestErrorsResourceInUse(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	runSDKErrorCases(t, f, []sdkErrorCase{
		{"CreateStream with a name in use", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
			return err
		}, is[*types.ResourceInUseException]()},
		{"CreateStream on-demand with a name in use", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("t")})
			return err
		}, is[*types.ResourceInUseException]()},
	})
}

func TestErrorsInvalidArgument(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	c := f.client
	shards := listAllShards(t, c, "s")
	page, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String("s"), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	streamsPage, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	// A sequence number from shard 1, used on shard 0.
	var shard1Seq string
	for _, r := range readShard(t, c, "s", *shards[1].ShardId) {
		shard1Seq = *r.SequenceNumber
	}
	if shard1Seq == "" {
		t.Fatal("the fixture put no record on shard 1 of s")
	}
	ia := is[*types.InvalidArgumentException]()
	sixMiB := make([]types.PutRecordsRequestEntry, 6)
	for i := range sixMiB {
		sixMiB[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: make([]byte, 1<<20)}
	}

	runSDKErrorCases(t, f, []sdkErrorCase{
		{"ListShards NextToken with StreamName", func(c *kinesis.Client) error {
			_, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String("s"), NextToken: page.NextToken})
			return err
		}, ia},
		{"ListShards NextToken with StreamARN", func(c *kinesis.Client) error {
			_, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamARN: aws.String(arnOf("s")), NextToken: page.NextToken})
			return err
		}, ia},
		{"ListShards made-up NextToken", func(c *kinesis.Client) error {
			_, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{NextToken: aws.String("bm90IGEgdG9rZW4")})
			return err
		}, ia},
		{"ListStreams NextToken with ExclusiveStartStreamName", func(c *kinesis.Client) error {
			_, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{NextToken: streamsPage.NextToken, ExclusiveStartStreamName: aws.String("a")})
			return err
		}, ia},
		{"IncreaseStreamRetentionPeriod below the current period", func(c *kinesis.Client) error {
			_, err := c.IncreaseStreamRetentionPeriod(ctxT(t), &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("t"), RetentionPeriodHours: aws.Int32(36)})
			return err
		}, ia},
		{"DecreaseStreamRetentionPeriod above the current period", func(c *kinesis.Client) error {
			_, err := c.DecreaseStreamRetentionPeriod(ctxT(t), &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("t"), RetentionPeriodHours: aws.Int32(72)})
			return err
		}, ia},
		{"DecreaseStreamRetentionPeriod below 24 hours", func(c *kinesis.Client) error {
			_, err := c.DecreaseStreamRetentionPeriod(ctxT(t), &kinesis.DecreaseStreamRetentionPeriodInput{StreamName: aws.String("t"), RetentionPeriodHours: aws.Int32(1)})
			return err
		}, ia},
		{"StreamName and StreamARN of different streams", func(c *kinesis.Client) error {
			_, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("s"), StreamARN: aws.String(arnOf("t"))})
			return err
		}, ia},
		{"GetShardIterator with a sequence number of another shard", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: shards[0].ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(shard1Seq)})
			return err
		}, ia},
		{"GetShardIterator with a sequence number of another stream", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("t"), ShardId: aws.String("shardId-000000000000"),
				ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(shard1Seq)})
			return err
		}, ia},
		{"GetShardIterator AT_SEQUENCE_NUMBER without a sequence number", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: shards[0].ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber})
			return err
		}, ia},
		{"GetShardIterator AT_TIMESTAMP without a timestamp", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: shards[0].ShardId,
				ShardIteratorType: types.ShardIteratorTypeAtTimestamp})
			return err
		}, ia},
		{"GetRecords with a made-up iterator", func(c *kinesis.Client) error {
			_, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")})
			return err
		}, ia},
		{"PutRecord with ExplicitHashKey 2^128", func(c *kinesis.Client) error {
			_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("t"), PartitionKey: aws.String("k"),
				ExplicitHashKey: aws.String("340282366920938463463374607431768211456"), Data: []byte("x")})
			return err
		}, ia},
		{"PutRecords with one bad ExplicitHashKey", func(c *kinesis.Client) error {
			recs := records(3, 10, constKey(""))
			recs[1].ExplicitHashKey = aws.String("-1")
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("t"), Records: recs})
			return err
		}, ia},
		{"PutRecords of more than 5 MiB", func(c *kinesis.Client) error {
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("t"), Records: sixMiB})
			return err
		}, ia},
		{"CreateStream PROVISIONED without ShardCount", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("new"),
				StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}})
			return err
		}, ia},
	})
}

func TestErrorsValidation(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	val := is[*types.ValidationException]()
	long := strings.Repeat("k", 257)
	runSDKErrorCases(t, f, []sdkErrorCase{
		{"CreateStream with a bad name", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("bad name!"), ShardCount: aws.Int32(1)})
			return err
		}, val},
		{"CreateStream with a 129-character name", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String(strings.Repeat("n", 129)), ShardCount: aws.Int32(1)})
			return err
		}, val},
		{"CreateStream with 0 shards", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("zero"), ShardCount: aws.Int32(0)})
			return err
		}, val},
		{"CreateStream with an unknown mode", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("mode"), StreamModeDetails: &types.StreamModeDetails{StreamMode: "ELASTIC"}})
			return err
		}, val},
		{"DescribeStream with a bad name", func(c *kinesis.Client) error {
			_, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("s/1")})
			return err
		}, val},
		{"DescribeStream with Limit 0", func(c *kinesis.Client) error {
			_, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("s"), Limit: aws.Int32(0)})
			return err
		}, val},
		{"PutRecord with data over 1 MiB", func(c *kinesis.Client) error {
			_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("t"), PartitionKey: aws.String("k"), Data: make([]byte, 1<<20+1)})
			return err
		}, val},
		{"PutRecord with a 257-character partition key", func(c *kinesis.Client) error {
			_, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("t"), PartitionKey: aws.String(long), Data: []byte("x")})
			return err
		}, val},
		{"PutRecords of 501 records", func(c *kinesis.Client) error {
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("t"), Records: records(501, 10, constKey(""))})
			return err
		}, val},
		{"PutRecords with one 257-character partition key among good records", func(c *kinesis.Client) error {
			recs := records(4, 10, func(i int) string { return fmt.Sprint("good-", i) })
			recs[2].PartitionKey = aws.String(long)
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: recs})
			return err
		}, val},
		{"PutRecords with one record over 1 MiB among good records", func(c *kinesis.Client) error {
			recs := records(3, 10, func(i int) string { return fmt.Sprint("good-", i) })
			recs[1].Data = make([]byte, 1<<20+1)
			_, err := c.PutRecords(ctxT(t), &kinesis.PutRecordsInput{StreamName: aws.String("s"), Records: recs})
			return err
		}, val},
		{"GetShardIterator with an unknown type", func(c *kinesis.Client) error {
			_, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: "SIDEWAYS"})
			return err
		}, val},
		{"StreamARN that is not an ARN", func(c *kinesis.Client) error {
			_, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String("arn:aws:kinesis:us-west-2:0000:stream/s")})
			return err
		}, val},
	})
}

// rawErrorCase is one refused raw request.
type rawErrorCase struct {
	name        string
	target      string // "" sends none
	contentType string
	body        []byte
	typ, msg    string
}

func runRawErrorCases(t *testing.T, f *errorFixture, cases []rawErrorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-amz-json-1.1"
			}
			r := rawCall(t, nil, f.url, tc.target, ct, tc.body, true)
			if ct == cborContentType {
				wantCBORError(t, r, tc.typ, tc.msg)
			} else {
				wantJSONError(t, r, tc.typ, tc.msg)
			}
			f.unchanged(t, tc.name)
		})
	}
}

const target = "Kinesis_20131202."

func TestErrorsValidationRaw(t *testing.T) {
	// Inputs the SDK refuses to send: missing required members.
	f := newErrorFixture(t, streams.Options{})
	runRawErrorCases(t, f, []rawErrorCase{
		{name: "CreateStream without StreamName", target: target + "CreateStream", body: []byte(`{"ShardCount":1}`),
			typ: "ValidationException", msg: "streamName"},
		{name: "PutRecord without PartitionKey", target: target + "PutRecord", body: []byte(`{"StreamName":"t","Data":"eA=="}`),
			typ: "ValidationException", msg: "partitionKey"},
		{name: "PutRecord without Data", target: target + "PutRecord", body: []byte(`{"StreamName":"t","PartitionKey":"k"}`),
			typ: "ValidationException", msg: "data"},
		{name: "PutRecord without a stream", target: target + "PutRecord", body: []byte(`{"PartitionKey":"k","Data":"eA=="}`),
			typ: "ValidationException", msg: "StreamName"},
		{name: "PutRecords without Records", target: target + "PutRecords", body: []byte(`{"StreamName":"t","Records":[]}`),
			typ: "ValidationException", msg: "records"},
		{name: "PutRecords with a record without PartitionKey", target: target + "PutRecords",
			body: []byte(`{"StreamName":"s","Records":[{"Data":"eA==","PartitionKey":"a"},{"Data":"eA=="}]}`),
			typ:  "ValidationException", msg: "records.2.member.partitionKey"},
		{name: "GetShardIterator without ShardIteratorType", target: target + "GetShardIterator", body: []byte(`{"StreamName":"s","ShardId":"shardId-000000000000"}`),
			typ: "ValidationException", msg: "shardIteratorType"},
		{name: "GetShardIterator without ShardId", target: target + "GetShardIterator", body: []byte(`{"StreamName":"s","ShardIteratorType":"LATEST"}`),
			typ: "ValidationException", msg: "shardId"},
		{name: "GetRecords without ShardIterator", target: target + "GetRecords", body: []byte(`{}`),
			typ: "ValidationException", msg: "shardIterator"},
		{name: "AddTagsToStream without Tags", target: target + "AddTagsToStream", body: []byte(`{"StreamName":"s"}`),
			typ: "ValidationException", msg: "tags"},
		{name: "IncreaseStreamRetentionPeriod without hours", target: target + "IncreaseStreamRetentionPeriod", body: []byte(`{"StreamName":"s"}`),
			typ: "ValidationException", msg: "retentionPeriodHours"},
	})
}

func TestErrorsSerialization(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	runRawErrorCases(t, f, []rawErrorCase{
		{name: "malformed JSON", target: target + "CreateStream", body: []byte(`{"StreamName":"new","ShardCount":`),
			typ: "SerializationException", msg: "JSON"},
		{name: "ShardCount as a string", target: target + "CreateStream", body: []byte(`{"StreamName":"new","ShardCount":"two"}`),
			typ: "SerializationException", msg: "ShardCount"},
		{name: "StreamName as a number", target: target + "CreateStream", body: []byte(`{"StreamName":7,"ShardCount":1}`),
			typ: "SerializationException", msg: "StreamName"},
		{name: "top-level array", target: target + "CreateStream", body: []byte(`[{"StreamName":"new","ShardCount":1}]`),
			typ: "SerializationException", msg: "object"},
		{name: "trailing garbage", target: target + "CreateStream", body: []byte(`{"StreamName":"new","ShardCount":1} x`),
			typ: "SerializationException", msg: ""},
		{name: "malformed PutRecords JSON", target: target + "PutRecords",
			body: []byte(`{"StreamName":"t","Records":[{"Data":"eA==","PartitionKey":"k"},`),
			typ:  "SerializationException", msg: "Records"},
		{name: "PutRecords Data not base64", target: target + "PutRecords",
			body: []byte(`{"StreamName":"t","Records":[{"Data":"eA==","PartitionKey":"k"},{"Data":"!!!","PartitionKey":"k"}]}`),
			typ:  "SerializationException", msg: "base64"},
		{name: "PutRecord Data as a number", target: target + "PutRecord", body: []byte(`{"StreamName":"t","PartitionKey":"k","Data":5}`),
			typ: "SerializationException", msg: "Data"},
		{name: "GetShardIterator Timestamp as an object", target: target + "GetShardIterator",
			body: []byte(`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":{}}`),
			typ:  "SerializationException", msg: "timestamp"},
		{name: "malformed CBOR", target: target + "CreateStream", contentType: cborContentType,
			body: []byte{0xa2, 0x6a, 'S', 't', 'r', 'e', 'a', 'm', 'N', 'a', 'm', 'e', 0x63, 'n', 'e'},
			typ:  "SerializationException", msg: "CBOR"},
		{name: "CBOR ShardCount as text", target: target + "CreateStream", contentType: cborContentType,
			body: mustCBOR(t, map[string]any{"StreamName": "new", "ShardCount": "two"}),
			typ:  "SerializationException", msg: "ShardCount"},
		{name: "CBOR top-level array", target: target + "CreateStream", contentType: cborContentType,
			body: mustCBOR(t, []any{"new", 1}),
			typ:  "SerializationException", msg: "map"},
		{name: "unsupported Content-Type", target: target + "CreateStream", contentType: "text/plain",
			body: []byte(`{"StreamName":"new","ShardCount":1}`),
			typ:  "SerializationException", msg: "Content-Type"},
	})
}

func TestErrorsUnknownOperation(t *testing.T) {
	f := newErrorFixture(t, streams.Options{})
	body := []byte(`{"StreamName":"new","ShardCount":1}`)
	runRawErrorCases(t, f, []rawErrorCase{
		{name: "unknown operation", target: target + "Nope", body: body, typ: "UnknownOperationException", msg: "Nope"},
		{name: "missing X-Amz-Target", target: "", body: body, typ: "UnknownOperationException", msg: "X-Amz-Target"},
		{name: "operation in the wrong case", target: target + "createStream", body: body, typ: "UnknownOperationException", msg: "createStream"},
		{name: "another service's target", target: "DynamoDB_20120810.CreateStream", body: body, typ: "UnknownOperationException", msg: "DynamoDB"},
		{name: "unknown operation in CBOR", target: target + "Nope", contentType: cborContentType,
			body: mustCBOR(t, map[string]any{"StreamName": "new", "ShardCount": 1}), typ: "UnknownOperationException", msg: "Nope"},
	})
}

func TestErrorsLimitExceeded(t *testing.T) {
	f := newErrorFixture(t, streams.Options{AccountShardLimit: 4, OnDemandStreamLimit: 1})
	runSDKErrorCases(t, f, []sdkErrorCase{
		{"provisioned past the account shard limit", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("big"), ShardCount: aws.Int32(2)})
			return err
		}, is[*types.LimitExceededException]()},
		{"on-demand past the account shard limit", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("od")})
			return err
		}, is[*types.LimitExceededException]()},
	})

	// Past the on-demand stream limit, with shards to spare.
	g := newErrorFixture(t, streams.Options{OnDemandStreamLimit: 1})
	if _, err := g.client.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("od1")}); err != nil {
		t.Fatal(err)
	}
	g.state = storeState(t, g.client)
	runSDKErrorCases(t, g, []sdkErrorCase{
		{"on-demand past the on-demand stream limit", func(c *kinesis.Client) error {
			_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("od2")})
			return err
		}, is[*types.LimitExceededException]()},
	})
}

func TestErrorsExpiredIterator(t *testing.T) {
	clock := shiftedClock()
	s := startServer(t, streams.Options{Now: clock.Now})
	c := s.client
	createStream(t, c, "s", 1)
	put := func(data string) {
		t.Helper()
		if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	put("one")
	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(4*time.Minute + 50*time.Second)
	out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("an iterator 4m50s old: %v", err)
	}
	if len(out.Records) != 1 {
		t.Fatalf("read %d records, want 1", len(out.Records))
	}
	put("two")
	clock.Advance(20 * time.Second)
	_, err = c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	apiError[*types.ExpiredIteratorException](t, err)
	// The NextShardIterator was issued 20 s ago and is still good.
	out, err = c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	if err != nil {
		t.Fatalf("a NextShardIterator 20 s old: %v", err)
	}
	if len(out.Records) != 1 || string(out.Records[0].Data) != "two" {
		t.Fatalf("read %d records, want just \"two\"", len(out.Records))
	}
	clock.Advance(5*time.Minute + time.Second)
	_, err = c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	apiError[*types.ExpiredIteratorException](t, err)
	if recs := readStream(t, c, "s"); len(recs) != 2 {
		t.Errorf("after expired iterators the stream holds %d records, want 2", len(recs))
	}
}

func TestErrorsExpiredNextToken(t *testing.T) {
	clock := shiftedClock()
	s := startServer(t, streams.Options{Now: clock.Now})
	c := s.client
	createStream(t, c, "a", 3)
	createStream(t, c, "b", 1)

	ls, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String("a"), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(299 * time.Second)
	if out, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{NextToken: ls.NextToken}); err != nil || len(out.StreamNames) != 1 || out.StreamNames[0] != "b" {
		t.Fatalf("ListStreams with a 299 s old token: %v", err)
	}
	if out, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{NextToken: sh.NextToken}); err != nil || len(out.Shards) != 2 {
		t.Fatalf("ListShards with a 299 s old token: %v", err)
	}
	clock.Advance(2 * time.Second)
	_, err = c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{NextToken: ls.NextToken})
	apiError[*types.ExpiredNextTokenException](t, err)
	_, err = c.ListShards(ctxT(t), &kinesis.ListShardsInput{NextToken: sh.NextToken})
	apiError[*types.ExpiredNextTokenException](t, err)
}

func TestErrorsCarryRequestIDs(t *testing.T) {
	// Every response, error or not, has its own request id.
	s := startServer(t, streams.Options{})
	seen := map[string]bool{}
	for _, op := range []string{"ListStreams", "DescribeStream", "Nope", "ListStreams"} {
		r := s.postJSON(t, op, map[string]any{"StreamName": "missing"})
		id := r.header.Get("X-Amzn-RequestId")
		if seen[id] {
			t.Errorf("%s: request id %q was used before", op, id)
		}
		seen[id] = true
		if op != "ListStreams" && r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", op, r.status)
		}
	}
}

// AWS matches member names case-sensitively (awswire's PutRecords decoder
// does too): "streamName" is an unknown member, so StreamName is missing.
func TestErrorsMemberNamesAreCaseSensitive(t *testing.T) {
	for _, tc := range []rawErrorCase{
		{name: "JSON CreateStream with lower-case members", target: target + "CreateStream",
			body: []byte(`{"streamName":"lower","shardCount":1}`), typ: "ValidationException", msg: "streamName"},
		{name: "JSON PutRecord with a lower-case PartitionKey", target: target + "PutRecord",
			body: []byte(`{"StreamName":"t","partitionkey":"k","Data":"eA=="}`), typ: "ValidationException", msg: "partitionKey"},
		{name: "CBOR CreateStream with lower-case members", target: target + "CreateStream", contentType: cborContentType,
			body: mustCBOR(t, map[string]any{"streamname": "lower", "ShardCount": 1}), typ: "ValidationException", msg: "streamName"},
	} {
		// A fresh store per case: a wrongly accepted request must not
		// change what the next case sees.
		runRawErrorCases(t, newErrorFixture(t, streams.Options{}), []rawErrorCase{tc})
	}
}
