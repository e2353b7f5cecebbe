// Package httpfast owns the server's listener: it serves a few hot routes
// (SageMaker's InvokeEndpoint) on HTTP/1.1 keep-alive connections itself,
// without net/http's per-request machinery, and hands every other
// connection to the net/http server, which serves it as if it had
// accepted it.
//
// A connection starts in the fast path. Each request head is parsed from
// the connection's read buffer without consuming it; when the request is a
// plain HTTP/1.1 request for a route (the method, a fixed prefix and
// suffix around one segment of letters, digits and '-', no query, a
// Content-Length body of at most MaxBody bytes, no Transfer-Encoding,
// Expect or Upgrade, exactly one Host, only CRLF line ends) it is served
// here: the route's http.Handler gets an *http.Request with the headers
// and the body, and an http.ResponseWriter that buffers the answer, sent
// in one write with Content-Length and Date. Anything else, from the
// first byte of the request on, goes to net/http with the bytes already
// read, and the connection stays there: HTTP/2 (h2c), other routes,
// chunked bodies, malformed requests (which net/http answers with its own
// errors).
//
// Limits (every connection is hostile until it has sent a request):
//   - A new connection has HeadTimeout for its first request's head; a
//     kept-alive one IdleTimeout for the next request to start, then
//     HeadTimeout for its head.
//   - A fast request's body is not read ahead: the handler reads it from
//     the connection as it arrives (so its buffer grows with the bytes
//     received, never with the declared Content-Length), within
//     BodyTimeout of the head, reserving its bytes from Budget
//     (internal/bodylimit); a body that fails ends the connection after
//     the answer.
//   - At most MaxConns connections are open, counting those handed to
//     net/http until it closes them. A connection accepted at the cap takes
//     the place of the one that has waited longest for a request among a
//     random sample of 64 idle ones (a new silent one, or one idle between
//     requests on either path, which
//     net/http reports through http.Server.ConnState), as nginx reuses
//     idle keep-alive connections; when every one is busy, the new one is
//     closed at once.
//   - An accept error that may pass (EMFILE when the process is out of
//     file descriptors, ...) is retried after 5 ms doubling to 1 s, as
//     net/http does, and never stops the server; out of descriptors, the
//     longest idle connection is closed first to make room.
//
// Non-obvious:
//   - A request head that arrives in pieces must be whole within
//     HeadTimeout of its first piece being seen.
//   - The idle timeout is refreshed lazily (when half of it is gone), so a
//     connection idle between IdleTimeout/2 and IdleTimeout is closed.
//   - Shutdown stops accepting, closes idle fast connections at once and
//     lets a request in progress finish; it then shuts the net/http server
//     down.
//   - Handlers see a Request whose Context is context.Background and
//     whose path value (Route.Param) is set; the ResponseWriter implements
//     neither Flusher nor Hijacker.
package httpfast
