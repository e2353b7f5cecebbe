// Package consumer owns what a built-in stream consumer (the analytics
// processor, the archiver) keeps about the stream it reads, beside its
// positions in it: the mark naming which incarnation of the stream the
// positions belong to (the stream's creation time, internal/stream's
// Description.Created), and how often, when and why the consumer had to
// drop them and start over because the stream was deleted or created
// again. docs/format/consumer-mark.md specifies the file.
//
// It decides when a consumer must start over (Mark.Follow) and removes the
// positions (DropPositions); the consumers own their positions' format,
// their state and when to act. It must not read streams or know what a
// consumer computes.
package consumer
