// Package analytics owns the per-tenant metrics of the reference
// architecture's Kinesis Data Analytics job: the state one (stream, shard)
// keeps for every tenant in it, the aggregations that update it (declared
// as data in aggregations.go), event time and the watermark, the dedupe of
// repeated events, the dead-letter list, the views that merge a tenant's
// parts from a companies shard and a jobs shard, and the checkpoint format
// that saves a shard's state with its position.
//
// It is a library without goroutines or I/O beyond encoding checkpoints:
// the processor service (internal/app/analytics) reads the streams, owns
// the locks and writes the files. Tester feeds events to it directly, so
// every aggregation is testable without a stream store.
//
// Days are UTC days; "the last N days" at a time T are the N UTC days
// ending with T's day. A tenant keeps day slices in a ring of RingDays days
// and hour slices in a ring of RingHours hours, so trailing counts cost
// nothing per event.
package analytics
