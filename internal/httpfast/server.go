package httpfast

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
	// HeadTimeout bounds the time from a request's first bytes to its whole
	// head. Default HTTP.ReadHeaderTimeout, else 30 s.
	HeadTimeout time.Duration
	Logger      *slog.Logger

	closing atomic.Bool
	mu      sync.Mutex // guards hl (set by Serve) and conns
	hl      *handoffListener
	conns   map[*conn]struct{}
	wg      sync.WaitGroup
	served  atomic.Int64
	handed  atomic.Int64
}

// Stats: requests served on the fast path, connections handed to HTTP.
func (s *Server) Stats() (served, handedOff int64) { return s.served.Load(), s.handed.Load() }

// Collectors returns Stats as Prometheus counters.
func (s *Server) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_fast_requests_total",
			Help: "Requests served on the fast path (InvokeEndpoint on HTTP/1.1 keep-alive connections)."},
			func() float64 { return float64(s.served.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "tenantpulse_http_handed_off_connections_total",
			Help: "Connections the fast path handed to net/http (other routes, HTTP/2, unusual requests)."},
			func() float64 { return float64(s.handed.Load()) }),
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
	s.hl = &handoffListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
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

func (s *Server) accept(ln net.Listener) error {
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.Logger.Warn("accept failed; retrying", "error", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			s.hl.Close()
			return err
		}
		delay = 0
		fc := &conn{s: s, c: c, remote: c.RemoteAddr().String()}
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[fc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go fc.serve()
	}
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
	remote   string
	br       *bufio.Reader
	h        head
	body     []byte
	out      []byte
	bodyR    bodyReader
	w        responseWriter
	deadline time.Time // the read deadline set, zero: none
}

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
		}
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()
	c.br = bufio.NewReaderSize(c.c, readBufSize)
	for {
		now := time.Now()
		if c.deadline.Sub(now) < s.IdleTimeout/2 {
			c.deadline = now.Add(s.IdleTimeout)
			c.c.SetReadDeadline(c.deadline)
		}
		if s.closing.Load() {
			return
		}
		var verdict int
		for {
			n := c.br.Buffered()
			if n > 0 {
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
		if !c.serveOne() || c.h.close || s.closing.Load() {
			return
		}
	}
}

// handOff gives the connection, with the bytes read, to HTTP.
func (c *conn) handOff() bool {
	c.c.SetReadDeadline(time.Time{})
	c.s.handed.Add(1)
	return c.s.hl.give(&bufferedConn{Conn: c.c, r: c.br})
}

// serveOne serves the request whose head c.h holds; false when the
// connection cannot go on.
func (c *conn) serveOne() bool {
	h := &c.h
	rt := &c.s.Routes[h.route]
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
	n := int(h.contentLength)
	if cap(c.body) < n {
		c.body = make([]byte, n)
	}
	c.body = c.body[:n]
	if _, err := io.ReadFull(c.br, c.body); err != nil {
		return false
	}
	c.bodyR = bodyReader{b: c.body}
	req.Body = &c.bodyR
	if n == 0 {
		req.Body = http.NoBody
	}
	c.w.reset()
	rt.Handler.ServeHTTP(&c.w, req)
	c.out = c.w.appendResponse(c.out[:0], h.close || c.s.closing.Load())
	if len(c.body) > keepBuf {
		c.body = nil
	}
	c.s.served.Add(1)
	if _, err := c.c.Write(c.out); err != nil {
		return false
	}
	if cap(c.out) > keepBuf {
		c.out = nil
	}
	return true
}

// keepBuf is the largest body or response buffer a connection keeps.
const keepBuf = 64 << 10

type bodyReader struct {
	b   []byte
	off int
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.off == len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

func (r *bodyReader) Close() error { return nil }

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

// bufferedConn is a connection handed off with the bytes already read.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

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
