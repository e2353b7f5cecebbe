package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

const (
	// kinesisMaxLimit is GetRecords' largest Limit.
	kinesisMaxLimit = 10000
	// kinesisPoll is the least time between two GetRecords of one cursor
	// after one that found nothing: Kinesis allows 5 reads a second per
	// shard.
	kinesisPoll = 200 * time.Millisecond
	// kinesisBackoffMin and kinesisBackoffMax bound the pause after a
	// throttled call; it doubles on every throttle in a row.
	kinesisBackoffMin = 50 * time.Millisecond
	kinesisBackoffMax = 2 * time.Second
	// kinesisThrottleRetries bounds how often Describe and Open retry a
	// throttled call before giving up.
	kinesisThrottleRetries = 12
)

type kinesisReader struct {
	client *kinesis.Client
}

// NewKinesis returns a Reader over a Kinesis Data Streams endpoint (AWS, or
// this project's Kinesis API) through client.
//
// Describe calls DescribeStreamSummary and pages through ListShards. Open gets an AFTER_SEQUENCE_NUMBER (or
// TRIM_HORIZON) iterator; Next calls GetRecords with Limit = max (at most
// 10,000) and keeps NextShardIterator. An expired iterator is replaced by
// one after the last record returned; throttling
// (ProvisionedThroughputExceededException, LimitExceededException) is
// never returned: the cursor backs off (50 ms doubling to 2 s) and tries
// again while its wait lasts, else returns an empty batch. After a
// GetRecords that found nothing the cursor calls again no sooner than
// 200 ms later (Kinesis allows 5 reads a second per shard): a waiting Next
// sleeps until then, and a Next that may not wait returns an empty batch
// without calling.
//
// MillisBehind is GetRecords' MillisBehindLatest. Trimmed is always false:
// Kinesis silently starts an iterator after a trimmed sequence number at
// the trim horizon and does not say whether records were skipped.
//
// Records' Seq strings are the SDK's own and stay valid; Data aliases the
// SDK's decoded response and PartitionKey a per-cursor arena, both valid
// until the next Next. Arrival comes from the SDK, which parses the epoch
// seconds of ApproximateArrivalTimestamp as a float64 and truncates to the
// millisecond, so it can be 1 ms less than the stored arrival.
func NewKinesis(client *kinesis.Client) Reader {
	return &kinesisReader{client: client}
}

// Describe implements Reader: DescribeStreamSummary for the creation
// time, ListShards for the shards, and DescribeStreamSummary again to make
// sure the shards are the same stream's (a stream deleted and created
// again in between is described again).
func (k *kinesisReader) Describe(ctx context.Context, stream string) (Description, error) {
	created, err := k.created(ctx, stream)
	for range 3 {
		if err != nil {
			return Description{}, err
		}
		var ids []string
		if ids, err = k.shards(ctx, stream); err != nil {
			return Description{}, err
		}
		var again int64
		if again, err = k.created(ctx, stream); err == nil && again == created {
			return Description{Shards: ids, Created: created}, nil
		}
		created = again
	}
	if err != nil {
		return Description{}, err
	}
	return Description{}, fmt.Errorf("cannot describe stream %q: it was deleted and created again while being described, three times in a row", stream)
}

// created returns the stream's StreamCreationTimestamp in Unix ms.
func (k *kinesisReader) created(ctx context.Context, stream string) (int64, error) {
	var out *kinesis.DescribeStreamSummaryOutput
	err := retryThrottled(ctx, func() (err error) {
		out, err = k.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		return err
	})
	if err != nil {
		if apiCode(err) == "ResourceNotFoundException" {
			return 0, fmt.Errorf("cannot describe stream %q: %w (%w)", stream, ErrStreamNotFound, err)
		}
		return 0, fmt.Errorf("cannot describe stream %q: %w", stream, err)
	}
	if out.StreamDescriptionSummary == nil || out.StreamDescriptionSummary.StreamCreationTimestamp == nil {
		return 0, fmt.Errorf("cannot describe stream %q: DescribeStreamSummary answered no StreamCreationTimestamp", stream)
	}
	return out.StreamDescriptionSummary.StreamCreationTimestamp.UnixMilli(), nil
}

