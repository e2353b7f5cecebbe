// Package streams owns the Kinesis Data Streams API: it decodes requests
// sent to POST / with X-Amz-Target: Kinesis_20131202.<Operation> in JSON 1.1
// or CBOR 1.1, validates them as AWS does, runs them against the embedded
// stream store (internal/streamlog) and answers in the request's encoding,
// with AWS's error types.
//
// One file per operation; each opens with a comment on what it supports
// and how it differs from AWS. The wire codecs and the error table live in
// internal/awswire; this package must not touch segment files directly.
//
// It also serves GET /v1/streams (v1streams.go), tenantpulse's own JSON view
// of the streams, their shards and write rates, for the dashboard; the store
// counts the writes, so those of POST /v1/events show too.
package streams
