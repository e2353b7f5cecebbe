package streams_test

// Every operation through aws-sdk-go-v2 (SigV4, JSON 1.1) against the real
// service over HTTP.

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tenantpulse/tenantpulse/internal/app/streams"
)

func arnOf(name string) string {
	return "arn:aws:kinesis:" + testRegion + ":" + account + ":stream/" + name
}

func TestSDKCreateStream(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	before := time.Now().Add(-time.Millisecond)

	f := func(in *kinesis.CreateStreamInput, wantMode types.StreamMode, wantShards int32) {
		t.Helper()
		if _, err := c.CreateStream(ctxT(t), in); err != nil {
			t.Fatalf("CreateStream %s: %v", *in.StreamName, err)
		}
		out, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: in.StreamName})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", *in.StreamName, err)
		}
		d := out.StreamDescriptionSummary
		if *d.StreamName != *in.StreamName || *d.StreamARN != arnOf(*in.StreamName) {
			t.Errorf("stream %s: name %q ARN %q, want ARN %q", *in.StreamName, *d.StreamName, *d.StreamARN, arnOf(*in.StreamName))
		}
		if d.StreamModeDetails == nil || d.StreamModeDetails.StreamMode != wantMode {
			t.Errorf("stream %s: mode %+v, want %s", *in.StreamName, d.StreamModeDetails, wantMode)
		}
		if *d.OpenShardCount != wantShards {
			t.Errorf("stream %s: OpenShardCount %d, want %d", *in.StreamName, *d.OpenShardCount, wantShards)
		}
		if got := len(listAllShards(t, c, *in.StreamName)); got != int(wantShards) {
			t.Errorf("stream %s: ListShards lists %d shards, want %d", *in.StreamName, got, wantShards)
		}
		if d.StreamStatus != types.StreamStatusActive || *d.RetentionPeriodHours != 24 || d.EncryptionType != types.EncryptionTypeNone {
			t.Errorf("stream %s: status %s retention %d encryption %s, want ACTIVE 24 NONE", *in.StreamName, d.StreamStatus, *d.RetentionPeriodHours, d.EncryptionType)
		}
		if ct := *d.StreamCreationTimestamp; ct.Before(before) || ct.After(time.Now()) {
			t.Errorf("stream %s: creation time %v is not within the test", *in.StreamName, ct)
		}
	}
	f(&kinesis.CreateStreamInput{StreamName: aws.String("provisioned"), ShardCount: aws.Int32(3)}, types.StreamModeProvisioned, 3)
	f(&kinesis.CreateStreamInput{StreamName: aws.String("on-demand")}, types.StreamModeOnDemand, 4)
	f(&kinesis.CreateStreamInput{StreamName: aws.String("explicit.on_demand"),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}}, types.StreamModeOnDemand, 4)
	f(&kinesis.CreateStreamInput{StreamName: aws.String("tagged"), ShardCount: aws.Int32(1),
		Tags: map[string]string{"team": "core", "env": "test"}}, types.StreamModeProvisioned, 1)

	tags, err := c.ListTagsForStream(ctxT(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagString(tags.Tags); got != "env=test,team=core" {
		t.Errorf("tags given to CreateStream: %s, want env=test,team=core", got)
	}

	// A name in use.
	_, err = c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("provisioned"), ShardCount: aws.Int32(5)})
	apiError[*types.ResourceInUseException](t, err)
	if got := len(listAllShards(t, c, "provisioned")); got != 3 {
		t.Errorf("after a duplicate CreateStream the stream has %d shards, want 3", got)
	}
}

func TestSDKCreateStreamAccountShardLimit(t *testing.T) {
	s := startServer(t, streams.Options{AccountShardLimit: 5})
	c := s.client
	createStream(t, c, "a", 3)
	_, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("b"), ShardCount: aws.Int32(3)})
	apiError[*types.LimitExceededException](t, err)
	// On-demand needs 4 shards: also over the limit.
	_, err = c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("c")})
	apiError[*types.LimitExceededException](t, err)
	if got := listStreamNames(t, c); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("streams after refused creations: %q, want [a]", got)
	}
	createStream(t, c, "b", 2) // exactly at the limit
	lim, err := c.DescribeLimits(ctxT(t), &kinesis.DescribeLimitsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *lim.ShardLimit != 5 || *lim.OpenShardCount != 5 {
		t.Errorf("DescribeLimits: ShardLimit %d OpenShardCount %d, want 5 and 5", *lim.ShardLimit, *lim.OpenShardCount)
	}
}

