package httpfast

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
)

// Route is a request the fast path serves: Method and a path of Prefix,
// one segment of letters, digits and '-' (the path value Param), and
// Suffix, e.g. POST /endpoints/{name}/invocations.
type Route struct {
	Method, Prefix, Suffix, Param string
	Handler                       http.Handler
}

// Server serves Routes itself and everything else with HTTP.
type Server struct {
	HTTP   *http.Server // serves the connections handed off; its Handler need not know the routes
	Routes []Route
	// MaxBody: a request with a longer body goes to HTTP. Default 1 MiB.
	MaxBody int64
	// IdleTimeout closes a fast connection with no request this long (see
	// the package doc). Default HTTP.IdleTimeout, else 5 minutes.
	IdleTimeout time.Duration
	// HeadTimeout bounds the time from a new connection, or from a request's
	// first bytes on a kept-alive one, to the request's whole head. Default
	// HTTP.ReadHeaderTimeout, else 30 s.
	HeadTimeout time.Duration
	// BodyTimeout bounds the time from a fast request's head to its whole
	// body. Default 60 s. (Bodies net/http reads get theirs from
	// bodylimit.Handler.)
	BodyTimeout time.Duration
	// Budget, if set, is what the bodies of fast requests reserve their
	// bytes from as they are read (see internal/bodylimit).
	Budget *bodylimit.Budget
	// MaxConns caps the open connections, on both paths. A connection
	// accepted at the cap takes the place of the one that has waited
	// longest for a request (idle, or new and silent), or is closed at once
	// when every connection is busy. 0: no cap.
	MaxConns int
	Logger   *slog.Logger

	closing  atomic.Bool
	mu       sync.Mutex // guards hl (set by Serve), conns, track and tracked.c
	hl       *handoffListener
	conns    map[*conn]struct{}
	track    map[*tracked]struct{} // every open connection, on both paths
	wg       sync.WaitGroup
	served   atomic.Int64
	handed   atomic.Int64
	open     atomic.Int64 // connections accepted and not closed yet
	refused  atomic.Int64 // connections closed at once: MaxConns were open
	evicted  atomic.Int64 // idle connections closed to make room
	lastWarn atomic.Int64 // unix seconds of the last warning about connections
}

// tracked is one open connection, whichever path serves it: what to close
// to evict it, and since when it has been waiting for a request.
type tracked struct {
	c         net.Conn     // guarded by Server.mu
	idleSince atomic.Int64 // unix ns; 0: busy with a request; evictedMark: being closed
}

const evictedMark = -1

// setIdle marks the connection waiting for a request since now.
func (t *tracked) setIdle(now int64) {
	for v := t.idleSince.Load(); v != evictedMark && !t.idleSince.CompareAndSwap(v, now); v = t.idleSince.Load() {
	}
}

// setBusy marks it busy; false when it was evicted (it is being closed).
func (t *tracked) setBusy() bool {
	for {
		v := t.idleSince.Load()
		if v == evictedMark {
			return false
		}
		if v == 0 || t.idleSince.CompareAndSwap(v, 0) {
			return true
		}
	}
}

// evictSample bounds the idle connections evictIdle compares, so making
// room costs the same with 100 or 10,000 connections open.
const evictSample = 64