// shards pages through ListShards.
func (k *kinesisReader) shards(ctx context.Context, stream string) ([]string, error) {
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	var ids []string
	for {
		var out *kinesis.ListShardsOutput
		err := retryThrottled(ctx, func() (err error) {
			out, err = k.client.ListShards(ctx, in)
			return err
		})
		if err != nil {
			if apiCode(err) == "ResourceNotFoundException" {
				return nil, fmt.Errorf("cannot list the shards of stream %q: %w (%w)", stream, ErrStreamNotFound, err)
			}
			return nil, fmt.Errorf("cannot list the shards of stream %q: %w", stream, err)
		}
		for _, sh := range out.Shards {
			ids = append(ids, aws.ToString(sh.ShardId))
		}
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	slices.Sort(ids) // ids are fixed-width: sorting them sorts the indexes
	return ids, nil
}

// Open implements Reader.
func (k *kinesisReader) Open(ctx context.Context, stream, shard, after string) (Cursor, error) {
	c := &kinesisCursor{client: k.client, stream: stream, shard: shard, last: after}
	if err := c.reopen(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

type kinesisCursor struct {
	client        *kinesis.Client
	stream, shard string
	last          string  // the sequence number to read after ("": TRIM_HORIZON)
	iter          *string // nil: get a new one from last
	ended         bool    // the shard is closed and read to its end
	closed        bool

	notBefore time.Time     // no GetRecords before this (pacing, back-off)
	backoff   time.Duration // the current back-off after throttling
	behind    int64         // MillisBehindLatest of the last response

	out  []Record
	keys []byte // the arena partition keys are copied into
}

// reopen gets a shard iterator after c.last.
func (c *kinesisCursor) reopen(ctx context.Context) error {
	in := &kinesis.GetShardIteratorInput{
		StreamName:        aws.String(c.stream),
		ShardId:           aws.String(c.shard),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}
	if c.last != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(c.last)
	}
	var out *kinesis.GetShardIteratorOutput
	err := retryThrottled(ctx, func() (err error) {
		out, err = c.client.GetShardIterator(ctx, in)
		return err
	})
	if err == nil {
		c.iter = out.ShardIterator
		return nil
	}
	switch apiCode(err) {
	case "ResourceNotFoundException":
		// Kinesis says the same for a missing stream and a missing shard.
		_, derr := c.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(c.stream)})
		if apiCode(derr) == "ResourceNotFoundException" {
			return fmt.Errorf("cannot open shard %q of stream %q: %w (%w)", c.shard, c.stream, ErrStreamNotFound, err)
		}
		return fmt.Errorf("cannot open shard %q of stream %q: %w (%w)", c.shard, c.stream, ErrShardNotFound, err)
	case "InvalidArgumentException":
		if c.last != "" {
			return fmt.Errorf("cannot open shard %q of stream %q after %q: %w (%w)", c.shard, c.stream, c.last, ErrBadSequence, err)
		}
	}
	return fmt.Errorf("cannot open shard %q of stream %q: %w", c.shard, c.stream, err)
}