func TestSDKDeleteStream(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "doomed", 2)
	createStream(t, c, "kept", 1)
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("doomed"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("doomed")}); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	_, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("doomed")})
	apiError[*types.ResourceNotFoundException](t, err)
	_, err = c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("doomed")})
	apiError[*types.ResourceNotFoundException](t, err)
	_, err = c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("doomed")})
	apiError[*types.ResourceNotFoundException](t, err)
	if got := listStreamNames(t, c); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("streams after DeleteStream: %q, want [kept]", got)
	}

	// A stream created again under the same name starts empty.
	createStream(t, c, "doomed", 1)
	if recs := readStream(t, c, "doomed"); len(recs) != 0 {
		t.Errorf("a re-created stream holds %d records of the deleted one", len(recs))
	}
	// Deleting by ARN.
	if _, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamARN: aws.String(arnOf("kept"))}); err != nil {
		t.Fatalf("DeleteStream by ARN: %v", err)
	}
	if got := listStreamNames(t, c); !slices.Equal(got, []string{"doomed"}) {
		t.Errorf("streams after DeleteStream by ARN: %q, want [doomed]", got)
	}
}

func TestSDKListStreams(t *testing.T) {
	s := startServer(t, streams.Options{}) // Region defaults to us-east-1: ARNs must follow the signature
	c := s.client
	names := []string{"kappa", "alpha", "Zulu", "delta", "beta-1", "beta.2", "gamma_3"}
	for i, n := range names {
		if i%2 == 0 {
			createStream(t, c, n, 1)
		} else if _, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	sorted := slices.Clone(names)
	sort.Strings(sorted)

	out, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.StreamNames, sorted) || *out.HasMoreStreams || out.NextToken != nil {
		t.Fatalf("ListStreams: %q more=%v token=%v, want %q and no more", out.StreamNames, *out.HasMoreStreams, out.NextToken, sorted)
	}
	if len(out.StreamSummaries) != len(sorted) {
		t.Fatalf("ListStreams: %d summaries, want %d", len(out.StreamSummaries), len(sorted))
	}
	for i, sum := range out.StreamSummaries {
		n := sorted[i]
		wantMode := types.StreamModeProvisioned
		if slices.Index(names, n)%2 == 1 {
			wantMode = types.StreamModeOnDemand
		}
		if *sum.StreamName != n || *sum.StreamARN != arnOf(n) || sum.StreamStatus != types.StreamStatusActive ||
			sum.StreamModeDetails == nil || sum.StreamModeDetails.StreamMode != wantMode || sum.StreamCreationTimestamp == nil {
			t.Errorf("summary %d: %s %s %s %+v, want %s %s ACTIVE %s", i, *sum.StreamName, *sum.StreamARN, sum.StreamStatus,
				sum.StreamModeDetails, n, arnOf(n), wantMode)
		}
	}

	// Pagination through the SDK paginator, 3 per page.
	p := kinesis.NewListStreamsPaginator(c, &kinesis.ListStreamsInput{Limit: aws.Int32(3)})
	var got []string
	var sizes []int
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatalf("page %d: %v", len(sizes), err)
		}
		sizes = append(sizes, len(page.StreamNames))
		got = append(got, page.StreamNames...)
		if len(page.StreamSummaries) != len(page.StreamNames) {
			t.Errorf("page %d: %d summaries for %d names", len(sizes), len(page.StreamSummaries), len(page.StreamNames))
		}
		if wantMore := len(got) < len(sorted); *page.HasMoreStreams != wantMore || (page.NextToken != nil) != wantMore {
			t.Errorf("page %d: HasMoreStreams %v NextToken %v, want more=%v", len(sizes), *page.HasMoreStreams, page.NextToken, wantMore)
		}
	}
	if !slices.Equal(got, sorted) || !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("paginated: %q in pages of %v, want %q in pages of [3 3 1]", got, sizes, sorted)
	}

	// ExclusiveStartStreamName, with and without Limit, and a name that
	// does not exist.
	f := func(start string, limit *int32, want []string, wantMore bool) {
		t.Helper()
		out, err := c.ListStreams(ctxT(t), &kinesis.ListStreamsInput{ExclusiveStartStreamName: aws.String(start), Limit: limit})
		if err != nil {
			t.Fatalf("ListStreams after %q: %v", start, err)
		}
		if !slices.Equal(out.StreamNames, want) || *out.HasMoreStreams != wantMore {
			t.Errorf("ListStreams after %q limit %v: %q more=%v, want %q more=%v", start, limit, out.StreamNames, *out.HasMoreStreams, want, wantMore)
		}
	}
	f("beta-1", nil, []string{"beta.2", "delta", "gamma_3", "kappa"}, false)
	f("beta-1", aws.Int32(2), []string{"beta.2", "delta"}, true)
	f("c", aws.Int32(10), []string{"delta", "gamma_3", "kappa"}, false)
	f("kappa", nil, []string{}, false)
}

