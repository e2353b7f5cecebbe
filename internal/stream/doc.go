// Package stream owns the consumer side of the stream store: the narrow
// Reader/Cursor interface that the analytics processor (and later the
// archiver) read shards through, and its backends:
//
//   - NewEmbedded reads the embedded log (internal/streamlog) in process,
//     with a reused buffer per cursor and no allocation per record;
//   - NewKinesis reads any Kinesis Data Streams endpoint (AWS, or this
//     binary's own Kinesis API) with aws-sdk-go-v2: ListShards,
//     GetShardIterator and GetRecords.
//
// Both pass the one conformance suite in package streamtest. A consumer
// names its position by the sequence number of the last record it
// processed; Open resumes right after it, which is what a checkpoint needs.
//
// It knows streams, shards, sequence numbers and records as opaque bytes;
// it must not know about events, tenants, analytics or checkpoints, and it
// never writes to a stream.
package stream
