package httpfast

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tenantpulse/tenantpulse/internal/bodylimit"
)

// startWith serves s on a fresh listener (wrapped by wrap, if set) until
// the test ends.
func startWith(t *testing.T, s *Server, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-errc; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return addr
}

func newServer(h http.HandlerFunc) *Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /other", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") })
	return &Server{
		HTTP:   &http.Server{Handler: mux},
		Routes: []Route{{Method: "POST", Prefix: "/endpoints/", Suffix: "/invocations", Param: "name", Handler: h}},
	}
}

// waitFor polls f until it is true or the deadline passes.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !f(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// emfileListener fails its first n Accepts with EMFILE, as accept(2) does
// when the process is out of file descriptors.
type emfileListener struct {
	net.Listener
	n atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.n.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

func TestAcceptRetriesEMFILE(t *testing.T) {
	s := newServer(echo)
	var el *emfileListener
	addr := startWith(t, s, func(ln net.Listener) net.Listener {
		el = &emfileListener{Listener: ln}
		el.n.Store(4) // 5+10+20+40 ms of backoff
		return el
	})
	got := roundTrips(t, addr, fastReq, 1)
	if want := "202 POST /endpoints/a/invocations name=a accept= len=3 body=1,2"; got[0] != want {
		t.Errorf("got %q, want %q", got[0], want)
	}
	if n := el.n.Load(); n >= 0 {
		t.Errorf("%d EMFILE errors left; the server answered without retrying accept", n+1)
	}
}

// closedSoon reports whether the server closes c (EOF or reset) within 2 s
// without it sending anything.
func closedSoon(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := c.Read(make([]byte, 1))
	if n > 0 {
		return fmt.Errorf("the server sent a byte")
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return fmt.Errorf("the connection is still open after 2 s")
	}
	return nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func openConns(s *Server) int64 { open, _, _ := s.Conns(); return open }

// TestMaxConns: at the cap a new connection takes the place of the one
// that has waited longest for a request; when every one is busy, it is
// closed at once.
func TestMaxConns(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	entered := make(chan struct{}, 4)
	s := newServer(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		io.WriteString(w, "done")
	})
	s.MaxConns = 2
	addr := startWith(t, s, nil)

	a := dial(t, addr)
	waitFor(t, "1 open connection", func() bool { return openConns(s) == 1 })
	b := dial(t, addr)
	waitFor(t, "2 open connections", func() bool { return openConns(s) == 2 })
	c := dial(t, addr)
	if err := closedSoon(a); err != nil {
		t.Errorf("the oldest silent connection, at the cap: %v; want it closed for the new one", err)
	}
	// b and c busy: a fourth connection has no room.
	for _, conn := range []net.Conn{b, c} {
		if _, err := io.WriteString(conn, fastReq); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the requests on the two connections were not served")
		}
	}
	d := dial(t, addr)
	if err := closedSoon(d); err != nil {
		t.Errorf("a connection with 2 busy ones open, MaxConns 2: %v; want it closed at once", err)
	}
	once.Do(func() { close(release) })
	for _, conn := range []net.Conn{b, c} {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("a busy connection lost its answer: %v", err)
		}
		resp.Body.Close()
	}
	if open, refused, evicted := s.Conns(); open != 2 || refused != 1 || evicted != 1 {
		t.Errorf("%d open, %d refused, %d evicted; want 2, 1 and 1", open, refused, evicted)
	}
}

// TestMaxConnsHandedOff: a connection net/http serves counts until it is
// closed, and is evicted when it is the longest idle.
func TestMaxConnsHandedOff(t *testing.T) {
	s := newServer(echo)
	s.MaxConns = 1
	addr := startWith(t, s, nil)
	x := dial(t, addr)
	x.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(x, "GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(x), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, handed := s.Stats(); handed != 1 || openConns(s) != 1 {
		t.Fatalf("%d handed off, %d open; want 1 and 1", handed, openConns(s))
	}
	// net/http reports the connection idle after it wrote the answer.
	waitFor(t, "the net/http connection idle", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		for tr := range s.track {
			return tr.idleSince.Load() > 0
		}
		return false
	})
	if got := roundTrips(t, addr, fastReq, 1); got[0] != "202 POST /endpoints/a/invocations name=a accept= len=3 body=1,2" {
		t.Errorf("a new connection at the cap, the other idle: %q", got[0])
	}
	if err := closedSoon(x); err != nil {
		t.Errorf("the idle net/http connection: %v; want it closed for the new one", err)
	}
	waitFor(t, "no open connection", func() bool { return openConns(s) == 0 })
}