// evictIdle closes the connection that has waited longest for a request
// among a random sample of evictSample idle ones (all of them when fewer),
// to make room for a new one; false when every connection is busy.
func (s *Server) evictIdle() bool {
	s.mu.Lock()
	var victim *tracked
	for tries := 0; victim == nil && tries < 3; tries++ {
		var oldest *tracked
		var since int64
		seen := 0
		for t := range s.track { // random order: a sample, as Redis evicts
			if v := t.idleSince.Load(); v > 0 {
				if oldest == nil || v < since {
					oldest, since = t, v
				}
				if seen++; seen == evictSample {
					break
				}
			}
		}
		if oldest == nil {
			break
		}
		if oldest.idleSince.CompareAndSwap(since, evictedMark) {
			victim = oldest
		}
	}
	var c net.Conn
	if victim != nil {
		c = victim.c
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	c.Close()
	s.evicted.Add(1)
	return true
}

// warnConns logs a warning about connections at most once per 10 s.
func (s *Server) warnConns(msg string, args ...any) {
	if now := time.Now().Unix(); s.lastWarn.Load() < now-10 {
		s.lastWarn.Store(now)
		s.Logger.Warn(msg, append(args, "max_connections", s.MaxConns, "open", s.open.Load(),
			"refused_so_far", s.refused.Load(), "evicted_so_far", s.evicted.Load())...)
	}
}

// Stats: requests served on the fast path, connections handed to HTTP.
func (s *Server) Stats() (served, handedOff int64) { return s.served.Load(), s.handed.Load() }

// Conns: connections open now, those closed at once because MaxConns
// were open and busy, and idle ones closed to make room for new ones.
func (s *Server) Conns() (open, refused, evicted int64) {
	return s.open.Load(), s.refused.Load(), s.evicted.Load()
}

// Collectors returns Stats as Prometheus counters.
func (s *Server) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_fast_requests_total",
			Help: "Requests served on the fast path (InvokeEndpoint on HTTP/1.1 keep-alive connections)."},
			func() float64 { return float64(s.served.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_handed_off_connections_total",
			Help: "Connections the fast path handed to net/http (other routes, HTTP/2, unusual requests)."},
			func() float64 { return float64(s.handed.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tenantpulse_http_open_connections",
			Help: "Client connections open now (fast path and net/http)."},
			func() float64 { return float64(s.open.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_refused_connections_total",
			Help: "Connections closed as soon as accepted because --max-connections were open and busy."},
			func() float64 { return float64(s.refused.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_evicted_connections_total",
			Help: "Idle connections closed to make room for a new one (at --max-connections or out of file descriptors)."},
			func() float64 { return float64(s.evicted.Load()) }),
	}
}

// Serve accepts connections on ln until Shutdown or an accept error, like
// http.Server.Serve, and returns http.ErrServerClosed after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if s.MaxBody <= 0 {
		s.MaxBody = 1 << 20
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = s.HTTP.IdleTimeout
		if s.IdleTimeout <= 0 {
			s.IdleTimeout = 5 * time.Minute
		}
	}
	if s.HeadTimeout <= 0 {
		s.HeadTimeout = s.HTTP.ReadHeaderTimeout
		if s.HeadTimeout <= 0 {
			s.HeadTimeout = 30 * time.Second
		}
	}
	if s.BodyTimeout <= 0 {
		s.BodyTimeout = 60 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	s.mu.Lock()
	if s.closing.Load() { // Shutdown came first
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.conns = map[*conn]struct{}{}
	s.track = map[*tracked]struct{}{}
	s.hl = &handoffListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
	// net/http says when a handed-off connection waits for a request.
	prev := s.HTTP.ConnState
	s.HTTP.ConnState = func(c net.Conn, st http.ConnState) {
		if bc, ok := c.(*bufferedConn); ok {
			switch st {
			case http.StateIdle:
				bc.t.setIdle(time.Now().UnixNano())
			case http.StateActive:
				bc.t.setBusy()
			}
		}
		if prev != nil {
			prev(c, st)
		}
	}
	s.mu.Unlock()
	acceptErr := make(chan error, 1)
	go func() { acceptErr <- s.accept(ln) }()
	err := s.HTTP.Serve(s.hl)
	if s.closing.Load() {
		err = http.ErrServerClosed // Shutdown closed the listener before HTTP knew
	}
	select {
	case aerr := <-acceptErr:
		if aerr != nil && !errors.Is(err, http.ErrServerClosed) {
			return aerr
		}
	default:
	}
	return err
}

// accept accepts until the listener closes. A temporary error (EMFILE
// when the process is out of file descriptors, ECONNABORTED, ...) is
// retried after a pause, 5 ms doubling to 1 s, as net/http does; any other
// error stops the server.
func (s *Server) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					// Out of descriptors: an idle connection makes room.
					if s.evictIdle() {
						delay = 5 * time.Millisecond // its descriptor is freed as its reader wakes
					}
				}
				s.warnConns("accept failed; retrying", "error", err, "in", delay)
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-s.hl.done:
					t.Stop()
					return nil
				}
				continue
			}
			s.hl.Close()
			return fmt.Errorf("cannot accept connections: %w", err)
		}
		delay = 0
		if s.MaxConns > 0 && s.open.Load() >= int64(s.MaxConns) {
			if !s.evictIdle() {
				c.Close()
				s.refused.Add(1)
				s.warnConns("too many open connections, all busy; closing new ones at once")
				continue
			}
			s.warnConns("too many open connections; closing the longest idle ones to make room")
		}
		fc := &conn{s: s, c: c, remote: c.RemoteAddr().String()}
		fc.t.c = c
		fc.t.idleSince.Store(time.Now().UnixNano()) // new and silent: evictable
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.open.Add(1)
		s.track[&fc.t] = struct{}{}
		s.conns[fc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go fc.serve()
	}
}

