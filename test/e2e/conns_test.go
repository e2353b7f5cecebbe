package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Connections and bodies cannot exhaust the process (issue 14, part 5):
// idle connections at the file-descriptor limit, and slow uploads against
// the in-flight body budget and the body timeout.

// limitFDs sets the server's RLIMIT_NOFILE (soft and hard) to n, as
// `ulimit -n n` before it started would have, but after the server chose
// its connection cap from the limit it started with.
func limitFDs(t *testing.T, srv *server, n uint64) {
	t.Helper()
	lim := unix.Rlimit{Cur: n, Max: n}
	if err := unix.Prlimit(srv.cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatalf("cannot set the server's file-descriptor limit to %d: %v", n, err)
	}
}

// openIdle opens n TCP connections to addr that send nothing; they are
// closed when the test ends.
func openIdle(t *testing.T, addr string, n int) {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("connection %d of %d: %v (the test process needs %d file descriptors)", i+1, n, err, n+100)
		}
		conns = append(conns, c)
	}
}

// healthy checks, on a fresh connection each time, that /healthz answers
// ok and the process is alive.
func healthy(t *testing.T, srv *server) {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		if srv.exited() {
			t.Fatalf("the server exited: %v", srv.waitErr)
		}
		resp, err := hc.Get(srv.url + "/healthz")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(b) != "ok\n" {
			return fmt.Errorf("GET /healthz: %s %q", resp.Status, b)
		}
		return nil
	})
}

// metric returns the value of an unlabelled metric from /metrics.
func metric(t *testing.T, srv *server, name string) float64 {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics: %s", line)
			}
			return f
		}
	}
	t.Fatalf("/metrics lacks %s", name)
	return 0
}

// TestConnsAtFDLimit: with 1,024 file descriptors, 1,100 idle connections
// leave the server up and /healthz answering on a fresh connection, both
// when the connection cap is above what the descriptors allow (accept
// fails with EMFILE: the server backs off, closes the longest idle
// connection, and goes on) and when the cap is below it.
func TestConnsAtFDLimit(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"cap above the fd limit (EMFILE)", []string{"--max-connections", "5000"}},
		{"cap below the fd limit", []string{"--max-connections", "700"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, c.args...)
			limitFDs(t, srv, 1024)
			openIdle(t, srv.addr, 1100)
			healthy(t, srv)
			healthy(t, srv) // and again, on another fresh connection
			open := metric(t, srv, "tenantpulse_http_open_connections")
			evicted := metric(t, srv, "tenantpulse_http_evicted_connections_total")
			t.Logf("1,100 idle connections, ulimit -n 1024: %v open, %v evicted", open, evicted)
			if open > 1024 || evicted == 0 {
				t.Errorf("%v connections open, %v evicted; want at most 1024 open and some evicted", open, evicted)
			}
		})
	}
}

// rssBytes is the server's resident set size (VmRSS).
func rssBytes(t *testing.T, srv *server) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("cannot read the server's memory use: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS: %q", v)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/PID/status")
	return 0
}

// rssBack waits until the server's RSS is back within 32 MiB of before
// and returns it.
func rssBack(t *testing.T, srv *server, before int64) int64 {
	t.Helper()
	var after int64
	waitFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		after = rssBytes(t, srv)
		if after-before > 32*mib {
			return fmt.Errorf("RSS %d MiB, %d MiB before the uploads", after/mib, before/mib)
		}
		return nil
	})
	return after
}

// upload is a request whose body stalls: its head declares declared
// bytes, sent of them go out, then nothing. Its answer, if the server
// gives one, arrives on answer as "STATUS CODE" (the /v1 error code or the
// AWS error type).
type upload struct {
	c      net.Conn
	answer chan string
}

