// Package bench implements `tenantpulse bench <name>`: load generators that
// measure a running server from the outside, over its public wire protocol.
//
// The only benchmark today is "kinesis" (kinesis.go). It drives any
// Kinesis-Data-Streams-compatible endpoint (tenantpulse, kinesalite,
// LocalStack, AWS) so results can be compared, in two client modes:
//
//   - sdk: aws-sdk-go-v2's kinesis client, i.e. what a typical application sees;
//   - raw: pre-encoded JSON 1.1 request bodies over keep-alive net/http
//     connections with cheap response scanning (raw.go), so the numbers show
//     the server's capacity rather than the client's encoding cost.
//
// Control-plane calls (CreateStream, DescribeStreamSummary, ListShards,
// GetShardIterator, DeleteStream) always go through the SDK; only the timed
// data path differs between modes. Server CPU and memory are read from
// /proc/<pid> or the server's Prometheus /metrics page (serverstats.go).
//
// Non-obvious: with both modes each mode gets its own stream
// (<stream>-sdk, <stream>-raw) so both start empty; only streams this run
// created are deleted; raw mode counts get-phase bytes as records x --size
// since it does not decode record data.
//
// The package owns no server state and must not import any server package:
// everything it knows about the server comes over the network or /proc.
// New benchmarks are added as one entry in the benchmarks table in bench.go.
package bench