// temporary reports whether an accept error may go away by itself: a
// timeout, or running out of descriptors, buffers or memory, or a
// connection that went before it was accepted.
func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Shutdown stops accepting, closes idle fast connections, waits for the
// fast requests in progress, then shuts HTTP down (http.Server.Shutdown).
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.hl != nil {
		s.hl.Close()
	}
	for c := range s.conns {
		c.c.SetReadDeadline(time.Now()) // an idle one wakes and closes; a busy one closes after its answer
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.c.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
	return s.HTTP.Shutdown(ctx)
}

// conn is one connection in the fast path.
type conn struct {
	s        *Server
	c        net.Conn
	t        tracked
	remote   string
	br       *bufio.Reader
	h        head
	out      []byte
	lr       limitedBody    // the request body on the connection
	body     bodylimit.Body // lr, reserving from the budget
	w        responseWriter
	deadline time.Time // the read deadline set, zero: none
}

// limitedBody is the body's bytes on the connection.
type limitedBody struct{ io.LimitedReader }

func (*limitedBody) Close() error { return nil }

// readBufSize is a fast connection's read buffer: a request head must fit
// in it to be served here.
const readBufSize = 16 << 10

func (c *conn) serve() {
	s := c.s
	handed := false
	defer func() {
		if r := recover(); r != nil {
			s.Logger.Error("panic serving a fast request", "remote", c.remote, "panic", r)
		}
		if !handed {
			c.c.Close()
			s.open.Add(-1)
		}
		s.mu.Lock()
		delete(s.conns, c)
		if !handed {
			delete(s.track, &c.t)
		}
		s.mu.Unlock()
		s.wg.Done()
	}()
	c.br = bufio.NewReaderSize(c.c, readBufSize)
	// A new connection has HeadTimeout for its first request's head, as
	// on net/http; a kept-alive one IdleTimeout for the next request to start.
	c.deadline = time.Now().Add(s.HeadTimeout)
	c.c.SetReadDeadline(c.deadline)
	for first := true; ; first = false {
		now := time.Now()
		if !first && c.deadline.Sub(now) < s.IdleTimeout/2 {
			c.deadline = now.Add(s.IdleTimeout)
			c.c.SetReadDeadline(c.deadline)
		}
		if s.closing.Load() {
			return
		}
		if !first && c.br.Buffered() == 0 {
			c.t.setIdle(now.UnixNano())
		}
		var verdict int
		for {
			n := c.br.Buffered()
			if n > 0 {
				if !c.t.setBusy() {
					return // evicted while it waited
				}
				b, _ := c.br.Peek(n)
				if verdict = parseHead(b, s.Routes, s.MaxBody, &c.h); verdict != needMore {
					break
				}
				if n == readBufSize {
					verdict = handOff // a head too long for the fast path
					break
				}
				// A head in pieces has HeadTimeout to arrive whole.
				if hd := time.Now().Add(s.HeadTimeout); hd.Before(c.deadline) {
					c.deadline = hd
					c.c.SetReadDeadline(hd)
				}
			}
			if _, err := c.br.Peek(n + 1); err != nil {
				return // closed, timed out or shut down before a whole head came
			}
		}
		if verdict == handOff {
			handed = c.handOff()
			return
		}
		if !c.serveOne() {
			return
		}
	}
}

// handOff gives the connection, with the bytes read, to HTTP.
func (c *conn) handOff() bool {
	c.c.SetReadDeadline(time.Time{})
	c.s.handed.Add(1)
	bc := &bufferedConn{Conn: c.c, r: c.br, s: c.s, t: &c.t}
	c.s.mu.Lock()
	c.t.c = bc // evicting it now closes it as net/http's
	c.s.mu.Unlock()
	return c.s.hl.give(bc)
}