func stallUpload(t *testing.T, addr, head string, declared, sent int, chunk []byte) *upload {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	u := &upload{c: c, answer: make(chan string, 1)}
	t.Cleanup(func() { c.Close() })
	go func() {
		if _, err := fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n", head, declared); err != nil {
			return
		}
		for left := sent; left > 0; left -= len(chunk) {
			if _, err := c.Write(chunk[:min(left, len(chunk))]); err != nil {
				return // the server answered and closed
			}
		}
	}()
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			u.answer <- "no answer: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code := resp.Header.Get("X-Amzn-Errortype") // the AWS APIs
		if code == "" {
			var e struct{ Error string } // /v1's {"error": CODE, "message": ...}
			if json.Unmarshal(b, &e) != nil {
				e.Error = string(b)
			}
			code = e.Error
		}
		u.answer <- fmt.Sprintf("%d %s retry-after=%s", resp.StatusCode, code, resp.Header.Get("Retry-After"))
	}()
	return u
}

// stallUploads starts n uploads that stall after 4 MiB of the 5 MiB they
// declare, half to /v1/events and half to the Kinesis API (PutRecords).
func stallUploads(t *testing.T, srv *server, n int) []*upload {
	t.Helper()
	chunk := make([]byte, 64<<10)
	var uploads []*upload
	for i := range n {
		head := eventsHead
		if i%2 == 1 {
			head = kinesisHead
		}
		uploads = append(uploads, stallUpload(t, srv.addr, head, 5*mib, 4*mib, chunk))
	}
	return uploads
}