// TestSilentConnHeadTimeout: a new connection that sends nothing is closed
// after HeadTimeout, not kept for IdleTimeout.
func TestSilentConnHeadTimeout(t *testing.T) {
	s := newServer(echo)
	s.HeadTimeout, s.IdleTimeout = 200*time.Millisecond, time.Minute
	addr := startWith(t, s, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := closedSoon(c); err != nil {
		t.Errorf("a silent connection, HeadTimeout 200ms, IdleTimeout 1m: %v", err)
	}
}

// TestBodyGrowsWithBytes: a request declaring 1 MiB that has sent 10 bytes
// has not cost the server 1 MiB: the handler sees the bytes as they come.
func TestBodyGrowsWithBytes(t *testing.T) {
	got := make(chan []byte, 1)
	s := newServer(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 10)
		io.ReadFull(r.Body, b)
		got <- b
		io.Copy(io.Discard, r.Body)
	})
	s.MaxBody = 2 << 20
	addr := startWith(t, s, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	fmt.Fprintf(c, "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n0123456789", 1<<20)
	var b []byte
	for deadline := time.Now().Add(2 * time.Second); b == nil && time.Now().Before(deadline); {
		select {
		case b = <-got:
		case <-time.After(10 * time.Millisecond):
			if runtime.ReadMemStats(&m1); m1.TotalAlloc-m0.TotalAlloc >= 1<<20 {
				t.Fatalf("the server allocated %d bytes for a body of 10 bytes so far (1 MiB declared)", m1.TotalAlloc-m0.TotalAlloc)
			}
		}
	}
	runtime.ReadMemStats(&m1)
	if string(b) != "0123456789" {
		t.Fatalf("the handler read %q, want the 10 bytes sent, before the rest of the body", b)
	}
	if d := m1.TotalAlloc - m0.TotalAlloc; d > 256<<10 {
		t.Errorf("%d bytes allocated serving 10 bytes of a 1 MiB body", d)
	}
}

// bodyErr answers with the error reading the body gave, if any.
func bodyErr(w http.ResponseWriter, r *http.Request) {
	_, err := io.ReadAll(r.Body)
	switch {
	case errors.Is(err, bodylimit.ErrBusy):
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "busy")
	case errors.Is(err, bodylimit.ErrTimeout):
		w.WriteHeader(http.StatusRequestTimeout)
		io.WriteString(w, "timeout")
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, err.Error())
	default:
		io.WriteString(w, "ok")
	}
}

func TestFastBodyTimeout(t *testing.T) {
	s := newServer(bodyErr)
	s.BodyTimeout = 200 * time.Millisecond
	addr := startWith(t, s, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || string(b) != "timeout" || !resp.Close {
		t.Errorf("%d %q close=%v; want 408 timeout and the connection closed", resp.StatusCode, b, resp.Close)
	}
}

func TestFastBodyBudget(t *testing.T) {
	s := newServer(bodyErr)
	s.Budget = bodylimit.NewBudget(bodylimit.Options{Max: 100})
	addr := startWith(t, s, nil)
	body := strings.Repeat("x", 60)
	req := "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n" + body
	if got := roundTrips(t, addr, req+req, 2); got[0] != "200 ok" || got[1] != "200 ok" {
		t.Errorf("bodies within the budget, one at a time: %q", got)
	}
	big := "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n" + strings.Repeat("x", 200)
	if got := roundTrips(t, addr, big, 1); got[0] != "503 busy" {
		t.Errorf("a body past the budget: %q, want 503 busy", got[0])
	}
	if n := s.Budget.InUse(); n != 0 {
		t.Errorf("%d bytes still reserved after the requests", n)
	}
}

// TestFastBodyBudgetAnswerArrives: a body throttled with most of it
// unread still gets its answer to the client (the connection is not reset
// under it).
func TestFastBodyBudgetAnswerArrives(t *testing.T) {
	s := newServer(bodyErr)
	s.MaxBody = 4 << 20
	s.Budget = bodylimit.NewBudget(bodylimit.Options{Max: 1000})
	addr := startWith(t, s, nil)
	for i := range 20 {
		c := dial(t, addr)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		go func() {
			fmt.Fprintf(c, "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 2<<20)
			c.Write(make([]byte, 2<<20))
		}()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("request %d: no answer to a body past the budget: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
			t.Errorf("request %d: %d close=%v, want 503 and the connection closed", i, resp.StatusCode, resp.Close)
		}
	}
}
