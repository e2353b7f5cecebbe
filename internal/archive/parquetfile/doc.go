// Package parquetfile owns the archive's Parquet files: the three schemas
// (events, errors, metrics snapshots) as Go row types, their encoding into
// whole Snappy-compressed files in memory, their decoding, and the merge of
// event files for compaction. docs/format/archive-parquet.md specifies the
// files for the people who query them.
//
// It must not touch storage (local directories, S3), choose file names or
// partitions, or read streams: the archive service does that and hands
// whole files to its store.
//
// Non-obvious:
//   - Columns are snake_case (what BI tools expect); the JSON API's camelCase
//     names map to them one to one (activeUsers30d is active_users_30d).
//   - The stream is a Hive partition key in the archive's layout
//     (events/stream=jobs/dt=2026-11-25/...), so inside the file it is the
//     column stream_name: a column and a partition key of the same name
//     make some readers fail or silently prefer one. The date partition dt
//     has no column at all (time and arrival carry it).
//   - Nullable columns are pointers in the row types, so a null is never
//     confused with a zero or empty value (revenue 0, industry "").
//   - Rows to archive are buffered in an EventBatch, not as EventRows: one
//     byte slice of records and fixed-size rows of offsets and numbers,
//     nothing for the garbage collector to scan. WriteBatch turns them into
//     EventRows a chunk at a time, pointing into the batch's bytes.
//   - Timestamps are int64 Unix microseconds in the row types and
//     TIMESTAMP(MICROS, UTC) in the files; an event time's nanoseconds
//     beyond the microsecond are truncated.
//   - The data column is the event's data object exactly as it was stored
//     (escapes and unknown members included), so nothing the typed columns
//     leave out is lost.
package parquetfile