// The hash key ranges AWS gives a new 3-shard stream.
var threeShardRanges = [3][2]string{
	{"0", "113427455640312821154458202477256070484"},
	{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
	{"226854911280625642308916404954512140970", "340282366920938463463374607431768211455"},
}

func TestSDKDescribeStream(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "three", 3)

	out, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("three")})
	if err != nil {
		t.Fatal(err)
	}
	d := out.StreamDescription
	if *d.StreamName != "three" || *d.StreamARN != arnOf("three") || d.StreamStatus != types.StreamStatusActive ||
		*d.HasMoreShards || *d.RetentionPeriodHours != 24 || d.StreamModeDetails.StreamMode != types.StreamModeProvisioned {
		t.Errorf("description: %s %s %s more=%v retention=%d", *d.StreamName, *d.StreamARN, d.StreamStatus, *d.HasMoreShards, *d.RetentionPeriodHours)
	}
	if len(d.Shards) != 3 {
		t.Fatalf("%d shards, want 3", len(d.Shards))
	}
	// The ranges tile 0..2^128-1 exactly, in order, evenly.
	next := big.NewInt(0)
	maxKey := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	for i, sh := range d.Shards {
		if want := fmt.Sprintf("shardId-%012d", i); *sh.ShardId != want {
			t.Errorf("shard %d id %s, want %s", i, *sh.ShardId, want)
		}
		start, end := bigDec(t, *sh.HashKeyRange.StartingHashKey), bigDec(t, *sh.HashKeyRange.EndingHashKey)
		if start.Cmp(next) != 0 || end.Cmp(start) < 0 {
			t.Errorf("shard %d range [%s, %s] does not start at %s", i, start, end, next)
		}
		next = new(big.Int).Add(end, big.NewInt(1))
		if got := [2]string{*sh.HashKeyRange.StartingHashKey, *sh.HashKeyRange.EndingHashKey}; got != threeShardRanges[i] {
			t.Errorf("shard %d range %v, want AWS's %v", i, got, threeShardRanges[i])
		}
		checkSeq(t, sh.SequenceNumberRange.StartingSequenceNumber)
		if sh.SequenceNumberRange.EndingSequenceNumber != nil || sh.ParentShardId != nil {
			t.Errorf("shard %d of a new stream is closed or has a parent", i)
		}
	}
	if new(big.Int).Sub(next, big.NewInt(1)).Cmp(maxKey) != 0 {
		t.Errorf("the last shard ends at %s, want 2^128-1", new(big.Int).Sub(next, big.NewInt(1)))
	}

	// Pages of one shard with ExclusiveStartShardId and HasMoreShards.
	var ids []string
	var start *string
	for page := 0; ; page++ {
		out, err := c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("three"), Limit: aws.Int32(1), ExclusiveStartShardId: start})
		if err != nil {
			t.Fatal(err)
		}
		sd := out.StreamDescription
		if len(sd.Shards) != 1 {
			t.Fatalf("page %d: %d shards, want 1", page, len(sd.Shards))
		}
		ids = append(ids, *sd.Shards[0].ShardId)
		if wantMore := page < 2; *sd.HasMoreShards != wantMore {
			t.Errorf("page %d: HasMoreShards %v, want %v", page, *sd.HasMoreShards, wantMore)
		}
		if !*sd.HasMoreShards {
			break
		}
		if page > 3 {
			t.Fatal("DescribeStream pagination does not end")
		}
		start = sd.Shards[0].ShardId
	}
	if want := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}; !slices.Equal(ids, want) {
		t.Errorf("paged shard ids %q, want %q", ids, want)
	}

	// The SDK's DescribeStream paginator, 2 per page.
	p := kinesis.NewDescribeStreamPaginator(c, &kinesis.DescribeStreamInput{StreamName: aws.String("three"), Limit: aws.Int32(2)})
	var sizes []int
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(page.StreamDescription.Shards))
	}
	if !slices.Equal(sizes, []int{2, 1}) {
		t.Errorf("paginator page sizes %v, want [2 1]", sizes)
	}

	// Limit equal to the shard count: no more shards.
	out, err = c.DescribeStream(ctxT(t), &kinesis.DescribeStreamInput{StreamName: aws.String("three"), Limit: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.StreamDescription.Shards) != 3 || *out.StreamDescription.HasMoreShards {
		t.Errorf("Limit 3: %d shards more=%v, want 3 and false", len(out.StreamDescription.Shards), *out.StreamDescription.HasMoreShards)
	}
}

