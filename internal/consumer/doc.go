// Package consumer owns how a built-in stream consumer (the analytics
// processor, the archiver) follows the streams it reads when one is
// deleted or created again:
//
//   - the mark it keeps beside its checkpoints of each stream, naming the
//     stream incarnation they belong to (the stream's creation time,
//     internal/stream's Description.Created) and how often, when and why
//     the consumer dropped them (docs/format/consumer-mark.md);
//   - the Follower, which at start and while the consumer's workers run
//     (told by a worker's cursor error, or by describing the streams every
//     few seconds) stops the workers, has the consumer drop what it holds
//     of a deleted or recreated stream, removes its checkpoints, counts
//     the reset, logs it, and has the consumer open the new stream from
//     its start.
//
// The consumers own their checkpoints' format, their state and their
// workers (the Holder interface); this package must not know what a
// consumer computes, and never reads records.
package consumer
