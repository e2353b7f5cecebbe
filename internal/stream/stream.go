package stream

import (
	"context"
	"errors"
	"time"
)

// Record is one record read from a shard. Seq, PartitionKey and Data may
// alias the cursor's buffers: they are valid until the next Next (or Close)
// on the same Cursor and must not be modified. Copy what you keep
// (strings.Clone(r.Seq), bytes.Clone(r.Data)).
type Record struct {
	Seq          string // the Kinesis sequence number
	Arrival      int64  // ApproximateArrivalTimestamp, Unix milliseconds
	PartitionKey []byte
	Data         []byte
}

// Batch is what one Next returns.
type Batch struct {
	Records []Record
	// MillisBehind is how far the cursor is behind the shard's latest
	// record, in arrival time (Kinesis MillisBehindLatest): 0 when the
	// batch reaches the newest record, else how long ago (by the reader's
	// clock) the last record returned arrived, as Kinesis computes it.
	MillisBehind int64
	// Trimmed is set when records between the cursor's position and the
	// first record of this batch were deleted by retention before they
	// could be read: the consumer has lost them and should count and
	// report that. Only the embedded reader can tell (see NewKinesis).
	Trimmed bool
}

// Description is what Describe says about a stream.
type Description struct {
	// Shards lists the stream's shard ids (shardId-000000000000, ...), in
	// order.
	Shards []string
	// Created is when the stream was created (Kinesis
	// StreamCreationTimestamp), in Unix milliseconds. With the name it
	// identifies the stream: one deleted and created again under the same
	// name has another Created, and positions read in the old one mean
	// nothing in the new one (KCL names a stream by account, name and
	// creation epoch for the same reason).
	Created int64
}

// Reader reads streams. Implementations are safe for concurrent use; each
// Cursor is used by one goroutine.
type Reader interface {
	// Describe returns the stream's shards and creation time.
	Describe(ctx context.Context, stream string) (Description, error)
	// Open returns a cursor reading the shard's records after sequence
	// number after ("" = from the oldest record still retained,
	// TRIM_HORIZON).
	Open(ctx context.Context, stream, shard, after string) (Cursor, error)
}

// Cursor reads one shard in order. It is used by one goroutine at a time.
type Cursor interface {
	// Next returns up to max records after the cursor's position and
	// advances past them. When no record is available it waits up to wait
	// for one (returning an empty batch if none came); wait 0 returns at
	// once. A batch may hold fewer than max records even when more are
	// available (a reader returns what one buffer or one request holds).
	Next(ctx context.Context, max int, wait time.Duration) (Batch, error)
	// Close releases the cursor; Next then returns ErrClosed.
	Close() error
}

var (
	// ErrStreamNotFound is wrapped by Describe and Open for a stream that
	// does not exist, and by Next once the cursor's stream has been
	// deleted (even if a stream of the same name exists again: Describe
	// tells them apart by Created).
	ErrStreamNotFound = errors.New("stream not found")
	// ErrShardNotFound is wrapped by Open for a shard the stream does not
	// have.
	ErrShardNotFound = errors.New("shard not found")
	// ErrBadSequence is wrapped by Open for a sequence number that is not
	// one of the shard's (malformed, or from another shard or stream, such
	// as a deleted stream of the same name).
	ErrBadSequence = errors.New("sequence number not from this shard")
	// ErrShardClosed is returned by Next once a closed shard (after
	// resharding, in AWS) has been read to its end. The embedded store
	// never closes shards.
	ErrShardClosed = errors.New("shard closed")
	// ErrClosed is returned by Next on a closed Cursor.
	ErrClosed = errors.New("cursor closed")
)