func TestSDKDescribeStreamSummaryByNameAndARN(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "summary", 2)
	byName, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("summary")})
	if err != nil {
		t.Fatal(err)
	}
	byARN, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arnOf("summary"))})
	if err != nil {
		t.Fatalf("DescribeStreamSummary by ARN: %v", err)
	}
	for _, d := range []*types.StreamDescriptionSummary{byName.StreamDescriptionSummary, byARN.StreamDescriptionSummary} {
		if *d.StreamName != "summary" || *d.StreamARN != arnOf("summary") || *d.OpenShardCount != 2 ||
			*d.ConsumerCount != 0 || d.EncryptionType != types.EncryptionTypeNone || *d.RetentionPeriodHours != 24 {
			t.Errorf("summary: %s %s open=%d consumers=%d enc=%s retention=%d", *d.StreamName, *d.StreamARN,
				*d.OpenShardCount, *d.ConsumerCount, d.EncryptionType, *d.RetentionPeriodHours)
		}
	}
	if !byName.StreamDescriptionSummary.StreamCreationTimestamp.Equal(*byARN.StreamDescriptionSummary.StreamCreationTimestamp) {
		t.Error("creation timestamps differ between name and ARN lookups")
	}
}

func TestSDKListShards(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "five", 5)
	all := listAllShards(t, c, "five")
	var want []string
	for _, sh := range all {
		want = append(want, *sh.ShardId)
	}
	if len(want) != 5 {
		t.Fatalf("%d shards, want 5", len(want))
	}

	// MaxResults 2 and NextToken (alone, as AWS requires).
	var got []string
	var sizes []int
	in := &kinesis.ListShardsInput{StreamName: aws.String("five"), MaxResults: aws.Int32(2)}
	for range 10 {
		out, err := c.ListShards(ctxT(t), in)
		if err != nil {
			t.Fatalf("ListShards page %d: %v", len(sizes), err)
		}
		sizes = append(sizes, len(out.Shards))
		for _, sh := range out.Shards {
			got = append(got, *sh.ShardId)
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(2)}
	}
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{2, 2, 1}) {
		t.Errorf("paged: %q in pages %v, want %q in pages [2 2 1]", got, sizes, want)
	}

	// By ARN, and after an ExclusiveStartShardId.
	out, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamARN: aws.String(arnOf("five")), ExclusiveStartShardId: aws.String("shardId-000000000002")})
	if err != nil {
		t.Fatalf("ListShards by ARN: %v", err)
	}
	var after []string
	for _, sh := range out.Shards {
		after = append(after, *sh.ShardId)
	}
	if !slices.Equal(after, want[3:]) || out.NextToken != nil {
		t.Errorf("by ARN after shard 2: %q token=%v, want %q", after, out.NextToken, want[3:])
	}

	// NextToken together with StreamName is refused.
	first, err := c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String("five"), MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListShards(ctxT(t), &kinesis.ListShardsInput{StreamName: aws.String("five"), NextToken: first.NextToken})
	apiError[*types.InvalidArgumentException](t, err)
}

func TestSDKPutRecordRouting(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "routed", 3)
	shards := listAllShards(t, c, "routed")

	lastSeq := map[string]string{}
	put := func(in *kinesis.PutRecordInput, wantShard string) string {
		t.Helper()
		out, err := c.PutRecord(ctxT(t), in)
		if err != nil {
			t.Fatalf("PutRecord %q: %v", *in.PartitionKey, err)
		}
		if *out.ShardId != wantShard {
			t.Errorf("PartitionKey %q ExplicitHashKey %v went to %s, want %s", *in.PartitionKey, aws.ToString(in.ExplicitHashKey), *out.ShardId, wantShard)
		}
		seq := checkSeq(t, out.SequenceNumber)
		if prev, ok := lastSeq[*out.ShardId]; ok && !seqLess(t, prev, seq) {
			t.Errorf("sequence number %s on %s does not increase after %s", seq, *out.ShardId, prev)
		}
		lastSeq[*out.ShardId] = seq
		return seq
	}

	wantData := map[string][]byte{} // by sequence number
	hit := map[string]bool{}
	for i := range 60 {
		pk := fmt.Sprintf("customer-%d", i)
		in := &kinesis.PutRecordInput{PartitionKey: aws.String(pk), Data: []byte("payload " + pk)}
		if i%2 == 0 {
			in.StreamName = aws.String("routed")
		} else {
			in.StreamARN = aws.String(arnOf("routed"))
		}
		want := shardForKey(t, shards, pk)
		hit[want] = true
		wantData[put(in, want)] = in.Data
	}
	if len(hit) != 3 {
		t.Fatalf("60 keys reached %d shards; the test needs all 3", len(hit))
	}

	// ExplicitHashKey overrides the partition key's hash: the key "a" alone
	// would always go to one shard.
	for i, ehk := range []string{
		"0",
		threeShardRanges[0][1],
		threeShardRanges[1][0],
		"200000000000000000000000000000000000000",
		threeShardRanges[2][0],
		"340282366920938463463374607431768211455",
	} {
		in := &kinesis.PutRecordInput{StreamName: aws.String("routed"), PartitionKey: aws.String("a"), ExplicitHashKey: aws.String(ehk), Data: []byte{byte(i), 0, 0xff}}
		wantData[put(in, shardForHash(t, shards, bigDec(t, ehk)))] = in.Data
	}

	// Everything reads back from the shard it was routed to, with the
	// sequence number PutRecord returned.
	n := 0
	for _, sh := range shards {
		for _, r := range readShard(t, c, "routed", *sh.ShardId) {
			n++
			if want, ok := wantData[*r.SequenceNumber]; !ok || !bytes.Equal(r.Data, want) {
				t.Errorf("shard %s: record %s has data %q, want %q", *sh.ShardId, *r.SequenceNumber, r.Data, want)
			}
		}
	}
	if n != len(wantData) {
		t.Errorf("read %d records, want %d", n, len(wantData))
	}
}

