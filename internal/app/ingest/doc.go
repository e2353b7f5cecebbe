// Package ingest owns the event API, POST /v1/events: the HTTP endpoint
// the SaaS company's services send their lifecycle events to. It parses a
// body of one event, a JSON array or NDJSON; validates each event with
// internal/event; drops repeats of an event (same id + source) seen within
// the dedupe window (internal/dedupe); stamps the receivedtime extension;
// routes each event to its stream and shard by tenant id; and answers, like
// PutRecords, with one result per event once the accepted ones are durable.
//
// It writes through the embedded stream store (internal/streamlog) with the
// same group commit as the Kinesis API, and must not touch segment files.
package ingest
