// Package streamlog owns the embedded, durable stream store: streams made of
// shards, each shard an append-only log of records kept in segment files
// with a CRC-32C per record and a sparse index for seeks, group commit with
// fsync before acknowledgement, crash recovery that truncates a torn tail,
// and whole-segment retention. It counts each shard's acknowledged writes
// and their rate over the last minute (Shard.Stats), whichever API made them.
//
// It knows Kinesis's data model (hash key ranges, sequence numbers, arrival
// timestamps) but nothing of any wire protocol: the Kinesis API lives in
// internal/app/streams and calls in here. The on-disk formats are described
// in docs/format/segment.md, docs/format/segment-index.md and
// docs/format/stream-meta.md.
//
// Locks, in the order they nest: Store.mu, then Stream.mu; Shard.wmu
// (writer), then Shard.mu (assignment), then Shard.rmu (reader snapshot).
// The write counters' lock (writeStats.mu) is a leaf: taken alone.
package streamlog