func TestSDKPutRecords(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "batch", 4)
	shards := listAllShards(t, c, "batch")

	const n = 500
	in := &kinesis.PutRecordsInput{StreamName: aws.String("batch")}
	for i := range n {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{
			PartitionKey: aws.String(fmt.Sprintf("key-%d", i%23)),
			Data:         []byte(fmt.Sprintf("record-%03d", i)),
		})
	}
	out, err := c.PutRecords(ctxT(t), in)
	if err != nil {
		t.Fatal(err)
	}
	if *out.FailedRecordCount != 0 || len(out.Records) != n {
		t.Fatalf("FailedRecordCount %d, %d results; want 0 and %d", *out.FailedRecordCount, len(out.Records), n)
	}
	seqOf := map[string]string{} // data -> sequence number
	lastOnShard := map[string]string{}
	for i, r := range out.Records {
		if r.ErrorCode != nil {
			t.Fatalf("record %d failed: %s %s", i, *r.ErrorCode, aws.ToString(r.ErrorMessage))
		}
		// Results are in request order: result i is routed like record i.
		if want := shardForKey(t, shards, *in.Records[i].PartitionKey); *r.ShardId != want {
			t.Errorf("result %d is for %s, but record %d (key %s) belongs on %s", i, *r.ShardId, i, *in.Records[i].PartitionKey, want)
		}
		seq := checkSeq(t, r.SequenceNumber)
		if prev, ok := lastOnShard[*r.ShardId]; ok && !seqLess(t, prev, seq) {
			t.Errorf("result %d: sequence number %s does not follow %s on %s", i, seq, prev, *r.ShardId)
		}
		lastOnShard[*r.ShardId] = seq
		seqOf[string(in.Records[i].Data)] = seq
	}
	if len(lastOnShard) != 4 {
		t.Fatalf("the records reached %d shards; the test needs all 4", len(lastOnShard))
	}

	// Read back: each partition key's records in request order, each with
	// the sequence number PutRecords returned.
	got := map[string][]string{}
	recs := readStream(t, c, "batch")
	if len(recs) != n {
		t.Fatalf("read %d records, want %d", len(recs), n)
	}
	for _, r := range recs {
		got[*r.PartitionKey] = append(got[*r.PartitionKey], string(r.Data))
		if seqOf[string(r.Data)] != *r.SequenceNumber {
			t.Errorf("record %q read with sequence number %s, PutRecords returned %s", r.Data, *r.SequenceNumber, seqOf[string(r.Data)])
		}
	}
	for k := range 23 {
		key := fmt.Sprintf("key-%d", k)
		var want []string
		for i := k; i < n; i += 23 {
			want = append(want, fmt.Sprintf("record-%03d", i))
		}
		if !slices.Equal(got[key], want) {
			t.Errorf("key %s read back as %q, want %q", key, got[key], want)
		}
	}
}

