package sim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// newKinesisClient returns an aws-sdk-go-v2 Kinesis client for endpoint
// with dummy static credentials (tenantpulse does not check them) in
// us-east-1. The SDK retries transient errors; its client-side retry quota
// is off so a long backfill cannot exhaust it.
func newKinesisClient(endpoint string, concurrency int) *kinesis.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = concurrency + 4
	})
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("tenantpulse", "tenantpulse", ""),
		HTTPClient:  hc,
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.RateLimiter = ratelimit.None
				o.MaxAttempts = 5
			})
		},
	}
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// kinesisSender sends a batch (one stream's events) with PutRecords,
// partition key = tenant id, and sends failed records again with backoff.
type kinesisSender struct {
	kc *kinesis.Client
}

func (s *kinesisSender) send(ctx context.Context, b *batch, st *Stats) error {
	pending := make([]int, len(b.evs))
	for i := range pending {
		pending[i] = i
	}
	entries := make([]types.PutRecordsRequestEntry, 0, len(b.evs))
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			st.Retried.Add(int64(len(pending)))
			if err := backoff(ctx, attempt-1); err != nil {
				return fmt.Errorf("cannot deliver %d events: %w", len(pending), err)
			}
		}
		entries = entries[:0]
		for _, i := range pending {
			e := &b.evs[i]
			entries = append(entries, types.PutRecordsRequestEntry{Data: b.data[e.off:e.end], PartitionKey: aws.String(e.key)})
		}
		out, err := s.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(b.stream), Records: entries})
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("cannot deliver %d events: %w", len(pending), ctx.Err())
			}
			if !retryableAWS(err) {
				return fmt.Errorf("PutRecords to %s: %w", b.stream, err)
			}
			continue
		}
		if len(out.Records) != len(pending) {
			return fmt.Errorf("PutRecords to %s answered %d records for %d", b.stream, len(out.Records), len(pending))
		}
		next := pending[:0]
		for k, r := range out.Records {
			if r.ErrorCode == nil {
				st.Delivered.Add(1)
				continue
			}
			next = append(next, pending[k]) // throttling or an internal failure
		}
		pending = next
		if len(pending) == 0 {
			return nil
		}
	}
}

// retryableAWS reports whether an SDK error may go away: throttling, server
// faults and transport errors; client faults (a missing stream, a bad
// request) do not.
func retryableAWS(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.ErrorCode() {
	case "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException":
		return true
	}
	return ae.ErrorFault() != smithy.FaultClient
}

// readStreams collects the ordinals above acked of this seed's events that
// arrived in the companies and jobs streams since since (from the trim
// horizon when since is older than the retention).
func readStreams(ctx context.Context, kc *kinesis.Client, seed uint64, acked int64, since time.Time) (map[int64]struct{}, error) {
	found := map[int64]struct{}{}
	prefix := fmt.Sprintf("%d-", seed)
	for _, stream := range []string{StreamCompanies, StreamJobs} {
		sum, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			return nil, fmt.Errorf("DescribeStreamSummary %s: %w", stream, err)
		}
		retention := 24 * time.Hour
		if d := sum.StreamDescriptionSummary; d != nil && d.RetentionPeriodHours != nil {
			retention = time.Duration(*d.RetentionPeriodHours) * time.Hour
		}
		shards, err := listShards(ctx, kc, stream)
		if err != nil {
			return nil, err
		}
		for _, shard := range shards {
			in := &kinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard)}
			if since.Before(time.Now().Add(-retention + time.Minute)) {
				in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
			} else {
				in.ShardIteratorType = types.ShardIteratorTypeAtTimestamp
				in.Timestamp = aws.Time(since)
			}
			it, err := kc.GetShardIterator(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("GetShardIterator %s/%s: %w", stream, shard, err)
			}
			if err := readShard(ctx, kc, it.ShardIterator, prefix, acked, found); err != nil {
				return nil, fmt.Errorf("cannot read %s/%s: %w", stream, shard, err)
			}
		}
	}
	return found, nil
}

func listShards(ctx context.Context, kc *kinesis.Client, stream string) ([]string, error) {
	var shards []string
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := kc.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListShards %s: %w", stream, err)
		}
		for _, s := range out.Shards {
			shards = append(shards, aws.ToString(s.ShardId))
		}
		if out.NextToken == nil {
			return shards, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// readShard reads a shard to its end.
func readShard(ctx context.Context, kc *kinesis.Client, iter *string, prefix string, acked int64, found map[int64]struct{}) error {
	for iter != nil {
		out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
		if err != nil {
			return fmt.Errorf("GetRecords: %w", err)
		}
		for _, r := range out.Records {
			if o, ok := ParseOrdinal(r.Data, prefix); ok && o > acked {
				found[o] = struct{}{}
			}
		}
		if len(out.Records) == 0 && aws.ToInt64(out.MillisBehindLatest) == 0 {
			return nil
		}
		iter = out.NextShardIterator
	}
	return nil
}
