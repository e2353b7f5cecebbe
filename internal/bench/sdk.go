package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Stream setup limits: real AWS and LocalStack take seconds to create a
// stream.
const (
	activePollInterval = 100 * time.Millisecond
	activeTimeout      = 60 * time.Second
)

// benchCredentials returns the credentials used to sign requests: the
// standard AWS environment variables when set (to benchmark real AWS),
// otherwise the dummy pair bench/bench that local servers accept.
func benchCredentials() aws.Credentials {
	id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if id != "" && secret != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment"}
	}
	return aws.Credentials{AccessKeyID: "bench", SecretAccessKey: "bench", Source: "bench"}
}

// sdkClient wraps the aws-sdk-go-v2 Kinesis client. It serves the control
// plane for both modes and the data plane for the sdk mode.
type sdkClient struct {
	kc *kinesis.Client
}

func newSDKClient(o KinesisOptions, creds aws.Credentials) *sdkClient {
	conns := max(o.Producers, o.Consumers, o.Shards) + 4
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 2 * conns
		t.MaxIdleConnsPerHost = conns
	})
	cfg := aws.Config{
		Region:      o.Region,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		HTTPClient:  hc,
		// The standard retryer, minus its client-side retry quota: a
		// benchmark that saturates the server must not fail because the
		// quota ran dry.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.RateLimiter = ratelimit.None })
		},
	}
	kc := kinesis.NewFromConfig(cfg, func(ko *kinesis.Options) {
		ko.BaseEndpoint = aws.String(o.Endpoint)
	})
	return &sdkClient{kc: kc}
}

// streamInfo describes a stream ready for the benchmark.
type streamInfo struct {
	shards      []string
	preexisting bool
}

// ensureStream creates the stream unless it exists, waits until it is
// ACTIVE and lists its shards.
func (c *sdkClient) ensureStream(ctx context.Context, name string, shards int) (streamInfo, error) {
	var st streamInfo
	_, err := c.kc.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name),
		ShardCount: aws.Int32(int32(shards)),
	})
	if err != nil {
		var inUse *types.ResourceInUseException
		if !errors.As(err, &inUse) {
			return st, fmt.Errorf("CreateStream: %w", err)
		}
		st.preexisting = true
	}
	if err := c.waitActive(ctx, name); err != nil {
		return st, err
	}
	st.shards, err = c.listShards(ctx, name)
	if err != nil {
		return st, err
	}
	if len(st.shards) == 0 {
		return st, errors.New("ListShards returned no shards")
	}
	return st, nil
}

func (c *sdkClient) waitActive(ctx context.Context, name string) error {
	deadline := time.Now().Add(activeTimeout)
	last := "unknown"
	for {
		out, err := c.kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		switch {
		case errors.As(err, &notFound):
			// Eventual consistency right after CreateStream on AWS.
			last = "not found"
		case err != nil:
			return fmt.Errorf("DescribeStreamSummary: %w", err)
		case out.StreamDescriptionSummary == nil:
			return errors.New("DescribeStreamSummary: response has no StreamDescriptionSummary")
		default:
			last = string(out.StreamDescriptionSummary.StreamStatus)
			switch out.StreamDescriptionSummary.StreamStatus {
			case types.StreamStatusActive:
				return nil
			case types.StreamStatusDeleting:
				return fmt.Errorf("stream %q is being deleted; wait or pass another --stream", name)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stream %q not ACTIVE after %s (last status: %s)", name, activeTimeout, last)
		}
		if err := sleepCtx(ctx, activePollInterval); err != nil {
			return err
		}
	}
}

func (c *sdkClient) listShards(ctx context.Context, name string) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for {
		out, err := c.kc.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListShards: %w", err)
		}
		for _, s := range out.Shards {
			ids = append(ids, aws.ToString(s.ShardId))
		}
		if aws.ToString(out.NextToken) == "" {
			return ids, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

func (c *sdkClient) deleteStream(ctx context.Context, name string) error {
	_, err := c.kc.DeleteStream(ctx, &kinesis.DeleteStreamInput{
		StreamName:              aws.String(name),
		EnforceConsumerDeletion: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("DeleteStream: %w", err)
	}
	return nil
}

// trimHorizon returns a TRIM_HORIZON iterator for shard.
func (c *sdkClient) trimHorizon(ctx context.Context, stream, shard string) (string, error) {
	out, err := c.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName:        aws.String(stream),
		ShardId:           aws.String(shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return "", fmt.Errorf("GetShardIterator %s: %w", shard, err)
	}
	if aws.ToString(out.ShardIterator) == "" {
		return "", fmt.Errorf("GetShardIterator %s: empty ShardIterator", shard)
	}
	return *out.ShardIterator, nil
}

// sdkPutter sends PutRecords through the SDK. The request entries of the
// prepared batches are built once; the SDK still serializes every request,
// which is the client cost this mode measures.
type sdkPutter struct {
	api     *sdkClient
	stream  string
	w       *workload
	entries [][]types.PutRecordsRequestEntry
}

func newSDKPutter(api *sdkClient, stream string, w *workload) *sdkPutter {
	p := &sdkPutter{api: api, stream: stream, w: w}
	for _, b := range w.batches {
		p.entries = append(p.entries, sdkEntries(b))
	}
	return p
}

func sdkEntries(recs []recordRef) []types.PutRecordsRequestEntry {
	es := make([]types.PutRecordsRequestEntry, len(recs))
	for i, r := range recs {
		es[i] = types.PutRecordsRequestEntry{Data: r.data, PartitionKey: aws.String(r.key)}
	}
	return es
}

func (p *sdkPutter) putPrepared(ctx context.Context, idx int) (putResult, error) {
	return p.send(ctx, p.entries[idx], p.w.batches[idx])
}

func (p *sdkPutter) putRecords(ctx context.Context, recs []recordRef) (putResult, error) {
	return p.send(ctx, sdkEntries(recs), recs)
}

func (p *sdkPutter) send(ctx context.Context, entries []types.PutRecordsRequestEntry, recs []recordRef) (putResult, error) {
	var res putResult
	out, err := p.api.kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(p.stream), Records: entries})
	if err != nil {
		return res, fmt.Errorf("PutRecords: %w", err)
	}
	if ar, ok := retry.GetAttemptResults(out.ResultMetadata); ok && len(ar.Results) > 1 {
		res.resent = (len(ar.Results) - 1) * len(entries)
	}
	if aws.ToInt32(out.FailedRecordCount) == 0 {
		return res, nil
	}
	if len(out.Records) != len(entries) {
		return res, fmt.Errorf("PutRecords: %d result entries for %d records", len(out.Records), len(entries))
	}
	for i, r := range out.Records {
		if r.ErrorCode != nil {
			res.failed = append(res.failed, recs[i])
			res.errorCode = *r.ErrorCode
		}
	}
	return res, nil
}

// sdkReader reads shards with the SDK's GetRecords.
type sdkReader struct {
	api    *sdkClient
	stream string
}

func (r *sdkReader) iterator(ctx context.Context, shard string) (string, error) {
	return r.api.trimHorizon(ctx, r.stream, shard)
}

func (r *sdkReader) getRecords(ctx context.Context, iter string) (page, error) {
	out, err := r.api.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(getLimit)})
	if err != nil {
		return page{}, fmt.Errorf("GetRecords: %w", err)
	}
	pg := page{
		records: len(out.Records),
		next:    aws.ToString(out.NextShardIterator),
		behind:  aws.ToInt64(out.MillisBehindLatest),
	}
	for _, rec := range out.Records {
		pg.bytes += int64(len(rec.Data))
	}
	return pg, nil
}