func TestSDKGetShardIteratorTypes(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "iters", 1)
	const shard = "shardId-000000000000"

	var seqs []string
	put := func(data string) {
		t.Helper()
		in := &kinesis.PutRecordInput{StreamName: aws.String("iters"), PartitionKey: aws.String("p"), Data: []byte(data)}
		if len(seqs)%2 == 1 {
			in.StreamName, in.StreamARN = nil, aws.String(arnOf("iters"))
		}
		out, err := c.PutRecord(ctxT(t), in)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, *out.SequenceNumber)
	}
	iter := func(in *kinesis.GetShardIteratorInput) *string {
		t.Helper()
		if in.StreamARN == nil {
			in.StreamName = aws.String("iters")
		}
		in.ShardId = aws.String(shard)
		out, err := c.GetShardIterator(ctxT(t), in)
		if err != nil {
			t.Fatalf("GetShardIterator %s: %v", in.ShardIteratorType, err)
		}
		return out.ShardIterator
	}
	data := func(recs []types.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, string(r.Data))
		}
		return out
	}
	check := func(what string, it *string, want ...string) {
		t.Helper()
		if got := data(drain(t, c, it)); !slices.Equal(got, want) {
			t.Errorf("%s: read %q, want %q", what, got, want)
		}
	}

	latestEmpty := iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest})
	for i := range 4 {
		put(fmt.Sprintf("a%d", i))
	}
	latest := iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest})
	check("LATEST on an empty shard, then 4 records", latestEmpty, "a0", "a1", "a2", "a3")
	check("TRIM_HORIZON", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon}), "a0", "a1", "a2", "a3")
	check("TRIM_HORIZON by ARN", iter(&kinesis.GetShardIteratorInput{StreamARN: aws.String(arnOf("iters")), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}),
		"a0", "a1", "a2", "a3")
	check("AT_SEQUENCE_NUMBER a1", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: aws.String(seqs[1])}),
		"a1", "a2", "a3")
	check("AFTER_SEQUENCE_NUMBER a1", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[1])}),
		"a2", "a3")
	check("AFTER_SEQUENCE_NUMBER of the last record", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[3])}))

	// AT_TIMESTAMP: records put before the timestamp do not come back.
	start := time.Now()
	before := time.Now().Add(-time.Hour)
	waitPastMillis(t, time.Now().UnixMilli(), 3*time.Millisecond)
	ts := time.Now()
	waitPastMillis(t, ts.UnixMilli(), 2*time.Millisecond)
	for i := range 3 {
		put(fmt.Sprintf("b%d", i))
	}
	check("LATEST taken after a3", latest, "b0", "b1", "b2")
	check("AT_TIMESTAMP between the batches", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(ts)}),
		"b0", "b1", "b2")
	check("AT_TIMESTAMP by ARN", iter(&kinesis.GetShardIteratorInput{StreamARN: aws.String(arnOf("iters")), ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(ts)}),
		"b0", "b1", "b2")
	check("AT_TIMESTAMP an hour ago", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(before)}),
		"a0", "a1", "a2", "a3", "b0", "b1", "b2")
	check("AT_TIMESTAMP in the future", iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Now().Add(time.Hour))}))

	// Arrival timestamps are plausible and never decrease.
	recs := drain(t, c, iter(&kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
	for i, r := range recs {
		at := *r.ApproximateArrivalTimestamp
		if at.Before(start.Add(-time.Minute)) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("record %d arrived at %v, outside the test", i, at)
		}
		if i > 0 && at.Before(*recs[i-1].ApproximateArrivalTimestamp) {
			t.Errorf("record %d arrived before record %d", i, i-1)
		}
		if *r.SequenceNumber != seqs[i] {
			t.Errorf("record %d has sequence number %s, PutRecord returned %s", i, *r.SequenceNumber, seqs[i])
		}
	}
}