// serveOne serves the request whose head c.h holds; false when the
// connection cannot go on.
func (c *conn) serveOne() bool {
	s := c.s
	h := &c.h
	rt := &s.Routes[h.route]
	hdr := make(http.Header, len(h.fields))
	for _, f := range h.fields {
		k := textproto.CanonicalMIMEHeaderKey(string(f.name))
		hdr[k] = append(hdr[k], string(f.value))
	}
	target := string(h.target)
	req := &http.Request{
		Method: rt.Method, URL: &url.URL{Path: target}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, ContentLength: h.contentLength, Host: string(h.host), RemoteAddr: c.remote,
		RequestURI: target, Close: h.close,
	}
	req.SetPathValue(rt.Param, string(h.segment))
	c.br.Discard(h.size)
	// The handler reads the body from the connection as it arrives (its
	// buffer grows with the bytes, not with Content-Length), within
	// BodyTimeout and reserving from the budget.
	c.lr = limitedBody{io.LimitedReader{R: c.br, N: h.contentLength}}
	c.body.Reset(&c.lr, s.Budget, s.BodyTimeout)
	req.Body = http.NoBody
	if n := h.contentLength; n > 0 {
		if int64(c.br.Buffered()) < n {
			c.deadline = time.Now().Add(s.BodyTimeout)
			c.c.SetReadDeadline(c.deadline)
		}
		req.Body = &c.body
	}
	c.w.reset()
	rt.Handler.ServeHTTP(&c.w, req)
	c.body.Release()
	// What the handler left of a good body is skipped (bufio's Discard
	// allocates nothing); after a failed one the connection ends.
	ok := c.body.Err() == nil
	if ok && c.lr.N > 0 {
		_, err := c.br.Discard(int(c.lr.N))
		ok = err == nil
	}
	c.lr.N = 0
	closing := h.close || s.closing.Load() || !ok
	c.out = c.w.appendResponse(c.out[:0], closing)
	s.served.Add(1)
	if _, err := c.c.Write(c.out); err != nil {
		return false
	}
	if !ok {
		c.linger()
	}
	if cap(c.out) > keepBuf {
		c.out = nil
	}
	return !closing
}

// lingerTime is how long a connection closed with a body unread takes in
// what the client still sends, as net/http does: closing with bytes
// unread would reset the connection, and the client could lose the
// answer (a throttling error, say) before reading it.
const lingerTime = 500 * time.Millisecond

// linger half-closes the connection and drops what arrives for up to
// lingerTime, so the client reads the answer before the connection goes.
func (c *conn) linger() {
	if cw, ok := c.c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.c.SetReadDeadline(time.Now().Add(lingerTime))
	for {
		if _, err := c.br.Discard(readBufSize); err != nil {
			return
		}
	}
}

// keepBuf is the largest response buffer a connection keeps.
const keepBuf = 64 << 10

// responseWriter buffers a fast response.
type responseWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *responseWriter) reset() {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.status = 0
	w.body = w.body[:0]
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, p...)
	return len(p), nil
}

// appendResponse appends the HTTP/1.1 response: the status line, the
// handler's headers (but Content-Length, Date and Connection, which are
// the server's), a Content-Type sniffed as net/http does when the handler
// set none, then the body.
func (w *responseWriter) appendResponse(b []byte, close bool) []byte {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(w.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(w.status)...)
	b = append(b, "\r\n"...)
	for k, vs := range w.header {
		switch k {
		case "Content-Length", "Date", "Connection", "Transfer-Encoding":
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	if _, ok := w.header["Content-Type"]; !ok && len(w.body) > 0 {
		b = append(b, "Content-Type: "...)
		b = append(b, http.DetectContentType(w.body)...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(w.body)), 10)
	b = append(b, "\r\nDate: "...)
	b = appendDate(b)
	if close {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	return append(b, w.body...)
}

// dateCache holds the Date header's value, formatted once a second.
var dateCache atomic.Pointer[dateValue]

type dateValue struct {
	sec  int64
	text []byte
}

func appendDate(b []byte) []byte {
	now := time.Now()
	d := dateCache.Load()
	if d == nil || d.sec != now.Unix() {
		d = &dateValue{sec: now.Unix(), text: now.UTC().AppendFormat(nil, http.TimeFormat)}
		dateCache.Store(d)
	}
	return append(b, d.text...)
}

// bufferedConn is a connection handed off with the bytes already read; it
// counts itself out of the open connections when closed.
type bufferedConn struct {
	net.Conn
	r      *bufio.Reader
	s      *Server
	t      *tracked
	closed sync.Once
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufferedConn) Close() error {
	err := c.Conn.Close()
	c.closed.Do(func() {
		c.s.open.Add(-1)
		c.s.mu.Lock()
		delete(c.s.track, c.t)
		c.s.mu.Unlock()
	})
	return err
}

// handoffListener is what HTTP accepts from: the connections handed off.
type handoffListener struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) give(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *handoffListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.ln.Close()
	})
	return err
}

func (l *handoffListener) Addr() net.Addr { return l.ln.Addr() }