// Next implements Cursor.
func (c *kinesisCursor) Next(ctx context.Context, limit int, wait time.Duration) (Batch, error) {
	if c.closed {
		return Batch{}, ErrClosed
	}
	if c.ended {
		return Batch{}, fmt.Errorf("cannot read shard %q of stream %q: %w", c.shard, c.stream, ErrShardClosed)
	}
	if limit <= 0 {
		return Batch{}, fmt.Errorf("cannot read shard %q of stream %q: max must be positive, not %d", c.shard, c.stream, limit)
	}
	if err := ctx.Err(); err != nil {
		return Batch{}, err
	}
	deadline := time.Now().Add(wait)
	for {
		if d := time.Until(c.notBefore); d > 0 {
			left := time.Until(deadline)
			if left <= 0 {
				return Batch{MillisBehind: c.behind}, nil
			}
			if err := sleep(ctx, min(d, left)); err != nil {
				return Batch{}, err
			}
			continue
		}
		if c.iter == nil {
			if err := c.reopen(ctx); err != nil {
				if isThrottle(err) {
					c.throttled()
					continue
				}
				return Batch{}, err
			}
		}
		out, err := c.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: c.iter, Limit: aws.Int32(int32(min(limit, kinesisMaxLimit)))})
		if err != nil {
			switch {
			case isThrottle(err):
				c.throttled()
				continue
			case apiCode(err) == "ExpiredIteratorException":
				c.iter = nil
				continue
			case apiCode(err) == "ResourceNotFoundException":
				return Batch{}, fmt.Errorf("cannot read shard %q of stream %q: %w (%w)", c.shard, c.stream, ErrStreamNotFound, err)
			case ctx.Err() != nil:
				return Batch{}, ctx.Err()
			}
			return Batch{}, fmt.Errorf("cannot read shard %q of stream %q: %w", c.shard, c.stream, err)
		}
		c.backoff = 0
		c.iter = out.NextShardIterator
		c.behind = aws.ToInt64(out.MillisBehindLatest)
		if len(out.Records) > 0 {
			c.notBefore = time.Time{}
			if c.iter == nil {
				c.ended = true
			}
			return Batch{Records: c.fill(out.Records), MillisBehind: c.behind}, nil
		}
		if c.iter == nil {
			c.ended = true
			return Batch{}, fmt.Errorf("cannot read shard %q of stream %q: %w", c.shard, c.stream, ErrShardClosed)
		}
		c.notBefore = time.Now().Add(kinesisPoll)
		if time.Until(deadline) <= 0 {
			return Batch{MillisBehind: c.behind}, nil
		}
	}
}

// throttled schedules the next call after a throttled one.
func (c *kinesisCursor) throttled() {
	c.backoff = min(max(2*c.backoff, kinesisBackoffMin), kinesisBackoffMax)
	c.notBefore = time.Now().Add(c.backoff)
}

// fill converts the SDK's records, copying partition keys into the arena.
func (c *kinesisCursor) fill(recs []types.Record) []Record {
	n := 0
	for i := range recs {
		n += len(aws.ToString(recs[i].PartitionKey))
	}
	if cap(c.keys) < n {
		c.keys = make([]byte, 0, max(n, 2*cap(c.keys)))
	}
	keys := c.keys[:0]
	out := c.out[:0]
	for i := range recs {
		r := &recs[i]
		at := len(keys)
		keys = append(keys, aws.ToString(r.PartitionKey)...)
		var arrival int64
		if r.ApproximateArrivalTimestamp != nil {
			arrival = r.ApproximateArrivalTimestamp.UnixMilli()
		}
		out = append(out, Record{
			Seq:          aws.ToString(r.SequenceNumber),
			Arrival:      arrival,
			PartitionKey: keys[at:len(keys):len(keys)],
			Data:         r.Data,
		})
	}
	c.keys, c.out = keys, out
	c.last = out[len(out)-1].Seq
	return out
}

// Close implements Cursor.
func (c *kinesisCursor) Close() error {
	c.closed = true
	c.iter, c.out, c.keys = nil, nil, nil
	return nil
}

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isThrottle(err error) bool {
	switch apiCode(err) {
	case "ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException":
		return true
	}
	return false
}

// retryThrottled calls f until it is not throttled, backing off between
// calls, at most kinesisThrottleRetries times.
func retryThrottled(ctx context.Context, f func() error) error {
	backoff := kinesisBackoffMin
	for i := 0; ; i++ {
		err := f()
		if err == nil || !isThrottle(err) || i == kinesisThrottleRetries {
			return err
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
		backoff = min(2*backoff, kinesisBackoffMax)
	}
}