// collect waits until want answers came from uploads (or the deadline),
// and returns them with how many they are.
func collect(uploads []*upload, want int, deadline time.Duration) (answers []string) {
	timeout := time.After(deadline)
	pending := append([]*upload(nil), uploads...)
	for len(answers) < want {
		progressed := false
		for i := 0; i < len(pending); i++ {
			select {
			case a := <-pending[i].answer:
				answers = append(answers, a)
				pending = append(pending[:i], pending[i+1:]...)
				i--
				progressed = true
			default:
			}
		}
		if !progressed {
			select {
			case <-timeout:
				return answers
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return answers
}

const (
	mib         = 1 << 20
	eventsHead  = "POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
	kinesisHead = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.PutRecords\r\n"
)

// TestSlowBodiesBudget: uploads that stall after 4 MiB each hold about the
// in-flight budget; the ones past it are throttled at once, with 429
// TooManyRequests on /v1 and the throttling error on the Kinesis API, long
// before the body timeout (60 s) could end them. (Bodies reserve as they
// are read, so a dozen or so hold parts of the 32 MiB when it is full.)
func TestSlowBodiesBudget(t *testing.T) {
	srv := startServer(t, "--max-inflight-bytes", strconv.Itoa(32*mib))
	before := rssBytes(t, srv)
	const n, held = 96, 24
	uploads := stallUploads(t, srv, n)
	answers := collect(uploads, n-held, 30*time.Second)
	after := rssBytes(t, srv)
	inflight := metric(t, srv, "tenantpulse_http_inflight_body_bytes")
	t.Logf("%d uploads stalled after 4 MiB of 5 MiB: RSS %d MiB before, %d MiB with them; %d throttled, %.1f MiB in flight",
		n, before/mib, after/mib, len(answers), inflight/mib)
	if len(answers) < n-held {
		t.Errorf("%d of %d uploads answered within 30 s; want at least %d throttled at once (budget 32 MiB):\n%s",
			len(answers), n, n-held, strings.Join(answers, "\n"))
	}
	for _, a := range answers {
		if a != "429 TooManyRequests retry-after=1" && a != "400 ProvisionedThroughputExceededException retry-after=" {
			t.Errorf("an upload past the budget was answered %q; want 429 TooManyRequests (/v1/events) or ProvisionedThroughputExceededException (Kinesis)", a)
		}
	}
	if inflight > 32*mib {
		t.Errorf("%.1f MiB of bodies in flight; the budget is 32 MiB", inflight/mib)
	}
	// The bodies in flight, in chunks of what arrived, and the runtime's
	// slack: well under what the uploads sent (384 MiB).
	if grown := after - before; grown > 96*mib {
		t.Errorf("the server's RSS grew by %d MiB with %d stalled uploads (%d MiB sent); the budget is 32 MiB", grown/mib, n, n*4)
	}
	healthy(t, srv)
}

// TestSlowBodiesTimeout: uploads that stall are cut after --body-timeout,
// and the memory they held goes back.
func TestSlowBodiesTimeout(t *testing.T) {
	srv := startServer(t, "--body-timeout", "3s")
	before := rssBytes(t, srv)
	const n = 24
	uploads := stallUploads(t, srv, n)
	var peak int64
	waitFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		peak = max(peak, rssBytes(t, srv))
		if in := metric(t, srv, "tenantpulse_http_inflight_body_bytes"); in < n*4*mib {
			return fmt.Errorf("%v body bytes in flight, want %d", in, n*4*mib)
		}
		return nil
	})
	answers := collect(uploads, n, 30*time.Second)
	if len(answers) != n {
		t.Fatalf("%d of %d stalled uploads were answered within 30 s; --body-timeout is 3 s", len(answers), n)
	}
	for _, a := range answers {
		if !strings.HasPrefix(a, "408 ") && !strings.HasPrefix(a, "400 SerializationException") {
			t.Errorf("a stalled upload was answered %q; want 408 (/v1/events) or 400 SerializationException (Kinesis)", a)
		}
	}
	after := rssBack(t, srv, before)
	t.Logf("%d uploads stalled after 4 MiB: RSS %d MiB before, peak %d MiB, %d MiB after the body timeout",
		n, before/mib, peak/mib, after/mib)
	if in := metric(t, srv, "tenantpulse_http_inflight_body_bytes"); in != 0 {
		t.Errorf("%v body bytes still in flight", in)
	}
}

// TestSlowBodiesH2C: the same on one h2c connection: each stream's body
// reserves from the budget and has its own read deadline, so streams
// past the budget are throttled at once and the stalled ones are cut
// after --body-timeout, with the memory given back.
func TestSlowBodiesH2C(t *testing.T) {
	srv := startServer(t, "--max-inflight-bytes", strconv.Itoa(32*mib), "--body-timeout", "5s")
	before := rssBytes(t, srv)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	chunk := make([]byte, 64<<10)
	const n = 64
	answers := make(chan string, n)
	for range n {
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.Close() })
		go func() {
			for left := 4 * mib; left > 0; left -= len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					return
				}
			}
		}()
		req, _ := http.NewRequest("POST", srv.url+"/v1/events", pr)
		req.ContentLength = 5 * mib
		req.Header.Set("Content-Type", "application/json")
		go func() {
			resp, err := hc.Do(req)
			if err != nil {
				answers <- "no answer: " + err.Error()
				return
			}
			resp.Body.Close()
			answers <- fmt.Sprintf("%d %s", resp.StatusCode, resp.Proto)
		}()
	}
	got := map[string]int{}
	var during int64
	for i := range n {
		select {
		case a := <-answers:
			got[a]++
		case <-time.After(60 * time.Second):
			t.Fatalf("%d of %d streams answered within 60 s: %v", i, n, got)
		}
		if i == n/2 {
			during = rssBytes(t, srv)
		}
	}
	after := rssBack(t, srv, before)
	t.Logf("%d h2c streams stalled after 4 MiB of 5 MiB on one connection: RSS %d MiB before, %d MiB with half answered, %d MiB after; answers %v",
		n, before/mib, during/mib, after/mib, got)
	if got["429 HTTP/2.0"] < n/2 || got["429 HTTP/2.0"]+got["408 HTTP/2.0"] != n {
		t.Errorf("answers %v; want most streams throttled (429) at once and the rest cut (408) after the body timeout", got)
	}
	if during-before > 96*mib {
		t.Errorf("the server's RSS grew by %d MiB with %d stalled streams; the budget is 32 MiB", (during-before)/mib, n)
	}
}
