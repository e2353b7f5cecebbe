package httpfast

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echo answers with what it was asked, so both paths can be compared.
func echo(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Name", r.PathValue("name"))
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "%s %s name=%s accept=%s len=%d body=%s", r.Method, r.URL.Path, r.PathValue("name"), r.Header.Get("Accept"), r.ContentLength, b)
}

func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := newServer(echo)
	s.HTTP.Handler.(*http.ServeMux).HandleFunc("POST /endpoints/{name}/invocations", echo)
	s.MaxBody = 1000
	return s, startWith(t, s, nil)
}

func TestFastKeepAlive(t *testing.T) {
	s, addr := start(t)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	for i := range 50 {
		body := fmt.Sprintf("1,%d", i)
		req, _ := http.NewRequest("POST", "http://"+addr+"/endpoints/ep-1/invocations", strings.NewReader(body))
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "POST /endpoints/ep-1/invocations name=ep-1 accept=application/json len=" + fmt.Sprint(len(body)) + " body=" + body
		if resp.StatusCode != 202 || string(b) != want || resp.Header.Get("X-Name") != "ep-1" ||
			resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("Date") == "" || resp.ContentLength != int64(len(want)) {
			t.Fatalf("%d %q %v, want 202 %q", resp.StatusCode, b, resp.Header, want)
		}
	}
	if served, handed := s.Stats(); served != 50 || handed != 0 {
		t.Errorf("%d served fast, %d handed off; want 50 and 0", served, handed)
	}
}

// roundTrips writes raw requests on one connection and reads n responses.
func roundTrips(t *testing.T, addr, raw string, n int) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var out []string
	for range n {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("after %d responses: %v", len(out), err)
		}
		for resp.StatusCode == http.StatusContinue {
			if resp, err = http.ReadResponse(br, nil); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, fmt.Sprintf("%d %s", resp.StatusCode, b))
	}
	return out
}

const fastReq = "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n1,2"

func TestPipelinedThenHandOff(t *testing.T) {
	s, addr := start(t)
	raw := fastReq + fastReq + "GET /other HTTP/1.1\r\nHost: x\r\n\r\n" + fastReq
	got := roundTrips(t, addr, raw, 4)
	fast := "202 POST /endpoints/a/invocations name=a accept= len=3 body=1,2"
	want := []string{fast, fast, "200 other", fast}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	if served, handed := s.Stats(); served != 2 || handed != 1 {
		t.Errorf("%d served fast, %d handed off; want 2 and 1", served, handed)
	}
}

func TestHandOffs(t *testing.T) {
	fast := "202 POST /endpoints/a/invocations name=a accept= len=3 body=1,2"
	for _, c := range []struct{ name, raw, want string }{
		{"chunked", "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n1,2\r\n0\r\n\r\n", "202 POST /endpoints/a/invocations name=a accept= len=-1 body=1,2"},
		{"expect", "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n1,2", fast},
		{"bare LF", "POST /endpoints/a/invocations HTTP/1.1\nHost: x\nContent-Length: 3\n\n1,2", fast},
		{"HTTP/1.0", "POST /endpoints/a/invocations HTTP/1.0\r\nHost: x\r\nContent-Length: 3\r\n\r\n1,2", fast},
		{"query", "POST /endpoints/a/invocations?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n1,2", fast},
		{"over MaxBody", "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n" + strings.Repeat("x", 1001), "202 POST /endpoints/a/invocations name=a accept= len=1001 body=" + strings.Repeat("x", 1001)},
		{"long head", "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 20000) + "\r\nContent-Length: 3\r\n\r\n1,2", fast},
		{"no host", "POST /endpoints/a/invocations HTTP/1.1\r\nContent-Length: 3\r\n\r\n1,2", "400 400 Bad Request: missing required Host header"},
		{"escaped name", "POST /endpoints/%61/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n1,2", fast},
		{"bad header", "POST /endpoints/a/invocations HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 3\r\n\r\n1,2", "400 400 Bad Request: invalid header name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, addr := start(t)
			got := roundTrips(t, addr, c.raw, 1)
			if got[0] != c.want {
				t.Errorf("got %q, want %q", got[0], c.want)
			}
			if served, handed := s.Stats(); served != 0 || handed != 1 {
				t.Errorf("%d served fast, %d handed off; want 0 and 1", served, handed)
			}
		})
	}
}

func TestConnectionClose(t *testing.T) {
	_, addr := start(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, strings.Replace(fastReq, "Host: x\r\n", "Host: x\r\nConnection: close\r\n", 1))
	b, err := io.ReadAll(c) // ends when the server closes
	if err != nil || !bytes.Contains(b, []byte("\r\nConnection: close\r\n")) || !bytes.HasSuffix(b, []byte("body=1,2")) {
		t.Errorf("%v %q", err, b)
	}
}

func TestShutdownClosesIdle(t *testing.T) {
	s, addr := start(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, fastReq)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("Shutdown took %v with an idle fast connection", d)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the idle connection read %d bytes, %v; want EOF", n, err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("the listener still accepts")
	}
}

func TestSlowHead(t *testing.T) {
	_, addr := start(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	// The head and body arrive a few bytes at a time.
	for i := 0; i < len(fastReq); i += 5 {
		io.WriteString(c, fastReq[i:min(i+5, len(fastReq))])
		time.Sleep(time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasSuffix(string(b), "body=1,2") {
		t.Errorf("%q", b)
	}
}

func TestHeadTimeout(t *testing.T) {
	mux := http.NewServeMux()
	s := &Server{HTTP: &http.Server{Handler: mux}, HeadTimeout: 200 * time.Millisecond,
		Routes: []Route{{Method: "POST", Prefix: "/endpoints/", Suffix: "/invocations", Param: "name", Handler: http.HandlerFunc(echo)}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(context.Background())
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, fastReq[:20]) // half a request line, then nothing
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	t0 := time.Now()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read %v, want EOF when the server gives up on the head", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("the server waited %v for a head, HeadTimeout is 200ms", d)
	}
}

// TestShutdownRacesServe stops servers at once after starting them, as a
// test's cleanup may: Serve returns http.ErrServerClosed whichever comes
// first, the listener is closed, and (under -race) nothing races.
func TestShutdownRacesServe(t *testing.T) {
	for i := range 100 {
		s := &Server{HTTP: &http.Server{Handler: http.NotFoundHandler()}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(ln) }()
		if i%2 == 0 {
			time.Sleep(time.Duration(i) * 10 * time.Microsecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		select {
		case err := <-errc:
			if err != http.ErrServerClosed {
				t.Fatalf("run %d: Serve returned %v", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d: Serve did not return after Shutdown", i)
		}
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			c.Close()
			t.Fatalf("run %d: the listener still accepts", i)
		}
	}
}