func TestSDKGetRecordsPaging(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "paged", 1)
	start := time.Now()
	in := &kinesis.PutRecordsInput{StreamName: aws.String("paged")}
	for i := range 10 {
		in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte(fmt.Sprintf("r%d", i))})
	}
	if _, err := c.PutRecords(ctxT(t), in); err != nil {
		t.Fatal(err)
	}
	// Make the records at least a few milliseconds old.
	waitPastMillis(t, time.Now().UnixMilli(), 5*time.Millisecond)

	it, err := c.GetShardIterator(ctxT(t), &kinesis.GetShardIteratorInput{
		StreamName: aws.String("paged"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	iterator := it.ShardIterator
	var got []string
	for i, want := range []struct {
		records int
		behind  bool
	}{{3, true}, {3, true}, {3, true}, {1, false}, {0, false}} {
		out, err := c.GetRecords(ctxT(t), &kinesis.GetRecordsInput{ShardIterator: iterator, Limit: aws.Int32(3)})
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if len(out.Records) != want.records {
			t.Errorf("page %d: %d records, want %d", i, len(out.Records), want.records)
		}
		behind := *out.MillisBehindLatest
		if want.behind && (behind <= 0 || behind > time.Since(start).Milliseconds()+1) {
			t.Errorf("page %d stops before the end of the shard: MillisBehindLatest %d, want between 1 and %d", i, behind, time.Since(start).Milliseconds())
		}
		if !want.behind && behind != 0 {
			t.Errorf("page %d is caught up: MillisBehindLatest %d, want 0", i, behind)
		}
		if out.NextShardIterator == nil || *out.NextShardIterator == "" {
			t.Fatalf("page %d: no NextShardIterator", i)
		}
		for _, r := range out.Records {
			got = append(got, string(r.Data))
		}
		iterator = out.NextShardIterator
	}
	if want := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"}; !slices.Equal(got, want) {
		t.Errorf("chained pages read %q, want %q", got, want)
	}
	// The last iterator sees a record put later.
	if _, err := c.PutRecord(ctxT(t), &kinesis.PutRecordInput{StreamName: aws.String("paged"), PartitionKey: aws.String("k"), Data: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if recs := drain(t, c, iterator); len(recs) != 1 || string(recs[0].Data) != "late" {
		t.Errorf("after catching up, read %d records, want just \"late\"", len(recs))
	}
}

func TestSDKRetentionPeriod(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "kept", 1)
	retention := func() int32 {
		t.Helper()
		out, err := c.DescribeStreamSummary(ctxT(t), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String("kept")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.StreamDescriptionSummary.RetentionPeriodHours
	}
	for _, step := range []struct {
		increase bool
		hours    int32
		ok       bool
		want     int32 // retention afterwards
	}{
		{true, 48, true, 48},
		{true, 36, false, 48},  // increase below current
		{true, 12, false, 48},  // below 24
		{false, 72, false, 48}, // decrease above current
		{false, 30, true, 30},
		{false, 12, false, 30}, // below 24
		{false, 24, true, 24},
		{true, 8760, true, 8760},
	} {
		var err error
		op := "Increase"
		if step.increase {
			_, err = c.IncreaseStreamRetentionPeriod(ctxT(t), &kinesis.IncreaseStreamRetentionPeriodInput{StreamName: aws.String("kept"), RetentionPeriodHours: aws.Int32(step.hours)})
		} else {
			op = "Decrease"
			_, err = c.DecreaseStreamRetentionPeriod(ctxT(t), &kinesis.DecreaseStreamRetentionPeriodInput{StreamARN: aws.String(arnOf("kept")), RetentionPeriodHours: aws.Int32(step.hours)})
		}
		if step.ok && err != nil {
			t.Errorf("%s to %d: %v", op, step.hours, err)
		}
		if !step.ok {
			apiError[*types.InvalidArgumentException](t, err)
		}
		if got := retention(); got != step.want {
			t.Errorf("after %s to %d: retention %d, want %d", op, step.hours, got, step.want)
		}
	}
}

func tagString(tags []types.Tag) string {
	var parts []string
	for _, tg := range tags {
		parts = append(parts, *tg.Key+"="+aws.ToString(tg.Value))
	}
	return strings.Join(parts, ",")
}

func TestSDKTags(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	createStream(t, c, "tagged", 1)
	list := func(in *kinesis.ListTagsForStreamInput) (string, bool) {
		t.Helper()
		if in.StreamARN == nil {
			in.StreamName = aws.String("tagged")
		}
		out, err := c.ListTagsForStream(ctxT(t), in)
		if err != nil {
			t.Fatal(err)
		}
		return tagString(out.Tags), *out.HasMoreTags
	}
	add := func(tags map[string]string) error {
		_, err := c.AddTagsToStream(ctxT(t), &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagged"), Tags: tags})
		return err
	}

	if got, _ := list(&kinesis.ListTagsForStreamInput{}); got != "" {
		t.Errorf("a new stream has tags %s", got)
	}
	if err := add(map[string]string{"b": "2", "a": "1", "c": ""}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTagsToStream(ctxT(t), &kinesis.AddTagsToStreamInput{StreamARN: aws.String(arnOf("tagged")), Tags: map[string]string{"b": "two", "d": "4"}}); err != nil {
		t.Fatalf("AddTagsToStream by ARN: %v", err)
	}
	if got, more := list(&kinesis.ListTagsForStreamInput{}); got != "a=1,b=two,c=,d=4" || more {
		t.Errorf("tags %s more=%v, want a=1,b=two,c=,d=4", got, more)
	}
	if got, more := list(&kinesis.ListTagsForStreamInput{Limit: aws.Int32(2)}); got != "a=1,b=two" || !more {
		t.Errorf("first 2 tags %s more=%v, want a=1,b=two and more", got, more)
	}
	if got, more := list(&kinesis.ListTagsForStreamInput{StreamARN: aws.String(arnOf("tagged")), Limit: aws.Int32(2), ExclusiveStartTagKey: aws.String("b")}); got != "c=,d=4" || more {
		t.Errorf("2 tags after b: %s more=%v, want c=,d=4 and no more", got, more)
	}
	if _, err := c.RemoveTagsFromStream(ctxT(t), &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("tagged"), TagKeys: []string{"a", "nope"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := list(&kinesis.ListTagsForStreamInput{}); got != "b=two,c=,d=4" {
		t.Errorf("after removing a: %s, want b=two,c=,d=4", got)
	}

	// More than 10 tags in one call is refused, and nothing is added.
	eleven := map[string]string{}
	for i := range 11 {
		eleven[fmt.Sprintf("x%02d", i)] = "v"
	}
	apiError[*types.ValidationException](t, add(eleven))
	if got, _ := list(&kinesis.ListTagsForStreamInput{}); got != "b=two,c=,d=4" {
		t.Errorf("after a refused AddTagsToStream: %s, want b=two,c=,d=4", got)
	}

	// Up to 50 tags in total; the 51st is refused.
	for call := range 5 {
		batch := map[string]string{}
		for i := range 10 {
			if n := call*10 + i; n < 47 {
				batch[fmt.Sprintf("t%02d", n)] = "v"
			}
		}
		if err := add(batch); err != nil {
			t.Fatalf("adding tags to reach 50: %v", err)
		}
	}
	out, err := c.ListTagsForStream(ctxT(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 50 || *out.HasMoreTags {
		t.Fatalf("%d tags more=%v, want 50", len(out.Tags), *out.HasMoreTags)
	}
	if err := add(map[string]string{"b": "replaced"}); err != nil {
		t.Errorf("replacing a tag's value at 50 tags: %v", err)
	}
	apiError[*types.InvalidArgumentException](t, add(map[string]string{"one-too-many": "v"}))
	out, err = c.ListTagsForStream(ctxT(t), &kinesis.ListTagsForStreamInput{StreamName: aws.String("tagged")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Tags) != 50 {
		t.Errorf("after a refused 51st tag the stream has %d tags, want 50", len(out.Tags))
	}
}

func TestSDKDescribeLimits(t *testing.T) {
	s := startServer(t, streams.Options{})
	c := s.client
	f := func(open, onDemand int32) {
		t.Helper()
		out, err := c.DescribeLimits(ctxT(t), &kinesis.DescribeLimitsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if *out.ShardLimit != 500 || *out.OpenShardCount != open || *out.OnDemandStreamCount != onDemand || *out.OnDemandStreamCountLimit != 50 {
			t.Errorf("DescribeLimits: limit %d open %d on-demand %d/%d, want 500 %d %d/50",
				*out.ShardLimit, *out.OpenShardCount, *out.OnDemandStreamCount, *out.OnDemandStreamCountLimit, open, onDemand)
		}
	}
	f(0, 0)
	createStream(t, c, "three", 3)
	f(3, 0)
	if _, err := c.CreateStream(ctxT(t), &kinesis.CreateStreamInput{StreamName: aws.String("od")}); err != nil {
		t.Fatal(err)
	}
	f(7, 1)
	if _, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("three")}); err != nil {
		t.Fatal(err)
	}
	f(4, 1)
}

// The server's own consumers make a stream they read "in use", as
// registered consumers do in AWS: DeleteStream without
// EnforceConsumerDeletion (or with it false) is refused with AWS's
// ResourceInUseException and keeps the stream; with it true the stream
// goes. Streams nobody reads are deleted without it.
func TestSDKDeleteStreamWithConsumers(t *testing.T) {
	s := startServer(t, streams.Options{Consumers: []streams.Consumer{
		{Name: "tenantpulse-analytics", Streams: []string{"jobs", "companies"}},
		{Name: "tenantpulse-archiver", Streams: []string{"jobs"}},
	}})
	c := s.client
	createStream(t, c, "jobs", 2)
	createStream(t, c, "scratch", 1)
	for _, enforce := range []*bool{nil, aws.Bool(false)} {
		_, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("jobs"), EnforceConsumerDeletion: enforce})
		e := apiError[*types.ResourceInUseException](t, err)
		want := "DeleteStream can\u2019t delete 000000000000:jobs because there are consumers associated with this data stream. To delete jobs anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it."
		if msg := aws.ToString(e.Message); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "tenantpulse-analytics, tenantpulse-archiver") {
			t.Errorf("EnforceConsumerDeletion %v: message %q, want it to start %q and name both consumers", enforce, msg, want)
		}
	}
	if got := listStreamNames(t, c); !slices.Equal(got, []string{"jobs", "scratch"}) {
		t.Fatalf("streams after refused deletions: %q", got)
	}
	_, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("missing")})
	apiError[*types.ResourceNotFoundException](t, err)
	if _, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamName: aws.String("scratch")}); err != nil {
		t.Fatalf("DeleteStream of a stream no consumer reads: %v", err)
	}
	if _, err := c.DeleteStream(ctxT(t), &kinesis.DeleteStreamInput{StreamARN: aws.String(arnOf("jobs")), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatalf("DeleteStream with EnforceConsumerDeletion: %v", err)
	}
	if got := listStreamNames(t, c); len(got) != 0 {
		t.Errorf("streams after the forced deletion: %q", got)
	}
}
