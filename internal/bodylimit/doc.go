// Package bodylimit owns what a request body may cost the server: a memory
// budget shared by every request body being read (Budget), a read deadline
// per body (Handler, for net/http), one reader that reserves from the
// budget as bytes arrive (Body, which the fast path in internal/httpfast
// uses too) and one function that reads a body into a buffer grown with
// the bytes received, never with the length a client declares (ReadAll).
//
// It knows nothing about the APIs: a service maps ErrBusy to its own
// throttling answer (SlowDown-like, retriable) and ErrTimeout to its own
// error shape.
//
// Non-obvious:
//   - The budget counts body bytes read by requests still being served.
//     ReadAll keeps what does not fit in the caller's buffer in chunks of
//     what arrived (4 KiB doubling to 64 KiB) and copies them into one
//     buffer of the exact size at EOF, so a body in flight holds about what
//     the budget counts, and one that stalls or is throttled leaves little
//     garbage. At most 4 MiB of free chunks are kept for reuse.
//   - A reservation that does not fit fails at once (no waiting): a client
//     told to retry is cheaper than a server holding its bytes.
//   - When the bytes in flight fall back to zero after a peak of at least
//     Options.ReturnAbove, the heap is given back to the operating system
//     (debug.FreeOSMemory, at most once per ReturnEvery), so an attack's
//     memory does not stay in the RSS until the runtime's next periodic GC.
package bodylimit
