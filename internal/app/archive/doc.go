// Package archive is the archiver service, the reference architecture's
// Kinesis Data Firehose to S3: it reads every record of the companies and
// jobs streams and stores each, exactly once, in its tenant's bucket as
// Snappy-compressed Parquet partitioned Hive-style by the event's UTC date
// (events/stream=<stream>/dt=<date>/<shard>-<first>-<last>.parquet).
//
// Records are buffered per (tenant, stream, date) and a buffer becomes one
// file when it reaches a size or an age, or too many are open, or the
// service stops. A shard's checkpoint (under the data directory) records
// the position below which everything is stored, the highest sequence
// number stored per partition, and the one file being stored, so after a
// crash the shard replays from that position, skips what is stored and
// finishes or forgets the file in flight: nothing is archived twice or
// lost. Records that are not valid events go to the errors bucket.
//
// It reads streams through internal/stream and writes through
// internal/objstore; the file formats are internal/archive/parquetfile's.
package archive
