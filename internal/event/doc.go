// Package event owns tenantpulse's domain events: the CloudEvents 1.0
// envelope (structured JSON mode) of the tenant domain, the known event
// types and their data fields, the fast decoder that validates them, the
// routing of each type to a stream with the tenant as partition key, and
// the stored form of an event (the server-set receivedtime extension).
//
// It does not touch streams, storage or HTTP: callers decode with a
// Decoder, route with Type.Stream and Event.TenantID, and write what
// AppendStored returns. It must not import any other tenantpulse package.
//
// The field table in fields.go is the single source of truth: the
// validator and the JSON Schemas returned by Schema (and printed in
// docs/events.md) are both derived from it.
//
// Non-obvious:
//   - Everything a Decoder returns aliases the input or the Decoder's
//     scratch buffer and stays valid only until the next Decode on the same
//     Decoder and while the input is not modified.
//   - Decode checks the whole value is strict JSON (RFC 8259), including
//     UTF-8 inside strings, which encoding/json's Valid does not check, and
//     the same nesting limit as encoding/json (10000 levels). So whatever
//     decodes without a *SyntaxError is safe to store and re-serve.
//   - A *FieldError comes with a correct end offset, so a caller reading a
//     concatenation or an array of events can report the one bad event and
//     go on with the next.
//   - Member names are matched case-sensitively after unescaping, so
//     "\u0074ime" is the time attribute (and a duplicate of a plain "time").
//   - A tenantid that held an unpaired surrogate escape is refused, not
//     decoded to U+FFFD as other strings are: two such ids would merge.
//   - When data precedes type in an event, data is syntax-checked in the
//     single pass and validated afterwards from its recorded span, once the
//     type is known.
package event
