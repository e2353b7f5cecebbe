// Package analytics is the analytics processor service, the reference
// architecture's Kinesis Data Analytics job: workers that read the
// companies and jobs streams through internal/stream (in process for the
// embedded store, or over the Kinesis API), apply each shard's records to
// its internal/analytics.ShardState, checkpoint each shard's state with
// its position (write, fsync, rename) and resume from the checkpoint after
// a restart, so metrics are exactly once; and the JSON API under /v1 that
// serves the live view (api.go) with its Prometheus metrics.
//
// The aggregations themselves live in internal/analytics; this package
// owns the goroutines, locks and files.
package analytics
