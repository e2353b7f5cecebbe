// Package awswire owns the AWS wire protocol details that tenantpulse's
// Kinesis-compatible API shares: the AWS JSON 1.1 and CBOR 1.1 codecs
// (application/x-amz-json-1.1, application/x-amz-cbor-1.1), the AWS
// timestamp encoding, the table of AWS error types with their HTTP status,
// wire __type and retriability, request IDs, and the hand-written,
// allocation-free PutRecords decoder and JSON append helpers used on the hot
// paths.
//
// It knows nothing about streams, shards or storage: operation semantics,
// validation messages and limits belong to internal/app/streams. It must not
// import any other tenantpulse package.
//
// Non-obvious:
//   - CBOR timestamps are tag 1 holding an integer number of epoch
//     milliseconds, which is what the AWS Java SDK v2 sends and expects; RFC
//     8949 says seconds. Floats (tag 1 or bare) are read as seconds.
//   - Everything the PutRecords decoder returns aliases the request body or
//     the decoder's arena: it stays valid only until the next Decode call on
//     the same PutRecordsRequest and while the body is not modified.
//   - The zero Codec writes as JSON, so a handler can report an unsupported
//     Content-Type with WriteError(w, 0, ...).
package awswire
